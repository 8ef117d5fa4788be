"""What the proposer's problem costs: the compiled per-row solver against the batch solver.

Draws random proposer's problems (quadratic losses, ``K`` issues, ``N``
actors of which a random share constrain the package, bounds from the value of
a random package minus a random slack), solves them with
``basesim.protocols.proposer._solve`` on the whole batch and with
:func:`basesim.engine.kernel.solver.solve_proposer_row` row by row inside a
compiled loop (also with its scratch arrays allocated once), checks that the answers agree, and prints problems per second.

    python benchmarks/bench_kernel_solver.py [--rows 100000] [--issues 3] [--actors 6]
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numba
import numpy as np

from basesim.engine.kernel.solver import (
    proposer_workspace,
    solve_proposer_row,
    solve_proposer_row_with,
)
from basesim.engine.solver import utility
from basesim.protocols.proposer import _solve


@numba.njit(cache=True, nogil=True)
def solve_all(theta_j, sal_j, stances, salience, target, active, free, status_quo, out, ok):
    """Solve every row with the compiled per-row solver."""
    for i in range(theta_j.shape[0]):
        ok[i] = solve_proposer_row(
            theta_j[i],
            sal_j[i],
            stances[i],
            salience[i],
            target[i],
            active[i],
            free[i],
            status_quo[i],
            2,
            out[i],
        )


@numba.njit(cache=True, nogil=True)
def solve_all_with(theta_j, sal_j, stances, salience, target, active, free, status_quo, out, ok):
    """Solve every row with the compiled per-row solver, scratch arrays allocated once."""
    work = proposer_workspace(theta_j.shape[1], stances.shape[1])
    for i in range(theta_j.shape[0]):
        ok[i] = solve_proposer_row_with(
            theta_j[i],
            sal_j[i],
            stances[i],
            salience[i],
            target[i],
            active[i],
            free[i],
            status_quo[i],
            2,
            out[i],
            work,
        )


def problems(rows: int, n_issues: int, n_actors: int, share: float, seed: int) -> tuple:
    """Random proposer's problems, about two thirds of them feasible."""
    rng = np.random.default_rng(seed)
    theta_j = rng.random((rows, n_issues))
    sal_j = rng.random((rows, n_issues))
    stances = rng.random((rows, n_actors, n_issues))
    salience = rng.random((rows, n_actors, n_issues))
    free = rng.random((rows, n_issues)) < 0.8
    status_quo = rng.random((rows, n_issues))
    point = np.where(free, rng.random((rows, n_issues)), status_quo)
    value = utility(stances, salience, point[:, None, :])
    target = value - rng.normal(0.05, 0.1, (rows, n_actors))
    active = rng.random((rows, n_actors)) < share
    return theta_j, sal_j, stances, salience, target, active, free, status_quo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--issues", type=int, default=3)
    parser.add_argument("--actors", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for label, share in (("direct (about half active)", 0.5), ("mostly cuts (all active)", 1.0)):
        data = problems(args.rows, args.issues, args.actors, share, seed=1)
        out = np.empty_like(data[0])
        ok = np.empty(args.rows, dtype=np.bool_)
        out_with = np.empty_like(out)
        ok_with = np.empty_like(ok)
        solve_all(*(a[:10] for a in data), out[:10], ok[:10])  # compile
        solve_all_with(*(a[:10] for a in data), out[:10], ok[:10])
        best_kernel = best_with = best_numpy = np.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            solve_all(*data, out, ok)
            best_kernel = min(best_kernel, time.perf_counter() - start)
            start = time.perf_counter()
            solve_all_with(*data, out_with, ok_with)
            best_with = min(best_with, time.perf_counter() - start)
            start = time.perf_counter()
            expected, feasible = _solve(*data, 2, SimpleNamespace())
            best_numpy = min(best_numpy, time.perf_counter() - start)
        same = (
            np.array_equal(ok, feasible)
            and np.array_equal(ok_with, feasible)
            and np.array_equal(out.view(np.uint64), expected.view(np.uint64))
            and np.array_equal(out_with.view(np.uint64), expected.view(np.uint64))
        )
        cuts = float(np.mean(data[5].sum(axis=1) > 4))
        print(
            f"{label}: K={args.issues}, N={args.actors}, {args.rows} rows "
            f"({feasible.mean():.0%} feasible, {cuts:.0%} by cuts), identical: {same}"
        )
        print(f"  compiled per row: {args.rows / best_kernel:12,.0f} problems/s")
        print(f"  same, scratch once: {args.rows / best_with:10,.0f} problems/s")
        print(f"  NumPy batch:      {args.rows / best_numpy:12,.0f} problems/s")


if __name__ == "__main__":
    main()
