"""The guideline's swabber ratio (private)."""

from __future__ import annotations

from commgov.scheduling.staffing._checks import count

__all__ = ["GUIDELINE_RESIDENTS_PER_SWABBER", "swabbers_needed"]

#: Residents per swabber in one 24-hour round, guideline v3 (22 Mar 2022): staff = pop ÷ 360.
GUIDELINE_RESIDENTS_PER_SWABBER = 360


def swabbers_needed(residents: int, ratio: int = GUIDELINE_RESIDENTS_PER_SWABBER) -> int:
    """Swabbers for one round by the guideline ratio: ``⌈residents / ratio⌉``.

    Guideline v3 (《区域新型冠状病毒核酸检测组织实施指南（第三版）》, 22 Mar 2022): sampling
    staff = population ÷ 360 for a 24-hour round; campaigns ran at 420–570 residents per
    swabber. The ratio is a parameter, not a derivation.

    Parameters
    ----------
    residents : int
        People to sample, ≥ 0.
    ratio : int
        Residents per swabber, ≥ 1 (default 360).

    Returns
    -------
    int
        Swabbers (rounded up).

    Raises
    ------
    commgov.errors.InvalidParameterError
        If an argument is not a whole number, ``residents < 0`` or ``ratio < 1`` (both a
        ``ValueError`` and a ``TypeError``).

    Notes
    -----
    O(1).

    Examples
    --------
    >>> swabbers_needed(1_140_000)  # Suzhou Wuzhong, 14 Feb 2022 (1,990 medics deployed)
    3167
    """
    n = count("swabbers_needed", "residents", residents)
    r = count("swabbers_needed", "ratio", ratio, low=1)
    return -(-n // r)
