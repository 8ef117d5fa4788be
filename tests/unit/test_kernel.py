"""The compiled month against the NumPy reference, piece by piece and month by month.

``tests/properties/test_equivalence.py`` compares whole runs; here the parts
are compared where they can disagree: the rule check and the minimal winning
coalitions on random rule tables, and a month's full record (proposer,
package, responses, reservation and disagreement values) run by run, for the
first months of every bundled scenario under both reservation forms.
"""

from __future__ import annotations

import numpy as np
import pytest

import basesim
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.engine.kernel import bargaining as kernel
from basesim.protocols.bargaining import (
    Bargaining,
    RunState,
    kernel_tables,
    play_round,
    play_round_compiled,
)
from basesim.protocols.proposer import _minimal_winning_of
from basesim.protocols.rules import RuleTable, issue_rule_met
from basesim.testing import spatial_scenario


def _random_rules(rng: np.random.Generator, n_act: int, n_iss: int) -> RuleTable:
    code = rng.integers(0, 4, n_iss)
    voters = rng.random((n_act, n_iss)) < 0.7
    voters[0] = True  # every issue has a voter
    votes = np.where(voters, rng.choice([1.0, 2.0, 3.5], (n_act, n_iss)), 0.0)
    authority = np.where(code == 3, rng.integers(0, n_act, n_iss), -1)
    return RuleTable(
        code=code,
        voters=voters,
        votes=votes,
        total_votes=votes.sum(axis=0),
        n_voters=voters.sum(axis=0),
        threshold=rng.uniform(0.3, 1.0, n_iss),
        min_voter_share=np.where(rng.random(n_iss) < 0.5, rng.uniform(0.3, 1.0, n_iss), 0.0),
        authority=authority,
    )


def _packed(rules: RuleTable) -> tuple[np.ndarray, ...]:
    return (
        rules.code.astype(np.int64),
        rules.voters,
        rules.votes,
        rules.total_votes,
        rules.n_voters.astype(np.int64),
        rules.threshold,
        rules.min_voter_share,
        rules.authority.astype(np.int64),
        np.ascontiguousarray(rules.forced),
        np.ascontiguousarray(rules.optional),
    )


@pytest.mark.parametrize("seed", range(20))
def test_rule_check_is_the_reference_check(seed):
    rng = np.random.default_rng(seed)
    n_act, n_iss = int(rng.integers(2, 9)), int(rng.integers(1, 4))
    rules = _random_rules(rng, n_act, n_iss)
    accepted = rng.random((64, n_act)) < 0.6
    for k in range(n_iss):
        expected = issue_rule_met(rules, accepted, k)
        got = [kernel.issue_met(_packed(rules), row, k) for row in accepted]
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", range(20))
def test_minimal_winning_coalitions_are_the_reference_coalitions(seed):
    rng = np.random.default_rng(100 + seed)
    n_act, n_iss = int(rng.integers(2, 10)), int(rng.integers(2, 4))
    rules = _random_rules(rng, n_act, n_iss)
    subset = rng.random(n_iss) < 0.7
    subset[0] = True

    class Tables:
        coalitions: dict = {}  # noqa: RUF012 - a fresh cache per test

    Tables.rules = rules  # type: ignore[attr-defined]
    for j in range(n_act):
        expected = _minimal_winning_of(Tables, subset.tobytes(), j)  # type: ignore[arg-type]
        got = kernel.minimal_winning(_packed(rules), subset, j)
        np.testing.assert_array_equal(got, expected)


def _months(scenario: basesim.Scenario, n_runs: int, months: int, seed: int) -> int:
    """Play the first ``months`` months both ways from the same state; assert equal records."""
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, np.random.SeedSequence(seed), 0, n_runs)
    params = compiled.parameters(inputs.quantiles)
    protocol = Bargaining()
    tables = protocol.compile(compiled)
    assert tables.kernel is not None
    ours = protocol.start(compiled, params)
    theirs = protocol.start(compiled, params)
    played = 0
    for month in range(1, months + 1):
        # The runs still negotiating, as the batch engine plays them (finished
        # runs are retired there, and skipped by the compiled month).
        rows = np.flatnonzero(ours.open.any(axis=1))
        recognition = inputs.recognition[rows, month - 1]
        noise = inputs.noise[rows, month - 1]
        part_params = params.take(rows)
        mine, reference = ours.take(rows), theirs.take(rows)
        got = play_round_compiled(compiled, tables, part_params, mine, month, recognition, noise)
        expected = play_round(compiled, tables, part_params, reference, month, recognition, noise)
        ours.put(rows, mine)
        theirs.put(rows, reference)
        for name in got.__slots__:
            np.testing.assert_array_equal(
                getattr(got, name), getattr(expected, name), err_msg=f"month {month}: {name}"
            )
        for name in RunState.__slots__:
            np.testing.assert_array_equal(
                getattr(ours, name), getattr(theirs, name), err_msg=f"month {month}: {name}"
            )
        played += int(got.offered.sum())
    return played


