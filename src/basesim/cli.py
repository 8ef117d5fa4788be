"""The ``basesim`` command line.

Commands: ``list``, ``explain``, ``validate``, ``run``, ``compare``, ``sweep``,
``sensitivity``, ``backtest`` and ``score``; ``basesim COMMAND --help`` describes each.

Bad input (an unknown scenario, a malformed file, a bad option, a malformed
``--param``, an unknown field path) exits with status 2 and one line on
stderr, ``basesim: error: ...``, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import re
import shutil
import sys
import textwrap
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, NoReturn

from basesim.exceptions import BasesimError

__all__ = ["build_parser", "main"]

EXECUTORS = ("serial", "process", "dask")
DESIGNS = ("lhs", "sobol", "grid")
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"basesim: error: {message}\n")


# -- argument types -----------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative whole number (got {text!r})"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number (got {value})")
    return value


def _param_range(text: str) -> tuple[str, float, float]:
    """``PATH=LOW:HIGH`` -> ``(path, low, high)``, with finite numbers and ``low < high``."""
    path, eq, bounds = text.partition("=")
    low_text, colon, high_text = bounds.partition(":")
    path = path.strip()
    if not eq or not colon or not path:
        raise argparse.ArgumentTypeError(f"must be PATH=LOW:HIGH (got {text!r})")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"LOW and HIGH must be numbers in PATH=LOW:HIGH (got {text!r})"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise argparse.ArgumentTypeError(f"LOW and HIGH must be finite (got {text!r})")
    if not low < high:
        raise argparse.ArgumentTypeError(f"LOW must be less than HIGH (got {text!r})")
    return path, low, high


def _parameters(scenario: Any, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """The ``--param`` ranges, each checked against the scenario (a known numeric field)."""
    from basesim.exceptions import SimulationError
    from basesim.experiments.sweep import swept_parameters

    out: dict[str, tuple[float, float]] = {}
    for path, low, high in args.param:
        if path in out:
            raise BasesimError(f"--param {path} is given twice")
        try:
            swept_parameters(scenario, {path: (low, high)})
        except SimulationError as exc:
            reason = re.sub(r"^parameters(\[[^\]]*\])?:?\s*", "", str(exc))
            raise BasesimError(f"--param {path}: {reason}") from None
        out[path] = (low, high)
    return out


def _check_outcome(scenario: Any, outcome: str | None) -> None:
    if outcome is not None:
        from basesim.outcomes import OutcomeTable

        OutcomeTable.of(scenario).index(outcome, argument="--outcome")


# -- output -------------------------------------------------------------------------------
def _check_outputs(args: argparse.Namespace) -> None:
    """Reject a bad or unwritable ``--out``, ``--plot`` or ``--checkpoint`` before any run."""
    from basesim._io import check_writable
    from basesim.exports import check_suffix

    out = getattr(args, "out", None)
    if out is not None:
        check_suffix(out, argument="--out")
    plot = getattr(args, "plot", None)
    if plot is not None and Path(plot).suffix.lower() not in _PLOT_SUFFIXES:
        raise BasesimError(f"--plot must end in .png, .pdf or .svg (got {plot!r})")
    for name, value in (("--out", out), ("--plot", plot)):
        if value is not None:
            check_writable(Path(value), what=name)
    checkpoint = getattr(args, "checkpoint", None)
    if checkpoint is not None:
        check_writable(Path(checkpoint), what="--checkpoint", folder=True)


def _print_table(frame: Any) -> None:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", 200
    ):
        print(frame.to_string(index=False))


def _write_table(frame: Any, out: str, source: Any) -> None:
    """Write ``frame`` with the provenance of ``source`` (a result or a scenario)."""
    from basesim.exports import write_table

    path = write_table(frame, out, provenance=source)
    print(f"wrote {path}", file=sys.stderr)


def _save_plot(draw: Any, out: str) -> None:
    """Call ``draw()`` (which returns an Axes) under the Agg backend and save its figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from basesim._io import write_atomic_with

    ax = draw()
    path = Path(out)
    # The temporary file's name does not end in the format's suffix: name it.
    kind = path.suffix.lstrip(".").lower() or "png"
    try:
        write_atomic_with(
            path, lambda tmp: ax.figure.savefig(tmp, dpi=150, bbox_inches="tight", format=kind)
        )
    except OSError as exc:
        raise BasesimError(f"cannot write --plot {out!r}: {exc.strerror or exc}") from None
    finally:
        plt.close(ax.figure)
    print(f"wrote {out}", file=sys.stderr)


