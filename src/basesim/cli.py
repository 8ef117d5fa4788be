"""The ``basesim`` command line.

Bad input (an unknown scenario, a malformed file, a bad option) exits with
status 2 and one line on stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from basesim.exceptions import BasesimError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"basesim: error: {message}\n")


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
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number (got {value})")
    return value


def _write_table(frame: Any, out: str | None) -> None:
    import pandas as pd

    if out is None:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False))
        return
    from basesim._io import write_text_atomic

    path = Path(out)
    if path.suffix == ".csv":
        write_text_atomic(path, frame.to_csv(index=False))
    elif path.suffix == ".json":
        write_text_atomic(path, frame.to_json(orient="records", indent=2))
    else:
        raise BasesimError(f"--out must end in .csv or .json (got {out!r})")
    print(f"wrote {path}")


def _cmd_list(args: argparse.Namespace) -> None:
    from basesim.scenarios import list_scenarios, load_scenario

    for name in list_scenarios():
        print(f"{name:<36} {load_scenario(name).title}")


def _cmd_explain(args: argparse.Namespace) -> None:
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    table = scn.explain()
    if args.out is None:
        print(f"{scn.name}: {scn.title}")
        print(f"{len(scn.actors)} actors, {len(scn.issues)} issues, horizon {scn.horizon} rounds")
        print()
        columns = ["actor", "issue", "field", "value", "uncertainty", "evidence", "confidence", "rationale"]
        table = table[columns]
    _write_table(table, args.out)


def _cmd_validate(args: argparse.Namespace) -> None:
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.file)
    print(
        f"{args.file}: valid scenario {scn.name!r} ({len(scn.actors)} actors, {len(scn.issues)} issues, "
        f"{len(scn.uncertain_parameters())} uncertain parameters)"
    )


def _cmd_run(args: argparse.Namespace) -> None:
    from basesim.experiments import simulate
    from basesim.scenarios import load_scenario

    scn = load_scenario(args.scenario)
    result = simulate(
        scn,
        n_runs=args.n_runs,
        engine=args.engine,
        precision=args.precision,
        progress=None if args.progress else False,
        rng=args.rng,
    )
    probs = result.probabilities()
    print(f"{scn.name}: {result.n_runs:,} runs, engine {args.engine}, rng {args.rng}")
    print()
    shown = probs.assign(
        probability=probs.probability.map("{:.3f}".format),
        ci_low=probs.ci_low.map("{:.3f}".format),
        ci_high=probs.ci_high.map("{:.3f}".format),
    )
    _write_table(shown if args.out is None else probs, args.out)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = result.plot()
        ax.figure.savefig(args.plot, dpi=150, bbox_inches="tight")
        print(f"wrote {args.plot}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``basesim`` command."""
    from basesim import __version__

    parser = _Parser(prog="basesim", description="Scenario analysis of multi-actor negotiations.")
    parser.add_argument("--version", action="version", version=f"basesim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="list the bundled scenarios")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("explain", help="every parameter of a scenario with its evidence")
    p.add_argument("scenario", help="bundled scenario name or path of a .toml file")
    p.add_argument("--out", help="write the table to FILE.csv or FILE.json")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("validate", help="check a scenario file")
    p.add_argument("file", help="path of a .toml scenario file")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="simulate a scenario and print outcome probabilities")
    p.add_argument("scenario", help="bundled scenario name or path of a .toml file")
    p.add_argument("--n-runs", type=_positive_int, default=20_000, help="number of runs (default 20000)")
    p.add_argument("--rng", type=_seed, default=1, help="seed (default 1)")
    p.add_argument("--engine", choices=("batch", "mesa"), default="batch", help="simulation engine")
    p.add_argument("--precision", type=float, default=None, help="target interval half-width (adaptive)")
    p.add_argument("--out", help="write probabilities to FILE.csv or FILE.json")
    p.add_argument("--plot", help="save a plot of the probabilities to FILE.png")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except BasesimError as exc:
        print(f"basesim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. `basesim explain ... | head`
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
