"""Events on a scenario's timeline: what they change, when, in both engines."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import basesim
from basesim import Distribution, Event, Evidence, Parameter, Scenario, ScenarioError
from basesim.engine.batch import run_batch, run_mesa
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.engine.events import event_months
from basesim.events import SETTLED_BY_EVENT
from basesim.scenarios.toml_io import read_scenario_text

ROOT = np.random.SeedSequence(20251128)


@pytest.fixture(scope="module")
def undated(scenario: Scenario) -> Scenario:
    """The report scenario without its as_of date, to take later evidence."""
    return dataclasses.replace(scenario, as_of=None)


def test_report_scenario_refuses_later_evidence(scenario: Scenario) -> None:
    late = Parameter(value=0.4, evidence=Evidence(sources=("E4",)))
    with pytest.raises(
        ScenarioError, match=r"cites E4, dated 2025-02-06, after .* as_of 2025-01-29"
    ):
        scenario.replace({"actors.syria.basing.position": late})


def with_events(scn: Scenario, *events: Event) -> Scenario:
    return dataclasses.replace(scn, events=tuple(events))


def outcome(scn: Scenario, n: int, *, horizon: int | None = None, engine: str = "batch"):
    compiled = compile_scenario(scn)
    inputs = draw_inputs(compiled, ROOT, 0, n)
    if horizon is not None:
        compiled = dataclasses.replace(compiled, horizon=horizon)
    return (run_batch if engine == "batch" else run_mesa)(compiled, inputs)


def every_kind(scn: Scenario) -> tuple[Event, ...]:
    """One event of each kind on the small scenario, two of them at uncertain months."""
    return (
        Event(
            name="relief_eased",
            kind="set",
            target="issues.relief.status_quo",
            month=Parameter(value=2.0, distribution=Distribution(kind="uniform", low=1, high=4)),
            value=Parameter(
                value=0.4, distribution=Distribution(kind="uniform", low=0.3, high=0.5)
            ),
        ),
        Event(
            name="syria_moves",
            kind="set",
            target="actors.syria.basing.position",
            month=2,
            value=Parameter.fixed(0.6),
        ),
        Event(
            name="syria_patient",
            kind="set",
            target="actors.syria.discount",
            month=3,
            value=Parameter.fixed(0.99),
        ),
        Event(name="turkey_joins", kind="table", target="turkey", month=2, proposer=True),
        Event(name="russia_leaves", kind="table", target="russia", month=4, proposer=False),
        Event(
            name="relief_by_majority",
            kind="rule",
            target="relief",
            month=3,
            rule="unilateral",
            authority="syria",
        ),
        Event(
            name="relief_lifted",
            kind="settle",
            target="relief",
            month=Parameter(value=4.0, distribution=Distribution(kind="uniform", low=3, high=6)),
            value=Parameter.fixed(0.9),
        ),
    )


# -- timing -------------------------------------------------------------------------------
@pytest.mark.parametrize("month", [3, 6])
def test_event_changes_nothing_before_its_month(scenario: Scenario, month: int) -> None:
    """Same rng: the state at the end of month m - 1 is the same with or without the event,
    runs that ended before month m are unchanged, and the event changes later runs."""
    event = Event(
        name="turkey_pulls_harder",
        kind="set",
        target="actors.syria.basing.salience",
        month=month,
        value=Parameter.fixed(1.0),
    )
    changed = with_events(scenario, event)
    n = 600
    before, after = outcome(scenario, n), outcome(changed, n)
    early_before = outcome(scenario, n, horizon=month - 1)
    early_after = outcome(changed, n, horizon=month - 1)
    for name in ("package", "settled", "settled_round", "settled_by"):
        np.testing.assert_array_equal(getattr(early_before, name), getattr(early_after, name))
    ended = before.settled.all(axis=1) & (before.settled_round.max(axis=1) < month)
    assert ended.any() and (~ended).any()
    np.testing.assert_array_equal(before.package[ended], after.package[ended])
    np.testing.assert_array_equal(before.settled_round[ended], after.settled_round[ended])
    assert not np.array_equal(before.package[~ended], after.package[~ended])


def test_uncertain_month_is_the_floor_of_its_draw(small_scenario: Scenario) -> None:
    event = every_kind(small_scenario)[0]  # month ~ uniform[1, 4)
    compiled = compile_scenario(with_events(small_scenario, event))
    p = compiled.uncertain_paths.index("events.relief_eased.month")
    q = np.full((6, compiled.n_uncertain), 0.5)
    q[:, p] = [0.0, 0.3, 1 / 3 + 1e-9, 0.6, 2 / 3 + 1e-9, 0.999]
    assert event_months(compiled, compiled.parameters(q))[:, 0].tolist() == [1, 1, 2, 2, 3, 3]


def test_date_counts_months_from_start(scenario: Scenario) -> None:
    event = Event(
        name="relief",
        kind="settle",
        target="sanctions_relief",
        date="2025-06-30",
        value=Parameter.fixed(0.8),
    )
    scn = with_events(scenario, event)
    assert event.month_parameter(scn).value == 5.0  # February 2025 is month 1


# -- what each kind does ------------------------------------------------------------------
def test_settle_event_settles_open_issue_by_unilateral_act(scenario: Scenario) -> None:
    event = Event(
        name="relief",
        kind="settle",
        target="sanctions_relief",
        month=4,
        value=Parameter.fixed(0.8),
    )
    before = outcome(scenario, 400)
    after = outcome(with_events(scenario, event), 400)
    k = scenario.issue_names.index("sanctions_relief")
    open_then = ~before.settled[:, k] | (before.settled_round[:, k] >= 4)
    assert open_then.any()
    assert np.all(after.settled[open_then, k])
    np.testing.assert_array_equal(after.package[open_then, k], 0.8)
    np.testing.assert_array_equal(after.settled_round[open_then, k], 4)
    np.testing.assert_array_equal(after.settled_by[open_then, k], SETTLED_BY_EVENT)
    # Settled earlier in the talks: the event finds nothing to settle.
    np.testing.assert_array_equal(after.package[~open_then, k], before.package[~open_then, k])


def test_static_model_keeps_month_one_settlement(scenario: Scenario) -> None:
    event = Event(
        name="relief",
        kind="settle",
        target="sanctions_relief",
        month=1,
        value=Parameter.fixed(0.8),
    )
    scn = with_events(scenario.replace({"protocol.model": "compromise"}), event)
    out = outcome(scn, 50)
    k = scenario.issue_names.index("sanctions_relief")
    np.testing.assert_array_equal(out.package[:, k], 0.8)
    np.testing.assert_array_equal(out.settled_by[:, k], SETTLED_BY_EVENT)


def test_rule_event_changes_who_decides(scenario: Scenario) -> None:
    """Basing decided by Russia alone from month 1: Syria's consent no longer matters, so
    the issue is always settled, and at retention in nearly every run (Russia's ideal);
    under unanimity retention is rare."""
    event = Event(
        name="russia_alone",
        kind="rule",
        target="basing",
        month=1,
        rule="unilateral",
        authority="russia",
    )
    k = scenario.issue_names.index("basing")
    n = 400
    before = outcome(scenario, n)
    after = outcome(with_events(scenario, event), n)
    assert after.settled[:, k].all() and not before.settled[:, k].all()
    assert np.mean(after.package[:, k] >= 0.75) > 0.9 > 0.1 > np.mean(before.package[:, k] >= 0.75)


# -- both engines, batch sizes ------------------------------------------------------------
def test_mesa_and_batch_agree_run_by_run_with_every_kind(small_scenario: Scenario) -> None:
    scn = with_events(small_scenario, *every_kind(small_scenario))
    batch, mesa = outcome(scn, 40), outcome(scn, 40, engine="mesa")
    np.testing.assert_allclose(batch.package, mesa.package, rtol=0, atol=1e-12)
    for name in ("settled", "settled_round", "settled_by", "proposals"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(mesa, name), err_msg=name)
    assert (batch.settled_by == SETTLED_BY_EVENT).any()


def test_events_do_not_depend_on_the_batch(small_scenario: Scenario) -> None:
    scn = with_events(small_scenario, *every_kind(small_scenario))
    whole = basesim.simulate(scn, n_runs=300, rng=3)
    pieces = basesim.simulate(scn, n_runs=300, rng=3, batch_size=37)
    assert whole.runs is not None and pieces.runs is not None
    np.testing.assert_array_equal(whole.runs.package, pieces.runs.package)
    np.testing.assert_array_equal(whole.runs.settled_round, pieces.runs.settled_round)


def test_caller_parameters_are_not_changed(small_scenario: Scenario) -> None:
    scn = with_events(small_scenario, *every_kind(small_scenario))
    compiled = compile_scenario(scn)
    inputs = draw_inputs(compiled, ROOT, 0, 20)
    params = compiled.parameters(inputs.quantiles)
    kept = params.position.copy()
    run_batch(compiled, inputs, parameters=params)
    np.testing.assert_array_equal(params.position, kept)


# -- files and tables ---------------------------------------------------------------------
def test_events_round_trip_through_toml(small_scenario: Scenario) -> None:
    scn = with_events(small_scenario, *every_kind(small_scenario))
    assert read_scenario_text(scn.to_toml()) == scn


def test_explain_lists_event_months_and_values(small_scenario: Scenario) -> None:
    scn = with_events(small_scenario, *every_kind(small_scenario))
    table = scn.explain()
    rows = table[table["path"].str.startswith("events.")]
    assert "events.relief_eased.month" in set(rows["path"])
    assert "events.relief_lifted.value" in set(rows["path"])
    assert set(rows.loc[rows["path"] == "events.syria_moves.value", "actor"]) == {"syria"}
    assert "events.relief_eased.month" in scn.uncertain_parameters()


# -- bad input ----------------------------------------------------------------------------
def _settle(**changes: object) -> Event:
    fields: dict[str, object] = {
        "name": "relief",
        "kind": "settle",
        "target": "sanctions_relief",
        "month": 3,
        "value": Parameter.fixed(0.8),
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_settle(month=26), "events.relief.month must be in [1, 25] (got 26)"),
        (_settle(month=0), "events.relief.month must be in [1, 25] (got 0)"),
        (_settle(month=2.5), None),
        (
            _settle(
                month=Parameter(
                    value=20.0, distribution=Distribution(kind="uniform", low=10, high=30)
                )
            ),
            "events.relief.month",
        ),
        (_settle(month=None, date="2024-12"), "events.relief.date must fall inside the horizon"),
        (_settle(date="2025-03"), "needs exactly one of month and date"),
        (_settle(target="sanctions"), "events.relief.target must name an issue"),
        (_settle(kind="cancel"), "events.relief.kind must be one of"),
        (_settle(value=Parameter.fixed(1.5)), "events.relief.value must be in [0, 1]"),
        (_settle(proposer=True), "events.relief.proposer does not belong"),
        (_settle(kind="table", target="iran", value=None, proposer=True), "must name an actor"),
        (
            _settle(kind="set", target="actors.iran.discount"),
            "events.relief.target must be the path",
        ),
        (
            _settle(kind="set", target="actors.syria.discount", value=Parameter.fixed(1.5)),
            "does not fit",
        ),
        (
            _settle(kind="rule", target="basing", value=None, rule="unilateral"),
            "the new rule is not valid",
        ),
        (_settle(evidence=Evidence(sources=("E10",))), None),
    ],
)
def test_bad_event(undated: Scenario, event: Event, expected: str | None) -> None:
    scenario = undated
    if expected is None:  # the control: a valid event
        with_events(scenario, event)
        return
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        with_events(scenario, event)


def test_duplicate_event_names(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"events\.relief is defined twice"):
        with_events(scenario, _settle(), _settle())


def test_rule_and_table_events_together_must_be_valid(small_scenario: Scenario) -> None:
    """Each leaves a proposer; together they leave none."""
    scn = small_scenario.replace({"actors.turkey.proposer": False})
    out = [
        Event(name=f"{a}_leaves", kind="table", target=a, month=2, proposer=False)
        for a in ("syria", "russia")
    ]
    with pytest.raises(
        ScenarioError,
        match="events: runs can reach the rule and table changes of syria_leaves, russia_leaves",
    ):
        with_events(scn, *out)


def test_evidence_after_as_of_is_refused(undated: Scenario) -> None:
    scenario = undated
    event = _settle(evidence=Evidence(sources=("E11",)))
    with pytest.raises(ScenarioError, match=r"events.relief.evidence cites E11, dated 2025-06-30"):
        dataclasses.replace(with_events(scenario, event), as_of="2025-05-31")
    dataclasses.replace(with_events(scenario, event), as_of="2025-06-30")  # known by then


def test_parameter_evidence_after_as_of_is_refused(undated: Scenario) -> None:
    late = Parameter(value=0.4, evidence=Evidence(sources=("E14",)))
    scn = undated.replace({"actors.syria.basing.position": late})
    with pytest.raises(
        ScenarioError, match=r"actors\.syria\.basing\.position\.evidence cites E14"
    ):
        dataclasses.replace(scn, as_of="2025-01")


@pytest.mark.parametrize("bad", ["2025", "2025-13", "2025-02-30", "soon"])
def test_bad_as_of(scenario: Scenario, bad: str) -> None:
    with pytest.raises(ScenarioError, match=r"scenario\.as_of must be a date"):
        dataclasses.replace(scenario, as_of=bad)


def test_bad_event_in_a_file(small_scenario: Scenario) -> None:
    text = (
        small_scenario.to_toml()
        + '\n[[events]]\nname = "x"\nkind = "settle"\ntarget = "relief"\nmonth = 2\nvalu = 0.5\n'
    )
    with pytest.raises(ScenarioError, match=r"events\.x\.valu is not a known field"):
        read_scenario_text(text)


def test_sweep_sets_event_months(small_scenario: Scenario) -> None:
    """Event months and values are parameters: a sweep that moves them moves the outcome."""
    event = Event(
        name="relief_lifted",
        kind="settle",
        target="relief",
        month=Parameter.fixed(1),
        value=Parameter.fixed(0.9),
    )
    scn = with_events(small_scenario, dataclasses.replace(event, value=Parameter.fixed(0.1)))
    result = basesim.sweep(
        scn,
        {"events.relief_lifted.month": [1.0, 5.0]},
        n_runs=200,
        design="grid",
        n_points=2,
        rng=1,
    )
    little = result.probability("relief=little")
    assert little[0] == 1.0 > little[1]


def test_event_parameters_in_scenario_order(tmp_path) -> None:
    """The engine's uncertain columns follow Scenario.uncertain_parameters(), which saved
    results rely on; a result of a scenario with events saves and loads back."""
    scn = basesim.load_scenario("syria-2025-events")
    assert compile_scenario(scn).uncertain_paths == scn.uncertain_parameters()
    result = basesim.simulate(scn, n_runs=50, rng=2)
    loaded = basesim.load_result(result.save(tmp_path / "events.npz"))
    assert loaded.runs is not None and result.runs is not None
    np.testing.assert_array_equal(loaded.runs.sampled, result.runs.sampled)
    np.testing.assert_array_equal(loaded.runs.settled_by, result.runs.settled_by)


def test_reachable_combinations_of_seats_must_be_valid(small_scenario: Scenario) -> None:
    """Syria and Russia leave before Turkey joins: all three together leave a proposer,
    but runs pass through a month with none, which validation must refuse."""
    scn = small_scenario.replace({"actors.turkey.proposer": False})
    events = (
        Event(name="syria_leaves", kind="table", target="syria", month=2, proposer=False),
        Event(name="russia_leaves", kind="table", target="russia", month=3, proposer=False),
        Event(name="turkey_joins", kind="table", target="turkey", month=4, proposer=True),
    )
    with pytest.raises(ScenarioError, match="syria_leaves, russia_leaves together"):
        with_events(scn, *events)


def test_later_event_on_the_same_seat_wins_whatever_the_listing(small_scenario: Scenario) -> None:
    scn = small_scenario.replace({"actors.turkey.proposer": False})
    join = Event(name="join", kind="table", target="turkey", month=2, proposer=True)
    leave = Event(name="leave", kind="table", target="turkey", month=3, proposer=False)
    a = outcome(with_events(scn, join, leave), 300)
    b = outcome(with_events(scn, leave, join), 300)
    for name in ("package", "settled_round", "proposals"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # Turkey proposes at most in month 2, its only month at the table.
    assert a.proposals[:, scn.actor_names.index("turkey")].max() == 1


def test_ensemble_with_rule_events_at_drawn_months(small_scenario: Scenario) -> None:
    """Runs under different rules in month 1: the mixture draws every run's model first."""
    scn = with_events(
        small_scenario.replace({"protocol.model": "ensemble"}),
        Event(
            name="russia_leaves",
            kind="table",
            target="russia",
            month=Parameter(value=1.0, distribution=Distribution(kind="uniform", low=1, high=3)),
            proposer=False,
        ),
    )
    batch, mesa = outcome(scn, 30), outcome(scn, 30, engine="mesa")
    np.testing.assert_allclose(batch.package, mesa.package, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(batch.component, mesa.component)
    whole = basesim.simulate(scn, n_runs=200, rng=5)
    pieces = basesim.simulate(scn, n_runs=200, rng=5, batch_size=23)
    assert whole.runs is not None and pieces.runs is not None
    np.testing.assert_array_equal(whole.runs.package, pieces.runs.package)


def test_influence_with_event_values_must_sum_to_at_most_one(small_scenario: Scenario) -> None:
    raised = Event(
        name="turkey_pulls",
        kind="set",
        target="actors.turkey.influence.syria",
        month=2,
        value=0.9,
    )
    with pytest.raises(ScenarioError, match=r"influence weights on actors\.syria must sum"):
        with_events(small_scenario, raised)


def test_bare_number_value_is_a_fixed_parameter() -> None:
    event = Event(name="x", kind="settle", target="relief", month=2, value=0.8)
    assert event.value == Parameter.fixed(0.8)


def test_sensitivity_over_an_event_month(small_scenario: Scenario) -> None:
    """A fixed month may take any value in [1, horizon + 1): sweeps set fractional ones."""
    event = Event(name="relief_lifted", kind="settle", target="relief", month=3, value=0.1)
    scn = with_events(small_scenario, event)
    result = basesim.sweep(
        scn, {"events.relief_lifted.month": (1.0, 6.0)}, n_runs=50, design="lhs", n_points=6, rng=2
    )
    assert result.ok.all()