def _progress(args: argparse.Namespace) -> bool | None:
    # None: a bar only when stderr is a terminal; --progress / --no-progress force it.
    value: bool | None = args.progress
    return value


# -- executors ----------------------------------------------------------------------------
@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor ``--executor`` and ``--workers`` ask for, shut down afterwards."""
    kind, workers = args.executor, args.workers
    if kind == "serial":
        if workers is not None:
            raise BasesimError("--workers needs --executor process or dask")
        yield None
    elif kind == "process":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Spawned workers: forking a process that may run threads is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool
    else:
        try:
            from dask import distributed
        except ImportError:
            raise BasesimError(
                "--executor dask needs dask.distributed: pip install 'basesim[dask]'"
            ) from None
        # dask.distributed is untyped.
        cluster_class: Any = distributed.LocalCluster
        client_class: Any = distributed.Client
        with (
            cluster_class(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never the default 8787
                silence_logs=logging.ERROR,
            ) as cluster,
            client_class(cluster) as client,
        ):
            yield client.get_executor()


# -- commands -----------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> None:
    from basesim.scenarios import list_scenarios, load_scenario

    for name in list_scenarios():
        print(f"{name:<36} {load_scenario(name).title}")


def _cmd_explain(args: argparse.Namespace) -> None:
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    table = scn.explain()
    if args.out is not None:
        _write_table(table, args.out, scn)
        return
    width = max(40, args.columns or shutil.get_terminal_size().columns)
    print(textwrap.fill(f"{scn.name}: {scn.title}", width=width))
    print(f"{len(scn.actors)} actors, {len(scn.issues)} issues, horizon {scn.horizon} months")
    print()
    if args.table:
        columns = ["actor", "issue", "field", "value", "uncertainty", "evidence", "confidence"]
        _print_table(table[columns])
        print()
    else:
        for line in explain_blocks(table, width=width):
            print(line)
    print(textwrap.fill(EVIDENCE_KEY, width=width))


#: What the evidence identifiers of ``explain`` stand for.
EVIDENCE_KEY = (
    "Evidence: S<n> is sentence n of the source report, E<n> item n of the record of "
    "later events (the docs' evidence pages say what each supports); 'assumption' marks "
    "the modeller's own choice."
)


def explain_blocks(table: Any, *, width: int) -> Iterator[str]:
    """``explain``'s table as one block a parameter, wrapped to ``width`` columns."""
    wrap = textwrap.TextWrapper(
        width=width, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
    )
    for row in table.itertuples(index=False):
        head = f"{row.path} = {row.value:g}"
        detail = f"{row.uncertainty}; evidence {row.evidence or 'none'}"
        if row.confidence:
            detail += f"; confidence {row.confidence}"
        yield head
        yield from textwrap.wrap(
            detail,
            width=width,
            initial_indent="  ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
        if row.rationale:
            yield from wrap.wrap(str(row.rationale))
        yield ""


def _cmd_validate(args: argparse.Namespace) -> None:
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.file)
    print(
        f"{args.file}: valid scenario {scn.name!r} ({len(scn.actors)} actors, "
        f"{len(scn.issues)} issues, {len(scn.uncertain_parameters())} uncertain parameters)"
    )


