"""commgov: community governance and mobilisation, modelled and optimised.

A typed model of the organisation graph (territory, party organisations, teams, people, sites,
zones), the three lists (needs, resources, projects), exact volunteer matching and sampling
timeslot scheduling with independent verifiers, and seeded mobilisation simulation.

The public surface is organised by subpackage: :mod:`commgov.org`, :mod:`commgov.matching`,
:mod:`commgov.scheduling`, :mod:`commgov.datasets`, :mod:`commgov.io`. This top level
re-exports the contracts shared by all of them.
"""

from commgov._control import CancelToken, ProgressCallback, ProgressEvent
from commgov.errors import (
    CommgovError,
    InfeasibleError,
    InputError,
    InputIssue,
    InvalidParameterError,
    ProblemError,
)
from commgov.results import (
    CommonReasonCode,
    PlanResult,
    Reason,
    SolveInfo,
    SolveStatus,
)
from commgov.types import GeoPoint, TimeWindow
from commgov.verification import VerificationReport, Violation

__version__ = "0.1.0"

__all__ = [
    "CancelToken",
    "CommgovError",
    "CommonReasonCode",
    "GeoPoint",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "InvalidParameterError",
    "PlanResult",
    "ProblemError",
    "ProgressCallback",
    "ProgressEvent",
    "Reason",
    "SolveInfo",
    "SolveStatus",
    "TimeWindow",
    "VerificationReport",
    "Violation",
    "__version__",
]