@pytest.mark.parametrize("name", basesim.list_scenarios())
def test_a_month_is_the_reference_month_bit_for_bit(name):
    # Every field of the month's record and of the state after it, for the
    # first six months of 400 runs (both reservation forms where the scenario
    # mixes them); proposals are made, so the comparison is not vacuous.
    assert _months(basesim.load_scenario(name), 400, 6, 11) > 100


def test_the_equilibrium_form_month_is_the_reference_month():
    scn = basesim.load_scenario("syria-2025").replace({"protocol.reservation": "equilibrium"})
    assert _months(scn, 60, 3, 5) > 10


def test_results_do_not_depend_on_threads_or_batch():
    scn = basesim.load_scenario("syria-2025")
    compiled = compile_scenario(scn)
    inputs = draw_inputs(compiled, np.random.SeedSequence(3), 0, 700)
    params = compiled.parameters(inputs.quantiles)
    protocol = Bargaining()
    tables = protocol.compile(compiled)
    records = []
    before = basesim.get_threads()
    try:
        for threads, rows in ((1, np.arange(700)), (3, np.arange(700)), (2, None)):
            basesim.set_threads(threads)
            state = protocol.start(compiled, params)
            record = []
            for month in (1, 2, 3):
                if rows is None:
                    # One run at a time, as the Mesa model plays them.
                    parts = []
                    for i in range(700):
                        one = state.take(np.array([i]))
                        parts.append(
                            play_round_compiled(
                                compiled,
                                tables,
                                params.take(np.array([i])),
                                one,
                                month,
                                inputs.recognition[i : i + 1, month - 1],
                                inputs.noise[i : i + 1, month - 1],
                            ).package
                        )
                        state.put(np.array([i]), one)
                    record.append(np.concatenate(parts))
                else:
                    record.append(
                        play_round_compiled(
                            compiled,
                            tables,
                            params,
                            state,
                            month,
                            inputs.recognition[:, month - 1],
                            inputs.noise[:, month - 1],
                        ).package
                    )
            records.append(np.stack(record))
    finally:
        basesim.set_threads(before)
    np.testing.assert_array_equal(records[0], records[1])
    np.testing.assert_array_equal(records[0], records[2])


def test_linear_losses_on_several_issues_are_left_to_the_reference():
    # The multi-issue proposer's problem with p = 1 is a linear programme:
    # not compiled, so the NumPy month plays (and says so by leaving no kernel).
    scn = spatial_scenario(
        positions={"a": (0.0, 1.0), "b": (1.0, 0.0)},
        saliences={"a": (1.0, 1.0), "b": (1.0, 1.0)},
        capabilities={"a": 1.0, "b": 1.0},
        status_quo=(0.5, 0.5),
        exponent=1,
    )
    compiled = compile_scenario(scn)
    assert kernel_tables(compiled, Bargaining(kernel=False).compile(compiled)) is None
    assert Bargaining().compile(compiled).kernel is None


