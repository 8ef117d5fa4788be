"""Speed of the spatial model of politics (``smp``) against KTAB's own timings.

Prints runs per second of :func:`basesim.protocols.smp.run_smp` on KTAB's
example inputs, many Monte Carlo runs at once (each run's capabilities drawn
uniformly within +-10 % of the input, so runs take different numbers of
turns), and the ratio to KTAB's command-line model run one input at a time
(median wall time per run on a 2-core machine, database logging off: 25 ms for
dummyData_3Dim, 127 ms for the 13-actor 2-dimension example, 2.7 s for 40
actors on one dimension).  Also times ``basesim.simulate`` end to end on
dummyData_3Dim.  A benchmark, not a test: the figures depend on the machine.

    python benchmarks/bench_smp.py                       # 7x3 and 13x2 (built in)
    python benchmarks/bench_smp.py --csv dummyData-a040.csv   # add a KTAB csv input

A KTAB csv input: two header lines, then one line per actor: name,
description, capability, then position and salience (0-100) per dimension.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import basesim
from basesim.actors import Actor, Stance
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.protocols.smp import run_smp
from basesim.scenario import ProtocolSettings, Scenario

# KTAB's examples/smp/doc/dummyData_3Dim.csv: capability, (position, salience) x 3.
DUMMY_3DIM = [
    [102.543, 75.79, 49.53, 6.37, 5.91, 70.45, 28.15],
    [53.393, 82.72, 30.33, 73.50, 21.22, 64.00, 24.79],
    [129.643, 82.45, 48.47, 90.89, 13.55, 0.07, 34.62],
    [75.920, 62.52, 20.76, 50.82, 39.24, 62.33, 22.21],
    [63.224, 82.34, 40.96, 45.77, 25.43, 73.31, 22.59],
    [120.048, 84.48, 22.92, 33.70, 39.35, 88.11, 15.42],
    [54.178, 70.96, 31.75, 33.46, 27.93, 90.36, 26.03],
]
# KTAB's examples/smp/doc/SOE-Pol-Comp.csv (13 actors, 2 dimensions).
SOE = [
    [100.0, 30, 24.0, 20, 48.0],
    [60.2, 45, 44.7, 65, 41.3],
    [35.0, 30, 28.9, 15, 65.1],
    [35.0, 45, 20.6, 45, 49.4],
    [40.0, 50, 44.7, 65, 47.8],
    [20.0, 15, 32.0, 10, 32.0],
    [15.0, 20, 32.0, 15, 32.0],
    [25.0, 60, 43.9, 50, 50.1],
    [20.0, 30, 26.4, 15, 17.6],
    [35.0, 45, 35.9, 40, 46.6],
    [20.0, 50, 44.7, 50, 47.8],
    [20.0, 20, 47.4, 30, 40.6],
    [40.0, 15, 49.0, 60, 46.0],
]
# KTAB seconds per run: its command-line model built with -O2, database logging off,
# median wall time on a 2-core machine.
KTAB_SECONDS = {"7x3": 0.025, "13x2": 0.127, "40x1": 2.7, "80x1": 37.0}
# Turns of KTAB's timed run of each size.
KTAB_TURNS = {"7x3": 10, "13x2": 27, "40x1": 20, "80x1": 17}


def read_ktab_csv(path: Path) -> np.ndarray:
    """Capability, then (position, salience) per dimension, one row per actor."""
    rows = []
    for line in path.read_text().splitlines()[2:]:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 5 and fields[0]:
            rows.append([float(f) for f in fields[2:] if f])
    return np.array(rows)


def batch_inputs(
    table: np.ndarray, n_runs: int, seed: int, spread: float
) -> tuple[np.ndarray, ...]:
    """``n_runs`` copies, capabilities scaled by U(1 - spread, 1 + spread) per actor and run."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(1 - spread, 1 + spread, size=(n_runs, table.shape[0]))
    capability = table[:, 0][None] * scale
    position = np.repeat((table[:, 1::2] / 100.0)[None], n_runs, axis=0)
    salience = np.repeat((table[:, 2::2] / 100.0)[None], n_runs, axis=0)
    return position, salience, capability


