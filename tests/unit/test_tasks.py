"""Tasks that send back a tally of their whole blocks instead of every run's record."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import basesim
from basesim.engine.compiled import BLOCK_SIZE
from basesim.experiments.tasks import BlockTally, batch_tasks, run_task, run_task_tally
from basesim.outcomes import Tally

RUNS = 5 * BLOCK_SIZE + 300


@pytest.fixture(scope="module")
def scenario() -> basesim.Scenario:
    return basesim.load_scenario("syria-2025")


def _tasks(scn: basesim.Scenario, size: int, keep: int = 0) -> list:
    root = np.random.SeedSequence(21)
    return list(
        batch_tasks(scn.to_toml(), root, engine="batch", start=0, stop=RUNS, size=size, keep=keep)
    )


@pytest.fixture(scope="module")
def by_records(scenario: basesim.Scenario) -> Tally:
    """The tally made from every run's record, in one task."""
    blocks = BlockTally(Tally.empty(scenario))
    for task in _tasks(scenario, RUNS):
        blocks.add(run_task(task)[0])
    return blocks.finish()


@pytest.mark.parametrize("size", [RUNS, 2 * BLOCK_SIZE, 2 * BLOCK_SIZE + 1, 1500, 700])
def test_tallied_tasks_give_the_tally_of_the_records_to_the_bit(scenario, by_records, size):
    blocks = BlockTally(Tally.empty(scenario))
    for task in _tasks(scenario, size):
        blocks.add_result(run_task_tally(task))
    tally = blocks.finish()
    assert tally.n_runs == by_records.n_runs == RUNS
    for name, array in by_records.arrays().items():
        np.testing.assert_array_equal(tally.arrays()[name], array, err_msg=name)


def test_a_task_is_cut_at_block_boundaries(scenario):
    # Runs 1500 .. 2999 hold no whole block: they come back as records.
    result = run_task_tally(_tasks(scenario, 1500)[1])
    assert result.part is None and result.trail is None
    assert result.lead is not None and result.lead.n_runs == 1500
    assert result.lead.sampled.shape[1] == 0  # a tally does not read sampled values
    # Runs 2049 .. 4097: 1023 end block 2, block 3 is whole, 2 start block 4.
    result = run_task_tally(_tasks(scenario, 2 * BLOCK_SIZE + 1)[1])
    assert result.lead is not None and result.lead.n_runs == BLOCK_SIZE - 1
    assert result.part is not None and result.part.n_runs == BLOCK_SIZE
    assert result.trail is not None and result.trail.n_runs == 2
    whole = run_task_tally(_tasks(scenario, 2 * BLOCK_SIZE)[0])
    assert whole.lead is None and whole.trail is None
    assert whole.part is not None and whole.part.sums.shape[0] == 2


def test_a_tallied_task_sends_back_much_less_than_its_records(scenario):
    task = _tasks(scenario, 4 * BLOCK_SIZE)[0]
    records = len(pickle.dumps(run_task(task)))
    tallied = len(pickle.dumps(run_task_tally(task)))
    assert tallied * 5 < records, (tallied, records)


def test_kept_runs_and_codes_come_back(scenario):
    task = _tasks(scenario, 2 * BLOCK_SIZE, keep=10)[0]
    outcome, head = run_task(task)
    result = run_task_tally(task, codes=True)
    assert result.head.n_runs == head.n_runs == 10
    np.testing.assert_array_equal(result.head.package, head.package)
    table = Tally.empty(scenario).table
    assert result.codes is not None
    np.testing.assert_array_equal(result.codes, table.codes(scenario, outcome))


def test_whole_blocks_after_a_half_block_are_refused(scenario):
    first = _tasks(scenario, 1500)[0]
    blocks = BlockTally(Tally.empty(scenario))
    blocks.add_result(run_task_tally(first))  # leaves 1500 runs of block 1 pending
    whole = run_task_tally(_tasks(scenario, 2 * BLOCK_SIZE)[0])
    with pytest.raises(basesim.SimulationError, match="still pending"):
        blocks.add_result(whole)
