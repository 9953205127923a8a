"""The one base of the simulation's parameter and crew records (private; see ``commgov.sim``).

* :class:`Params` — every parameter record of the simulation derives from it: a frozen
  pydantic model that refuses unknown fields and any non-finite number (``nan``, ``inf``) in a
  float field, with a :class:`pydantic.ValidationError` (a ``ValueError``) naming the field.
  Records built in code (a gate, a sampling desk, a volunteer) also take their leading fields
  positionally, in the order of :attr:`Params.positional_fields`.
* :class:`SubmodelParams` — the base of a submodel's ``[submodels.<name>]`` table.
* :class:`Crew` — the base of every volunteer or team a submodel simulates: an id, on-duty
  windows and fatigue, checked once here (relay volunteers, door-to-door teams, the needs
  pool and the notification pioneers).
* Reusable annotated types, so one concept has one spelling, one unit and one range in every
  submodel: walking speed in metres per minute (:data:`SpeedMPerMin`), durations in minutes
  (:data:`Minutes`, :data:`ShiftMinutes`, :data:`BreakMinutes`,
  :data:`BreakStaggerMinutes`), instants as minutes since the
  scenario start (:data:`SimMinute`), rates per hour (:data:`FatiguePerHour`,
  :data:`AttritionPerHour`, :data:`RecruitsPerHour`), :data:`Capacity`, :data:`PoolSize`,
  :data:`DetourFactor`, :data:`VariationCoefficient`, :data:`PlanTimeLimitS` and on-duty
  :data:`ShiftWindows`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AllowInfNan, ConfigDict, Field

from commgov._records import NoBoolNumbers

__all__ = [
    "ALWAYS_ON",
    "AttritionPerHour",
    "BreakMinutes",
    "BreakStaggerMinutes",
    "Capacity",
    "Crew",
    "DetourFactor",
    "FatiguePerHour",
    "Minutes",
    "Params",
    "PlanTimeLimitS",
    "PoolSize",
    "RecruitsPerHour",
    "ShiftMinutes",
    "ShiftWindows",
    "SimMinute",
    "SpeedMPerMin",
    "SubmodelParams",
    "VariationCoefficient",
]

#: Longest scenario horizon, minutes (60 days); instants of a scenario lie in [0, this].
MAX_SIM_MINUTE = 60 * 24 * 60.0

#: A duration in minutes, ≥ 0.
Minutes = Annotated[float, Field(ge=0.0)]
#: An instant in minutes since the scenario start, 0 … 86,400 (60 days).
SimMinute = Annotated[float, Field(ge=0.0, le=MAX_SIM_MINUTE)]
#: Walking speed in metres per minute, > 0 and ≤ 1,000 (80 m/min is a brisk walk).
SpeedMPerMin = Annotated[float, Field(gt=0.0, le=1000.0)]
#: Walking metres per great-circle metre, 1 … 100.
DetourFactor = Annotated[float, Field(ge=1.0, le=100.0)]
#: Task times grow by this fraction per hour already worked (0.05: +5 %/h), 0 … 10.
FatiguePerHour = Annotated[float, Field(ge=0.0, le=10.0)]
#: Rate at which each volunteer leaves for good, per hour, 0 … 100.
AttritionPerHour = Annotated[float, Field(ge=0.0, le=100.0)]
#: New volunteers joining, per hour, 0 … 1,000.
RecruitsPerHour = Annotated[float, Field(ge=0.0, le=1000.0)]
#: Length of a shift, minutes, > 0 and ≤ 1,440.
ShiftMinutes = Annotated[float, Field(gt=0.0, le=1440.0)]
#: Time off between shifts (break or hand-over), minutes, 0 … 1,440.
BreakMinutes = Annotated[float, Field(ge=0.0, le=1440.0)]
#: Width of the seeded shift phases that stagger a crew's breaks
#: (:func:`commgov.sim.crew_windows`), minutes, 0 … 100,000 (capped at the shift length);
#: 0: everyone breaks at once.
BreakStaggerMinutes = Annotated[float, Field(ge=0.0, le=100_000.0)]
#: Most items a volunteer carries or handles at once (parcels per trip), 1 … 100.
Capacity = Annotated[int, Field(ge=1, le=100)]
#: Number of volunteers in a pool, 0 … 10,000.
PoolSize = Annotated[int, Field(ge=0, le=10_000)]
#: Coefficient of variation (standard deviation / mean) of a random factor, 0 … 10.
VariationCoefficient = Annotated[float, Field(ge=0.0, le=10.0)]
#: Wall-clock cap of a planner solved inside a submodel, seconds, > 0 and ≤ 3,600.
PlanTimeLimitS = Annotated[float, Field(gt=0.0, le=3600.0)]


def _not_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("must be a number, not nan")
    return value


#: An end of an on-duty window: a finite minute, or ``inf`` (on duty to the end of the run).
_WindowEnd = Annotated[float, AllowInfNan(True), AfterValidator(_not_nan)]


def _check_windows(value: tuple[tuple[float, _WindowEnd], ...]) -> tuple[tuple[float, float], ...]:
    last = -math.inf
    for start, end in value:
        if not last <= start < end:
            raise ValueError("windows must be sorted and disjoint, each start before its end")
        last = end
    return value


#: On-duty windows ``[start, end)`` in minutes of simulated time: finite starts, ends finite or
#: ``inf``, sorted and disjoint.
ShiftWindows = Annotated[tuple[tuple[float, _WindowEnd], ...], AfterValidator(_check_windows)]

#: The default on-duty windows: always on duty.
ALWAYS_ON: tuple[tuple[float, float], ...] = ((0.0, math.inf),)


class Params(NoBoolNumbers):
    """Base of every parameter record of the simulation.

    Frozen; unknown fields are refused; every float field must be finite (``nan`` and
    ``inf`` are refused unless a field's type says otherwise, as the ends of
    :data:`ShiftWindows`). Records built in code also take their leading fields
    positionally, in the order of :attr:`positional_fields`.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming each refused field and why; ``TypeError`` for too many
        positional arguments or a field given both positionally and by name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    #: Fields that may be given positionally, in order (none for scenario tables).
    positional_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, /, *args: Any, **data: Any) -> None:
        if args:
            names = type(self).positional_fields
            if len(args) > len(names):
                raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional "
                                f"arguments ({', '.join(names) or 'none'}), got {len(args)}")
            for name, value in zip(names, args, strict=False):
                if name in data:
                    raise TypeError(f"{type(self).__name__} got two values for {name!r}")
                data[name] = value
        super().__init__(**data)