def _cmd_run(args: argparse.Namespace) -> None:
    from basesim.experiments import simulate
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    with _executor(args) as executor:
        result = simulate(
            scn,
            n_runs=args.n_runs,
            engine=args.engine,
            precision=args.precision,
            executor=executor,
            progress=_progress(args),
            model=args.model,
            rng=args.rng,
        )
    probs = result.probabilities()
    print(
        f"{scn.name}: {result.n_runs:,} runs, model {result.model}, engine {args.engine}, "
        f"rng {args.rng}"
    )
    if result.precision_reached is not None:
        widest = result.tally.max_half_width()
        if result.precision_reached:
            print(
                f"precision {args.precision:g} reached: widest 95% half-width {widest:.4f} "
                f"after {result.n_runs:,} runs"
            )
        else:
            message = (
                f"precision {args.precision:g} NOT reached: widest 95% half-width {widest:.4f} "
                f"after {result.n_runs:,} runs, the --n-runs cap; raise --n-runs"
            )
            print(message)
            print(f"basesim: warning: {message}", file=sys.stderr)
    print()
    _print_table(
        probs.assign(
            probability=probs.probability.map("{:.3f}".format),
            ci_low=probs.ci_low.map("{:.3f}".format),
            ci_high=probs.ci_high.map("{:.3f}".format),
        )
    )
    if args.out is not None:
        _write_table(probs, args.out, result)
    if args.plot is not None:
        _save_plot(result.plot, args.plot)


def _cmd_compare(args: argparse.Namespace) -> None:
    from basesim.experiments import compare
    from basesim.scenarios import load_scenario

    if len(args.scenarios) < 2:
        raise BasesimError(f"compare needs at least two scenarios (got {len(args.scenarios)})")
    if len(set(args.scenarios)) < len(args.scenarios):
        raise BasesimError("compare was given the same scenario twice")
    scns = [load_scenario(s) for s in args.scenarios]
    # Name each scenario by its own name, unless two share one: then as given.
    names = [s.name for s in scns]
    if len(set(names)) < len(names):
        names = list(args.scenarios)
    with _executor(args) as executor:
        result = compare(
            dict(zip(names, scns, strict=True)),
            n_runs=args.n_runs,
            engine=args.engine,
            executor=executor,
            progress=_progress(args),
            model=args.model,
            rng=args.rng,
        )
    print(repr(result))
    if args.out is not None:
        _write_table(result.to_frame(), args.out, result)
    if args.plot is not None:
        from basesim.plotting import plot_comparison

        # The joint table, unless the scenarios' issues differ: then the first shared one.
        _save_plot(lambda: plot_comparison(result, table=result.tables[0]), args.plot)


def _sweep_outcome(result: Any, outcome: str | None) -> str:
    """The outcome a sweep's plot shows: ``outcome``, or the likeliest joint outcome."""
    if outcome is not None:
        return outcome
    from basesim.outcomes import outcome_name

    summary = result.summary()
    joint = summary[summary["table"] == "joint"].sort_values(
        "mean", ascending=False, kind="stable"
    )
    return outcome_name("joint", str(joint["outcome"].iloc[0]))


def _cmd_sweep(args: argparse.Namespace) -> None:
    from basesim.experiments import sweep
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    parameters = _parameters(scn, args)
    _check_outcome(scn, args.outcome)
    with _executor(args) as executor:
        result = sweep(
            scn,
            parameters,
            design=args.design,
            n_points=args.n_points,
            n_runs=args.n_runs,
            checkpoint=args.checkpoint,
            executor=executor,
            progress=_progress(args),
            model=args.model,
            rng=args.rng,
        )
    print(repr(result))
    if args.out is not None:
        _write_table(result.to_frame(), args.out, result)
    if args.plot is not None:
        from basesim.plotting import plot_sweep_line, plot_sweep_surface

        outcome = _sweep_outcome(result, args.outcome)
        if len(parameters) == 1:
            (x,) = parameters
            _save_plot(lambda: plot_sweep_line(result, x=x, outcome=outcome), args.plot)
        else:
            x, y = list(parameters)[:2]
            _save_plot(lambda: plot_sweep_surface(result, x=x, y=y, outcome=outcome), args.plot)