def _large_scenario(seed: int, *, n_actors: int = 10, n_issues: int = 6) -> basesim.Scenario:
    """More than four issues (sets of open issues found month by month), more than
    eight optional voters (coalitions built cheapest first) and every rule; both
    reservation forms; quadratic losses (a budget needs linear ones: see below)."""
    from basesim import Actor, Budget, Distribution, Issue, Parameter, ProtocolSettings, Stance

    rng = np.random.default_rng(seed)
    # With one issue, linear losses and a budget on it (its one-issue search is compiled).
    exponent = 1 if n_issues == 1 else 2
    budget = (Budget(name="spending", issues=("i0",), total=0.35),) if n_issues == 1 else ()

    def uniform(low: float, high: float) -> Parameter:
        return Parameter(
            value=(low + high) / 2, distribution=Distribution(kind="uniform", low=low, high=high)
        )

    names = [f"p{i}" for i in range(n_actors)]
    kinds = (
        {"rule": "majority"},
        {"rule": "unanimity", "voters": ("p0", "p1")},
        {"rule": "qualified", "threshold": 0.6, "min_voter_share": 0.5},
        {"rule": "unilateral", "authority": "p2"},
        {"rule": "majority", "voters": tuple(names[:5])},
        {"rule": "qualified", "threshold": 0.75},
    )
    issues = tuple(
        Issue(
            name=f"i{k}",
            label=f"I{k}",
            status_quo=uniform(0.0, 0.3) if k < 3 else uniform(0.2, 0.8),
            **kinds[k % len(kinds)],
        )
        for k in range(n_issues)
    )
    actors = []
    for name in names:
        stances = {}
        for issue in issues:
            centre = float(rng.random())
            stances[issue.name] = Stance(
                position=uniform(max(0.0, centre - 0.2), min(1.0, centre + 0.2)),
                salience=uniform(0.1, 1.0),
            )
        actors.append(
            Actor(
                name=name,
                label=name.upper(),
                capability=uniform(0.5, 2.0),
                noise=uniform(0.0, 0.1),
                votes=float(rng.choice([1.0, 2.0])),
                stances=stances,
            )
        )
    return basesim.Scenario(
        name="large",
        issues=issues,
        actors=tuple(actors),
        horizon=6,
        budgets=budget,
        protocol=ProtocolSettings(
            utility_exponent=exponent,
            lookahead=2,
            reservation=Parameter(
                value=0.0, distribution=Distribution(kind="choice", weights=(0.7, 0.3))
            ),
        ),
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_many_issues_budgets_and_many_voters_month_by_month(seed):
    assert _months(_large_scenario(seed), 150, 6, seed) > 50


def test_one_issue_with_a_budget_and_linear_losses_month_by_month():
    assert _months(_large_scenario(3, n_issues=1), 150, 6, 3) > 20


def test_a_finished_run_is_skipped_and_left_as_it_was():
    # The batch engine leaves finished runs in its arrays until they are half of
    # them; the compiled month must then leave them exactly as they were.
    compiled = compile_scenario(basesim.load_scenario("syria-2025"))
    inputs = draw_inputs(compiled, np.random.SeedSequence(4), 0, 50)
    params = compiled.parameters(inputs.quantiles)
    protocol = Bargaining()
    tables = protocol.compile(compiled)
    state = protocol.start(compiled, params)
    state.open[::2] = False
    before = state.take(np.arange(50))
    record = play_round_compiled(
        compiled, tables, params, state, 1, inputs.recognition[:, 0], inputs.noise[:, 0]
    )
    for name in RunState.__slots__:
        np.testing.assert_array_equal(getattr(state, name)[::2], getattr(before, name)[::2])
    assert (record.proposer[::2] == -1).all()
    assert not record.offered[::2].any()
    # The others played: their stances moved or a proposal was counted.
    assert (state.proposals[1::2].sum(axis=1) == 1).all()


def test_a_task_on_one_thread_gives_the_same_runs_and_restores_the_threads():
    from basesim.experiments.tasks import batch_tasks, run_task

    scn = basesim.load_scenario("syria-2025")
    root = np.random.SeedSequence(9)
    before = basesim.get_threads()
    basesim.set_threads(2)
    outcomes = []
    try:
        for threads in (0, 1):
            (task,) = batch_tasks(
                scn.to_toml(), root, engine="batch", start=0, stop=300, size=300, keep=0,
                threads=threads,
            )  # fmt: skip
            outcomes.append(run_task(task)[0])
            assert basesim.get_threads() == 2
    finally:
        basesim.set_threads(before)
    np.testing.assert_array_equal(outcomes[0].package, outcomes[1].package)
    np.testing.assert_array_equal(outcomes[0].settled_round, outcomes[1].settled_round)


def test_threads_are_set_per_calling_thread_and_checked():
    import threading

    before = basesim.get_threads()
    seen = []
    try:
        basesim.set_threads(1)
        other = threading.Thread(target=lambda: seen.append(basesim.get_threads()))
        other.start()
        other.join()
        assert basesim.get_threads() == 1
        assert seen[0] >= 1 and seen[0] != 0
    finally:
        basesim.set_threads(before)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(basesim.SimulationError, match="threads must be a whole number"):
            basesim.set_threads(bad)


def test_simulations_in_several_threads_at_once_give_the_same_runs():
    # The month runs on a pool of ordinary threads, so callers in several
    # threads of one process (a Dask worker with two threads) may simulate at once.
    from concurrent.futures import ThreadPoolExecutor

    scn = basesim.load_scenario("syria-2025")
    alone = [basesim.simulate(scn, n_runs=1500, rng=s, keep_runs=1500) for s in (1, 2, 3)]
    with ThreadPoolExecutor(3) as pool:
        together = list(
            pool.map(
                lambda s: basesim.simulate(scn, n_runs=1500, rng=s, keep_runs=1500), (1, 2, 3)
            )
        )
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a.runs.package, b.runs.package)
        np.testing.assert_array_equal(a.runs.settled_round, b.runs.settled_round)


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="this platform cannot fork",
)
def test_a_process_pool_may_fork_after_a_simulation():
    # No OpenMP runtime in the process: a forked worker can simulate after its parent has.
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor

    scn = basesim.load_scenario("syria-2025")
    here = basesim.simulate(scn, n_runs=2048, rng=4, keep_runs=0)
    context = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        # Python >= 3.12 warns that forking a process with threads (the month's
        # idle pool) is deprecated; the point here is that it works.
        warnings.simplefilter("ignore", DeprecationWarning)
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            there = basesim.simulate(
                scn, n_runs=2048, rng=4, keep_runs=0, executor=pool, batch_size=1024
            )
    np.testing.assert_array_equal(here.tally.counts(), there.tally.counts())
    np.testing.assert_array_equal(here.tally.package_sum, there.tally.package_sum)