class SubmodelParams(Params):
    """Base of a submodel's parameters (``[submodels.<name>]`` in a scenario).

    Parameters
    ----------
    enabled : bool, default True
        Whether the submodel runs.
    """

    enabled: bool = True


class Crew(Params):
    """Base of every volunteer or team a submodel simulates.

    Positional order: ``id``, ``windows``, ``fatigue_per_hour`` (subclasses put their own
    fields after ``id``).

    Parameters
    ----------
    id : str
        Pseudonymous id (also the entity key of the crew's random streams).
    windows : tuple of (float, float), default ``((0, inf),)`` (always on duty)
        On-duty windows ``[start, end)`` in minutes of simulated time, sorted and disjoint;
        an end may be ``inf``. The crew starts a task only inside a window and finishes the
        one under way when it ends.
    fatigue_per_hour : float, default 0
        Task times grow by this fraction per hour already worked (0.05: +5 %/h), 0 … 10
        (:func:`commgov.sim.fatigue_factor`).

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) for a non-finite or out-of-range ``fatigue_per_hour``, a ``nan``
        or non-finite start in ``windows``, or windows unsorted or overlapping.
    """

    positional_fields: ClassVar[tuple[str, ...]] = ("id", "windows", "fatigue_per_hour")

    id: str
    windows: ShiftWindows = ALWAYS_ON
    fatigue_per_hour: FatiguePerHour = 0.0