def _cmd_sensitivity(args: argparse.Namespace) -> None:
    from basesim.experiments import sensitivity
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    parameters = _parameters(scn, args)
    from basesim.expressions import parse_outcome

    parse_outcome(scn, args.outcome, argument="--outcome")
    with _executor(args) as executor:
        result = sensitivity(
            scn,
            parameters,
            outcome=args.outcome,
            n=args.n,
            n_runs=args.n_runs,
            n_resamples=args.n_resamples,
            executor=executor,
            progress=_progress(args),
            model=args.model,
            rng=args.rng,
        )
    print(repr(result))
    if args.out is not None:
        _write_table(result.to_frame(), args.out, result)
    if args.plot is not None:
        from basesim.plotting import plot_sensitivity

        _save_plot(lambda: plot_sensitivity(result), args.plot)


def _print_scores(frame: Any) -> None:
    """A backtest table with two decimals (the share of cases too), blanks for NaN."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f":
            shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.2f}")
    _print_table(shown)


def _cmd_backtest(args: argparse.Namespace) -> None:
    from basesim.data import read_deu
    from basesim.experiments import backtest

    models = None
    if args.models is not None:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        if not models:
            raise BasesimError(f"--models must name at least one model (got {args.models!r})")
    cases = read_deu(args.file, capability=args.capability, missing_salience=args.missing_salience)
    if not cases:
        raise BasesimError(f"{args.file}: no issue has an outcome and enough actors to score")
    with _executor(args) as executor:
        result = backtest(
            cases,
            models=models,
            n_runs=args.n_runs,
            n_boot=args.n_boot,
            executor=executor,
            progress=_progress(args),
            rng=args.rng,
        )
    print(
        f"{args.file}: {result.n_cases} cases of {len(set(result.proposal))} proposals; "
        f"{result.n_runs} runs per case and model; rng {args.rng}; errors in the data's units"
    )
    print()
    if args.ensemble is not None:
        from basesim.experiments import cross_validate_ensemble

        fit = cross_validate_ensemble(result, k=args.ensemble, rng=args.rng)
        result = fit.backtest
    table = result.to_frame()
    _print_scores(table)
    if args.ensemble is not None:
        print()
        print(
            f"ensemble-cv: each case predicted by mixture weights fitted on the other "
            f"{args.ensemble - 1} of {args.ensemble} folds (proposals kept together), so its "
            "row is out of sample; weights fitted on every case, for use:"
        )
        for model, weight in zip(fit.models, fit.weights, strict=True):
            print(f"  {model:<20} {weight:.3f}")
    for by in args.by or ():
        print()
        print(f"by {by}:")
        _print_scores(result.breakdown(by))
    if result.failures:
        print()
        print(f"{len(result.failures)} (model, case) pairs were refused; first: ")
        model, issue, message = result.failures[0]
        print(f"  {model} on {issue}: {message}")
    if args.out is not None:
        import hashlib

        from basesim.exports import table_provenance

        # The data file is to a backtest what the scenario is to a simulation.
        digest = hashlib.sha256(Path(args.file).read_bytes()).hexdigest()
        version, *rest = table_provenance(result).items()
        source = dict([version, ("data", str(args.file)), ("data_sha256", digest), *rest])
        _write_table(result.predictions_frame(), args.out, source)
    if args.plot is not None:
        _save_plot(result.plot, args.plot)


def _cmd_score(args: argparse.Namespace) -> None:
    from basesim.observations import read_observations, score
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    observations = read_observations(args.observations)
    result = score(scn, observations, n_runs=args.n_runs, model=args.model, rng=args.rng)
    print(result.headline() + f"; rng {args.rng}")
    print()
    frame = result.to_frame().drop(columns=["issue", "kind", "month"])
    for column in ("probability", "ci_low", "ci_high", "upper_bound_if_none"):
        frame[column] = frame[column].map(lambda v: "" if v != v else f"{v:.4f}")
    _print_scores(frame)
    print()
    print("mean scores per issue (lower is better):")
    _print_scores(result.issue_scores())
    print()
    print("does the model beat each baseline?")
    _print_scores(result.summary())
    note = result.notes()
    if note:
        print()
        print(note)


# -- the parser ---------------------------------------------------------------------------
def _add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="bundled scenario name or path of a .toml file")


def _add_common(p: argparse.ArgumentParser, *, n_runs: int, n_runs_help: str) -> None:
    p.add_argument(
        "--n-runs",
        type=_positive_int,
        default=n_runs,
        metavar="N",
        help=f"{n_runs_help} (default {n_runs})",
    )
    p.add_argument("--rng", type=_seed, default=1, metavar="SEED", help="seed (default 1)")
    p.add_argument(
        "--model",
        metavar="NAME",
        help="negotiation model to run, e.g. bargaining, compromise, nash "
        "(default: the scenario's [protocol] model)",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="serial",
        help="where to run: in this process (serial, the default), a process pool, "
        "or a local Dask cluster",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="workers of the process pool or Dask cluster (default: one per CPU)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the result's table, with its provenance, to FILE.csv, FILE.json or "
        "FILE.parquet",
    )
    p.add_argument("--plot", metavar="FILE", help="save a plot to FILE.png (or .pdf, .svg)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only when stderr is a terminal)",
    )


def _add_params(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--param",
        type=_param_range,
        action="append",
        required=True,
        metavar="PATH=LOW:HIGH",
        help="a numeric parameter's field path and range; repeat for several",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``basesim`` command."""
    from basesim import __version__

    parser = _Parser(prog="basesim", description="Scenario analysis of multi-actor negotiations.")
    parser.add_argument("--version", action="version", version=f"basesim {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    p = sub.add_parser("list", help="list the bundled scenarios")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("explain", help="every parameter of a scenario with its evidence")
    _add_scenario(p)
    p.add_argument(
        "--out", metavar="FILE", help="write the table to FILE.csv, FILE.json or FILE.parquet"
    )
    p.add_argument(
        "--table", action="store_true", help="one line a parameter, without the rationales"
    )
    p.add_argument(
        "--columns",
        type=_positive_int,
        default=None,
        metavar="N",
        help="wrap at N columns (default: the terminal's width)",
    )
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("validate", help="check a scenario file")
    p.add_argument("file", help="path of a .toml scenario file")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="simulate a scenario and print outcome probabilities")
    _add_scenario(p)
    _add_common(p, n_runs=20_000, n_runs_help="number of runs (with --precision, the cap)")
    p.add_argument(
        "--engine", choices=("batch", "mesa", "numpy"), default="batch", help="simulation engine"
    )
    p.add_argument(
        "--precision",
        type=float,
        default=None,
        metavar="HALF_WIDTH",
        help="target interval half-width: add runs until every probability has it",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "compare",
        help="simulate scenarios on common random numbers; differences from the first",
    )
    p.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help="two or more bundled scenario names or .toml paths; the first is the reference",
    )
    _add_common(p, n_runs=20_000, n_runs_help="runs per scenario")
    p.add_argument(
        "--engine", choices=("batch", "mesa", "numpy"), default="batch", help="simulation engine"
    )
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("sweep", help="outcome probabilities over a design of parameter values")
    _add_scenario(p)
    _add_params(p)
    p.add_argument("--design", choices=DESIGNS, default="lhs", help="design (default lhs)")
    p.add_argument(
        "--n-points",
        type=_positive_int,
        default=16,
        metavar="N",
        help="design points (grid: per parameter; sobol: a power of 2) (default 16)",
    )
    p.add_argument(
        "--outcome",
        metavar="NAME",
        help="outcome --plot shows, e.g. basing=withdrawal or basing=unsettled "
        "(default: the likeliest joint one)",
    )
    p.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="save finished points in DIR; run again with the same arguments to resume",
    )
    _add_common(p, n_runs=1_000, n_runs_help="runs per design point")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser(
        "sensitivity", help="Sobol' indices of an outcome's probability or a per-run mean"
    )
    _add_scenario(p)
    _add_params(p)
    p.add_argument(
        "--outcome",
        required=True,
        metavar="EXPR",
        help="outcome, e.g. basing=withdrawal, basing=unsettled (never settled), "
        "joint=withdrawal / substantial, 'no agreement' (nothing settled); a condition "
        "over outcomes, e.g. 'basing=withdrawal and not settled:sanctions_relief', "
        "'value:basing < 0.3 or month:basing > 12' (its probability is analysed); or a "
        "number, value:ISSUE (final value) or month:ISSUE (settlement round, horizon + 1 "
        "if never settled), whose mean over a point's runs is analysed",
    )
    p.add_argument(
        "--n",
        type=_positive_int,
        default=64,
        metavar="N",
        help="base sample size, a power of 2 (default 64)",
    )
    p.add_argument(
        "--n-resamples",
        type=_positive_int,
        default=999,
        metavar="N",
        help="bootstrap resamples of the intervals (default 999)",
    )
    _add_common(p, n_runs=256, n_runs_help="runs per sample point")
    p.set_defaults(func=_cmd_sensitivity)

    p = sub.add_parser(
        "backtest", help="score the models on observed decisions (a DEU-format file)"
    )
    p.add_argument("file", help="path of a tab-separated DEU-format file")
    p.add_argument(
        "--models",
        metavar="A,B",
        help="comma-separated registered models (default: every registered model)",
    )
    p.add_argument(
        "--n-runs",
        type=_positive_int,
        default=200,
        metavar="N",
        help="runs per case and model (default 200)",
    )
    p.add_argument(
        "--n-boot",
        type=_positive_int,
        default=2_000,
        metavar="N",
        help="bootstrap resamples of proposals for the intervals (default 2000)",
    )
    p.add_argument("--rng", type=_seed, default=1, metavar="SEED", help="seed (default 1)")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="serial",
        help="where to score the cases: in this process (default), a process pool, "
        "or a local Dask cluster",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="workers of the process pool or Dask cluster (default: one per CPU)",
    )
    p.add_argument(
        "--capability",
        choices=("gdp", "votes"),
        default="gdp",
        help="actors' capability: the file's GDP row, or the Council votes in force (default gdp)",
    )
    p.add_argument(
        "--missing-salience",
        choices=("error", "drop"),
        default="error",
        help="an actor with a position but no salience: stop with an error naming the "
        "row (default), or leave the actor out of that issue",
    )
    p.add_argument(
        "--ensemble",
        type=_positive_int,
        default=None,
        metavar="K",
        help="also score a mixture of the models whose weights are fitted by K-fold "
        "cross-validation by proposal (out of sample)",
    )
    p.add_argument(
        "--by",
        action="append",
        choices=("voting_rule", "procedure", "status_quo_source"),
        help="also print the scores within each group of cases; repeat for several",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write every case's predictions to FILE.csv, FILE.json or FILE.parquet",
    )
    p.add_argument(
        "--plot", metavar="FILE", help="save the errors' plot to FILE.png (or .pdf, .svg)"
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only when stderr is a terminal)",
    )
    p.set_defaults(func=_cmd_backtest)

    p = sub.add_parser(
        "score", help="score a scenario's forecast of observations (a TOML file) against baselines"
    )
    _add_scenario(p)
    p.add_argument("observations", help="path of a TOML file of [[observations]] tables")
    p.add_argument(
        "--runs",
        "--n-runs",
        dest="n_runs",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="runs to simulate (default 10000)",
    )
    p.add_argument("--rng", type=_seed, default=1, metavar="SEED", help="seed (default 1)")
    p.add_argument(
        "--model", metavar="M", help="registered model to run instead of the scenario's own"
    )
    p.set_defaults(func=_cmd_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument error (already printed)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    try:
        _check_outputs(args)
        args.func(args)
    except BasesimError as exc:
        print(f"basesim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. `basesim explain ... | head`
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
