"""Duty rosters: model rules, reasons, the verifier, determinism and the Gusu builder."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from commgov import ProgressEvent
from commgov.errors import InfeasibleError, InvalidParameterError, ProblemError
from commgov.results import Reason, SolveStatus
from commgov.scheduling.roster import (
    METHODS,
    Post,
    PostTask,
    Roster,
    RosterPolicy,
    RosterProblem,
    RosterReasonCode,
    RosterViolationCode,
    Staff,
    is_valid_roster,
    plan_roster,
    roster_problem_from_org,
)
from commgov.types import TimeWindow

TZ = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2022, 4, 12, 0, 0, tzinfo=TZ)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hours(a: float, b: float) -> TimeWindow:
    return TimeWindow(start=DAY0 + timedelta(hours=a), end=DAY0 + timedelta(hours=b))


def problem(posts, staff, n_hours=12, start=6, **policy) -> RosterProblem:
    return RosterProblem(window=hours(start, start + n_hours), posts=posts, staff=staff,
                         policy=RosterPolicy(**policy))


def shortfall_codes(roster: Roster) -> set[RosterReasonCode]:
    return {r.code for s in roster.shortfalls for r in s.reasons}


# ---- strategies -----------------------------------------------------------------------------


@st.composite
def roster_problems(draw, max_posts: int = 3, max_staff: int = 6) -> RosterProblem:
    n = draw(st.integers(4, 14))
    start = draw(st.sampled_from([0, 6, 18, 20]))  # 18/20: the window crosses midnight
    min_shift = draw(st.integers(1, 3))
    max_shift = draw(st.integers(min_shift, 5))
    policy = dict(min_shift_hours=min_shift, max_shift_hours=max_shift,
                  min_rest_hours=draw(st.integers(0, 4)),
                  max_hours_per_day=draw(st.integers(1, 10)),
                  allow_overcover=draw(st.booleans()))
    skills = ["sampling_marshal", "first_aid"]
    posts = []
    for k in range(draw(st.integers(1, max_posts))):
        demand = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
        posts.append(Post(
            id=f"P{k}", tasks=draw(st.lists(st.sampled_from(list(PostTask)), max_size=2,
                                            unique=True)),
            skill=draw(st.sampled_from([None, None, *skills])),
            min_level=draw(st.integers(1, 3)), demand=demand))
    staff = []
    for k in range(draw(st.integers(0, max_staff))):
        windows = []
        for _ in range(draw(st.integers(0, 2))):
            a = draw(st.integers(start, start + n - 1))
            b = draw(st.integers(a + 1, start + n + 2))
            windows.append(hours(a, b))
        staff.append(Staff(
            id=f"S{k:02d}", availability=windows,
            skills={s: draw(st.integers(1, 5)) for s in skills if draw(st.booleans())},
            tasks=draw(st.one_of(st.none(), st.lists(st.sampled_from(list(PostTask)),
                                                     unique=True))),
            max_hours_per_day=draw(st.one_of(st.none(), st.integers(0, 8))),
            max_hours_total=draw(st.one_of(st.none(), st.integers(0, 10))),
            preferred_post_ids=draw(st.lists(st.sampled_from([p.id for p in posts]),
                                             unique=True, max_size=1))))
    return RosterProblem(window=hours(start, start + n), posts=posts, staff=staff,
                         policy=RosterPolicy(**policy))


# ---- properties -----------------------------------------------------------------------------


@FAST
@given(roster_problems())
def test_verifier_accepts_solver_output(prob: RosterProblem) -> None:
    roster = plan_roster(prob, time_limit_s=20)
    report = is_valid_roster(prob, roster)
    assert report.ok, report.violations
    assert roster.info.status is SolveStatus.OPTIMAL
    assert roster.info.gap in (0.0, None)
    # every post-slot short of staff is listed with a reason; cover never above demand
    assert roster.totals.shortfall_hours == sum(s.short for s in roster.shortfalls)
    if not prob.policy.allow_overcover:
        assert roster.totals.overcover_hours == 0
    assert all(s.reasons for s in roster.shortfalls)


@FAST
@given(roster_problems(), st.randoms(use_true_random=False))
def test_deterministic_and_order_free(prob: RosterProblem, rnd: random.Random) -> None:
    a = plan_roster(prob, time_limit_s=20)
    b = plan_roster(prob, time_limit_s=20)
    assert a.to_json() == b.to_json()
    posts, staff = list(prob.posts), list(prob.staff)
    rnd.shuffle(posts)
    rnd.shuffle(staff)
    shuffled = prob.model_copy(update={"posts": posts, "staff": staff})
    assert plan_roster(shuffled, time_limit_s=20).to_json() == a.to_json()


@FAST
@given(roster_problems(max_posts=2, max_staff=4))
def test_mutations_are_rejected(prob: RosterProblem) -> None:
    roster = plan_roster(prob, time_limit_s=20)
    for name, broken, code in mutations(prob, roster):
        report = is_valid_roster(prob, broken)
        assert code in report.codes, (name, report.violations)


def mutations(prob: RosterProblem, roster: Roster):
    """(name, broken roster, code the verifier must report)."""
    out = []
    if roster.shifts:
        sh = roster.shifts[0]
        rest = roster.shifts[1:]
        out.append(("drop shift", roster.model_copy(update={"shifts": rest}),
                    "LOAD_MISMATCH"))
        out.append(("wrong hours", roster.model_copy(update={"shifts": [
            sh.model_copy(update={"hours": sh.hours + 1}), *rest]}), "RECORD_MISMATCH"))
        out.append(("unknown staff", roster.model_copy(update={"shifts": [
            sh.model_copy(update={"staff_id": "nobody"}), *rest]}), "UNKNOWN_ID"))
        out.append(("duplicate", roster.model_copy(update={"shifts": [sh, sh, *rest]}),
                    "DOUBLE_BOOKED"))
        if sh.end_slot < prob.n_slots:
            longer = sh.model_copy(update={"end_slot": prob.n_slots,
                                           "end": prob.slot_start(prob.n_slots)})
            lim = prob.limits()
            if prob.n_slots - sh.start_slot > lim["max_shift"]:
                out.append(("too long", roster.model_copy(update={"shifts": [longer, *rest]}),
                            "SHIFT_LENGTH"))
    if roster.shortfalls:
        s = roster.shortfalls[0]
        out.append(("hidden shortfall", roster.model_copy(update={
            "shortfalls": roster.shortfalls[1:]}), "SHORTFALL_MISMATCH"))
        fake = Reason(code=RosterReasonCode.TOO_FEW_AVAILABLE,
                      params={"available": 10_000, "demand": s.demand})
        out.append(("false reason", roster.model_copy(update={"shortfalls": [
            s.model_copy(update={"reasons": [fake]}), *roster.shortfalls[1:]]}),
            "REASON_FALSE"))
    totals = roster.totals.model_copy(update={"covered_hours": roster.totals.covered_hours + 1})
    out.append(("totals", roster.model_copy(update={"totals": totals}), "TOTALS_MISMATCH"))
    return out


# ---- rules, one at a time ---------------------------------------------------------------------


def gate(pid="G", demand=None, n=12, **kw) -> Post:
    return Post(id=pid, tasks=[PostTask.HEALTH_CODE_CHECK], demand=demand or [1] * n, **kw)


def test_full_cover_is_optimal_and_fair():
    staff = [Staff(id=f"S{k}", availability=[hours(6, 18)]) for k in range(4)]
    prob = problem([gate()], staff)
    r = plan_roster(prob)
    assert is_valid_roster(prob, r)
    assert r.info.status is SolveStatus.OPTIMAL and r.info.gap == 0.0 and not r.shortfalls
    assert r.totals.max_staff_hours == 3.0  # 12 h over 4 people
    assert all(2 <= s.hours <= 4 for s in r.shifts)


def test_rest_and_daily_maximum_bind():
    # one person, 12 h of demand: 4 h shifts, 4 h rest, 8 h/day → 4 on, 4 off, 4 on = 8 h
    prob = problem([gate()], [Staff(id="S0", availability=[hours(6, 18)])])
    r = plan_roster(prob)
    assert is_valid_roster(prob, r)
    assert r.totals.covered_hours == 8.0 and r.totals.shortfall_hours == 4.0
    assert [(s.start_slot, s.end_slot) for s in r.shifts] == [(0, 4), (8, 12)]
    assert shortfall_codes(r) == {RosterReasonCode.RULES_BIND}
    tight = problem([gate()], [Staff(id="S0", availability=[hours(6, 18)],
                                     max_hours_per_day=3)])
    assert plan_roster(tight).totals.covered_hours == 3.0


def test_reasons_for_uncoverable_demand():
    posts = [gate("A", demand=[2] * 12),
             Post(id="M", tasks=[PostTask.SAMPLING_MARSHAL], skill="sampling_marshal",
                  min_level=3, demand=[1] * 12)]
    staff = [Staff(id="S0", availability=[hours(6, 12)], skills={"sampling_marshal": 1}),
             Staff(id="S1", availability=[hours(6, 12)], tasks=[PostTask.PATROL])]
    prob = problem(posts, staff)
    r = plan_roster(prob)
    assert is_valid_roster(prob, r)
    by_post = {}
    for s in r.shortfalls:
        by_post.setdefault(s.post_id, set()).update(x.code for x in s.reasons)
    assert by_post["M"] == {RosterReasonCode.NO_ELIGIBLE_STAFF}
    # A: S0 is the only one allowed (S1 only patrols); afternoon: nobody available
    assert by_post["A"] == {RosterReasonCode.TOO_FEW_AVAILABLE,
                            RosterReasonCode.NO_STAFF_AVAILABLE}
    text = next(s for s in r.shortfalls if s.post_id == "A").reasons[0].text("zh")
    assert "需要2人" in text


def test_overcover_only_when_allowed():
    # demand 1 h at 12:00, minimum shift 2 h: uncoverable unless over-cover is allowed
    demand = [0] * 6 + [1] + [0] * 5
    staff = [Staff(id="S0", availability=[hours(6, 18)])]
    strict_prob = problem([gate(demand=demand)], staff)
    r = plan_roster(strict_prob)
    assert r.totals.shortfall_hours == 1 and r.totals.overcover_hours == 0
    assert is_valid_roster(strict_prob, r)
    loose = problem([gate(demand=demand)], staff, allow_overcover=True)
    r2 = plan_roster(loose)
    assert is_valid_roster(loose, r2)
    assert r2.totals.shortfall_hours == 0 and r2.totals.overcover_hours == 1
    assert [t.name for t in r2.tiers] == ["shortfall_slots", "overcover_slots",
                                          "max_staff_slots"]


def test_preferences_are_last():
    posts = [gate("A", n=4, demand=[1] * 4), gate("B", n=4, demand=[1] * 4)]
    staff = [Staff(id="S0", availability=[hours(6, 10)], preferred_post_ids=["B"]),
             Staff(id="S1", availability=[hours(6, 10)], preferred_post_ids=["A"])]
    prob = problem(posts, staff, n_hours=4)
    r = plan_roster(prob)
    assert is_valid_roster(prob, r)
    assert {(s.staff_id, s.post_id) for s in r.shifts} == {("S0", "B"), ("S1", "A")}
    assert r.totals.preferred_hours == 8.0


def test_days_are_local_calendar_days():
    # 20:00-08:00: 4 h before midnight, 8 h after; 6 h a day at most
    prob = problem([gate(n=12)], [Staff(id="S0", availability=[hours(20, 32)])], start=20,
                   max_hours_per_day=6, max_shift_hours=6, min_rest_hours=1)
    r = plan_roster(prob)
    assert is_valid_roster(prob, r)
    load = r.loads[0]
    assert set(load.hours_by_day) == {"2022-04-12", "2022-04-13"}
    assert all(h <= 6 for h in load.hours_by_day.values())


def test_strict_and_empty():
    prob = problem([gate()], [])
    r = plan_roster(prob)
    assert r.info.status is SolveStatus.OPTIMAL and len(r.shortfalls) == 12
    assert r.info.bound == 12.0 and r.info.gap == 0.0
    with pytest.raises(InfeasibleError):
        plan_roster(prob, strict=True)
    assert plan_roster(problem([], [])).shifts == []


def test_problem_errors_and_json_round_trip():
    with pytest.raises(ProblemError, match="one entry per slot"):
        problem([gate(demand=[1] * 5)], [])
    with pytest.raises(ProblemError, match="must not exceed"):
        problem([gate()], [], min_shift_hours=5, max_shift_hours=4)
    with pytest.raises(ProblemError, match="duplicate staff"):
        problem([gate()], [Staff(id="S"), Staff(id="S")])
    with pytest.raises(ProblemError, match="must name a post"):
        problem([gate()], [Staff(id="S", preferred_post_ids=["X"])])
    with pytest.raises(ValueError, match="must divide 24 h"):
        RosterPolicy(slot_minutes=7)
    with pytest.raises(ProblemError, match="must divide 24 h"):
        RosterProblem(window=hours(6, 18), policy={"slot_minutes": 7})
    prob = problem([gate()], [Staff(id="S0", availability=[hours(6, 18)])])
    again = RosterProblem.model_validate_json(prob.model_dump_json())
    assert plan_roster(again).to_json() == plan_roster(prob).to_json()


@pytest.mark.parametrize("kw", [
    {"time_limit_s": "x"}, {"time_limit_s": -1}, {"time_limit_s": float("nan")},
    {"time_limit_s": float("inf")}, {"time_limit_s": 0}, {"time_limit_s": 3601},
    {"deterministic_time": -1.0}, {"seed": 1.5}, {"seed": -1}, {"strict": 1},
    {"progress": 3}, {"cancel": True}, {"method": "greedy"},
])
def test_argument_checks(kw):
    prob = problem([gate()], [])
    with pytest.raises(InvalidParameterError, match=f"plan_roster: {next(iter(kw))} must"):
        plan_roster(prob, **kw)


def test_problem_type_and_methods():
    with pytest.raises(TypeError, match="problem must be a RosterProblem"):
        plan_roster({})  # type: ignore[arg-type]
    prob = problem([gate()], [Staff(id="S0", availability=[hours(6, 18)])])
    assert METHODS == ("cpsat",)
    assert plan_roster(prob, method="cpsat").to_json() == plan_roster(prob).to_json()


def test_violation_codes_are_documented():
    codes = list(RosterViolationCode)
    assert len(codes) == 16 and all(c.value == c.name for c in codes)
    assert RosterViolationCode.OVER_COVER == "OVER_COVER"


def busy_problem() -> RosterProblem:
    staff = [Staff(id=f"S{k}", availability=[hours(6, 18)]) for k in range(6)]
    return problem([gate("A", demand=[2] * 12), gate("B", demand=[1] * 12)], staff)


def test_cancelled_before_start_returns_a_valid_roster():
    prob = busy_problem()
    cancel = threading.Event()
    cancel.set()
    r = plan_roster(prob, cancel=cancel)
    assert r.info.status is SolveStatus.CANCELLED and r.info.stopped_by == "cancel"
    assert {t.status for t in r.tiers} == {"NOT_RUN"} and r.info.bound is None
    report = is_valid_roster(prob, r)
    assert report.ok, report.violations
    assert all(s.reasons for s in r.shortfalls)


def test_cancelled_during_the_run_returns_a_valid_roster():
    prob = busy_problem()
    cancel = threading.Event()

    def progress(event: ProgressEvent) -> None:
        if event.phase.startswith("tier "):
            cancel.set()

    r = plan_roster(prob, progress=progress, cancel=cancel)
    assert r.info.status is SolveStatus.CANCELLED and r.info.stopped_by == "cancel"
    assert is_valid_roster(prob, r).ok
    assert r.totals.covered_hours > 0  # the greedy start is kept


def test_progress_events_end_with_done():
    events: list[ProgressEvent] = []
    prob = busy_problem()
    r = plan_roster(prob, progress=events.append)
    assert events and all(isinstance(e, ProgressEvent) for e in events)
    assert all(e.planner == "plan_roster" for e in events)
    assert events[-1].phase == "done" and events[-1].fraction == 1.0
    assert events[-1].incumbent == r.totals.shortfall_hours
    assert any(e.phase.startswith("tier ") for e in events)
    assert r.info.stopped_by is None and r.info.status is SolveStatus.OPTIMAL


def test_rows_and_json():
    prob = problem([gate()], [Staff(id="S0", availability=[hours(6, 18)])])
    r = plan_roster(prob)
    rows = r.rows()
    assert [row["kind"] for row in rows] == ["shift"] * 2 + ["shortfall"] * 4
    assert all(tuple(row) == Roster.ROW_COLUMNS for row in rows)
    short = rows[2]
    assert short["reason_code"] == "RULES_BIND" and short["short"] == 1
    assert "总缺口已最小化" in r.rows("zh")[2]["reason"]
    assert list(r.to_frame().columns) == list(Roster.ROW_COLUMNS)
    assert r.to_json() == r.model_dump_json()
    assert Roster.model_validate_json(r.to_json()) == r
    with pytest.raises(ValueError, match="lang"):
        r.rows("fr")


# ---- the Gusu dataset -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def huchiyuan():
    from commgov.datasets import gusu

    return gusu(seed=0, communities=["320508017016"])


def test_gusu_roster(huchiyuan):
    prob = roster_problem_from_org(huchiyuan, "320508017016", window=hours(0, 24))
    assert prob.n_slots == 24
    gates = [p for p in prob.posts if p.id.endswith("/GATE")]
    marshals = [p for p in prob.posts if p.id.endswith("/MARSHAL")]
    assert len(gates) == 3 and len(marshals) == 3  # compounds C01-C03; sites S01-S03
    assert all(p.skill == "sampling_marshal" for p in marshals)
    assert sum(marshals[0].demand) == 7  # 06:30-13:00 overlaps the hours 06-13
    assert len(prob.staff) == 20
    r = plan_roster(prob, time_limit_s=30)
    assert is_valid_roster(prob, r)
    assert r.info.status is SolveStatus.OPTIMAL
    # nobody volunteers at night: those hours are short with NO_STAFF_AVAILABLE
    night = [s for s in r.shortfalls if s.slot < 6]
    assert night and {x.code for s in night for x in s.reasons} == {
        RosterReasonCode.NO_STAFF_AVAILABLE}


def test_gusu_builder_errors(huchiyuan):
    with pytest.raises(ProblemError, match="no community"):
        roster_problem_from_org(huchiyuan, "320508017999", window=hours(0, 24))
    with pytest.raises(ProblemError, match="window"):
        roster_problem_from_org(huchiyuan, "320508017016", window=(8, 8))  # type: ignore[arg-type]
    with pytest.raises(ProblemError, match="multiple of slot_minutes"):
        roster_problem_from_org(huchiyuan, "320508017016", window=hours(8, 9.5))
    with pytest.raises(ProblemError, match="gate_staff"):
        roster_problem_from_org(huchiyuan, "320508017016", window=hours(0, 24), gate_staff=-1)
    with pytest.raises(TypeError):
        roster_problem_from_org(huchiyuan, "320508017016", hours(0, 24))  # type: ignore[misc]


def test_duty_posts_are_used_when_present(huchiyuan):
    from commgov.org import DutyPost, DutyTask, OrgModel

    site = huchiyuan.sites[0]
    post = DutyPost(id="320508017016/DP1", site_id=site.id, title="1号门岗",
                    tasks=[DutyTask.HEALTH_CODE_CHECK, DutyTask.PATROL],
                    shifts=[hours(8, 12), hours(12, 20)], staff_per_shift=2)
    data = huchiyuan.model_dump()
    data["duty_posts"] = [post.model_dump()]
    model = OrgModel.model_validate(data)
    prob = roster_problem_from_org(model, "320508017016", window=hours(6, 22))
    duty = [p for p in prob.posts if p.id == "320508017016/DP1"]
    assert not any(p.id.endswith("/GATE") for p in prob.posts)
    assert duty[0].demand == [0, 0] + [2] * 12 + [0, 0]
    assert duty[0].tasks == [PostTask.HEALTH_CODE_CHECK, PostTask.PATROL]
    r = plan_roster(prob, time_limit_s=30)
    assert is_valid_roster(prob, r)