def rate(table: np.ndarray, n_runs: int, repeat: int, spread: float) -> tuple[float, float]:
    """Best runs per second of ``run_smp`` over ``repeat`` calls, and the mean turns."""
    run_smp(*batch_inputs(table, min(n_runs, 8), 0, spread))  # warm-up
    best, turns = 0.0, 0.0
    for i in range(repeat):
        inputs = batch_inputs(table, n_runs, i + 1, spread)
        start = time.perf_counter()
        result = run_smp(*inputs)
        best = max(best, n_runs / (time.perf_counter() - start))
        turns = float(result.turns.mean())
    return best, turns


def scenario_of(table: np.ndarray) -> Scenario:
    """The input as a basesim scenario run by ``smp``, capability of each actor +-10 %."""
    n_dim = (table.shape[1] - 1) // 2
    issues = tuple(
        Issue(
            name=f"d{k}", label=f"Dimension {k}", status_quo=Parameter(value=0.5), rule="majority"
        )
        for k in range(n_dim)
    )
    actors = tuple(
        Actor(
            name=f"a{i}",
            label=f"Actor {i}",
            capability=Parameter(
                value=float(row[0]),
                distribution=Distribution(kind="uniform", low=0.9 * row[0], high=1.1 * row[0]),
            ),
            stances={
                f"d{k}": Stance(
                    position=Parameter(value=row[1 + 2 * k] / 100.0),
                    salience=Parameter(value=row[2 + 2 * k] / 100.0),
                )
                for k in range(n_dim)
            },
        )
        for i, row in enumerate(table)
    )
    return Scenario(
        name="ktab-example",
        title="KTAB example input",
        issues=issues,
        actors=actors,
        horizon=1,
        protocol=ProtocolSettings(model="smp"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs per batch for 7x3 and 13x2")
    parser.add_argument("--csv", type=Path, nargs="*", default=[], help="KTAB csv inputs to add")
    parser.add_argument("--csv-runs", type=int, default=20, help="runs per batch for --csv inputs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    print(
        f"basesim {basesim.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}"
    )
    cases = [("dummyData_3Dim", np.array(DUMMY_3DIM), args.runs)]
    cases.append(("SOE-Pol-Comp", np.array(SOE), max(1, args.runs // 4)))
    cases += [(p.stem, read_ktab_csv(p), args.csv_runs) for p in args.csv]
    print(
        "Each input twice: every run the input itself (spread 0, the run KTAB timed), then "
        "capabilities +-10 % per actor and run.  'per turn' compares turns per second."
    )
    head = f"{'input':<16} {'size':>6} {'spread':>6} {'runs':>6} {'turns':>6} {'runs/s':>9}"
    print(f"{head} {'KTAB':>7} {'ratio':>7} {'per turn':>8}")
    for label, table, n_runs in cases:
        n_act, n_dim = table.shape[0], (table.shape[1] - 1) // 2
        size = f"{n_act}x{n_dim}"
        for spread in (0.0, 0.1):
            per_second, turns = rate(table, n_runs, args.repeat, spread)
            row = f"{label:<16} {size:>6} {spread:6.2f} {n_runs:>6} {turns:6.1f} {per_second:9.1f}"
            ktab = KTAB_SECONDS.get(size)
            if ktab is None:
                print(f"{row} {'?':>7} {'?':>7} {'?':>8}")
                continue
            per_turn = per_second * turns * ktab / KTAB_TURNS[size]
            print(f"{row} {1 / ktab:7.2f} {per_second * ktab:6.1f}x {per_turn:7.1f}x")
    scn = scenario_of(np.array(DUMMY_3DIM))
    basesim.simulate(scn, n_runs=100, rng=0, keep_runs=0)
    start = time.perf_counter()
    basesim.simulate(scn, n_runs=args.runs, rng=1, keep_runs=0)
    per_second = args.runs / (time.perf_counter() - start)
    print(
        f"basesim.simulate(dummyData_3Dim, n_runs={args.runs}): {per_second:.1f} runs/s, "
        f"{per_second * KTAB_SECONDS['7x3']:.1f}x KTAB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
