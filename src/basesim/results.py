"""Simulation results: outcome probabilities with intervals, and their provenance.

A :class:`SimulationResult` is built batch by batch from a streaming
:class:`Tally` (counts per outcome category, agreement rounds, package
statistics), so memory does not grow with the number of runs; it keeps the
full record of the first ``keep_runs`` runs for :meth:`SimulationResult.to_frame`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from basesim.engine.batch import BatchOutcome
from basesim.exceptions import BasesimError, ResultError, ScenarioError
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["NO_AGREEMENT", "SimulationResult", "Tally", "load_result", "wilson_interval"]

NO_AGREEMENT = "no agreement"
_FORMAT = "basesim-result"
_FORMAT_VERSION = 1
_HIST_BINS = 50


def wilson_interval(
    count: NDArray[np.int64] | int, n: int, confidence_level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for binomial proportions ``count / n``.

    Agrees with ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``,
    vectorised over ``count``.
    """
    k = np.asarray(count, dtype=np.float64)
    z = float(stats.norm.ppf(0.5 + confidence_level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval of k = 0 starts at 0, that of k = n ends at 1, exactly.
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def _category_codes(scenario: Scenario, package: NDArray[np.float64]) -> NDArray[np.intp]:
    return np.stack(
        [issue.category_index(package[:, k]) for k, issue in enumerate(scenario.issues)], axis=1
    )


@dataclass(slots=True, kw_only=True)
class Tally:
    """Streaming aggregate of run outcomes (mutable while a simulation runs)."""

    scenario: Scenario
    n_runs: int = 0
    joint: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    marginal: list[NDArray[np.int64]] = field(default_factory=list)
    rounds: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    package_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    package_sumsq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    package_hist: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    agreed_package_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    agreed_package_sumsq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def empty(cls, scenario: Scenario) -> Tally:
        """A tally of no runs."""
        shape = tuple(len(i.categories) for i in scenario.issues)
        k = len(scenario.issues)
        return cls(
            scenario=scenario,
            joint=np.zeros(int(np.prod(shape)) + 1, dtype=np.int64),
            marginal=[np.zeros(s, dtype=np.int64) for s in shape],
            rounds=np.zeros(scenario.horizon + 1, dtype=np.int64),
            package_sum=np.zeros(k),
            package_sumsq=np.zeros(k),
            package_hist=np.zeros((k, _HIST_BINS), dtype=np.int64),
            agreed_package_sum=np.zeros(k),
            agreed_package_sumsq=np.zeros(k),
        )

    def add(self, outcome: BatchOutcome) -> None:
        """Count a batch of outcomes in."""
        shape = tuple(len(i.categories) for i in self.scenario.issues)
        codes = _category_codes(self.scenario, outcome.package)
        flat = np.ravel_multi_index(tuple(codes.T), shape)
        flat = np.where(outcome.agreed, flat, len(self.joint) - 1)
        self.joint += np.bincount(flat, minlength=len(self.joint))
        for k, size in enumerate(shape):
            self.marginal[k] += np.bincount(codes[:, k], minlength=size)
        self.rounds += np.bincount(outcome.round, minlength=len(self.rounds))
        pkg = outcome.package
        self.package_sum += pkg.sum(axis=0)
        self.package_sumsq += (pkg * pkg).sum(axis=0)
        bins = np.minimum((pkg * _HIST_BINS).astype(np.intp), _HIST_BINS - 1)
        for k in range(pkg.shape[1]):
            self.package_hist[k] += np.bincount(bins[:, k], minlength=_HIST_BINS)
        agreed_pkg = pkg[outcome.agreed]
        self.agreed_package_sum += agreed_pkg.sum(axis=0)
        self.agreed_package_sumsq += (agreed_pkg * agreed_pkg).sum(axis=0)
        self.n_runs += outcome.n_runs

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The tally as named arrays (for saving)."""
        out: dict[str, NDArray[Any]] = {
            "tally_joint": self.joint,
            "tally_rounds": self.rounds,
            "tally_package_sum": self.package_sum,
            "tally_package_sumsq": self.package_sumsq,
            "tally_package_hist": self.package_hist,
            "tally_agreed_package_sum": self.agreed_package_sum,
            "tally_agreed_package_sumsq": self.agreed_package_sumsq,
        }
        for k, counts in enumerate(self.marginal):
            out[f"tally_marginal_{k}"] = counts
        return out

    def max_half_width(self, confidence_level: float = 0.95) -> float:
        """The widest Wilson half-width among all reported probabilities."""
        if self.n_runs == 0:
            return float("inf")
        widest = 0.0
        for counts in (self.joint, *self.marginal):
            low, high = wilson_interval(counts, self.n_runs, confidence_level)
            widest = max(widest, float(np.max(high - low)) / 2)
        return widest


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where a result comes from: enough to replay it."""

    basesim_version: str
    engine: str
    entropy: int | list[int]
    spawn_key: tuple[int, ...]
    block_size: int
    created: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        entropy = self.entropy if isinstance(self.entropy, int) else list(self.entropy)
        return {
            "basesim_version": self.basesim_version,
            "engine": self.engine,
            "entropy": str(entropy) if isinstance(entropy, int) else [str(e) for e in entropy],
            "spawn_key": list(self.spawn_key),
            "block_size": self.block_size,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult:
    """The outcome distribution of many simulated negotiations.

    Attributes
    ----------
    scenario
        The scenario simulated.
    n_runs
        How many runs were simulated.
    tally
        Streaming counts over all runs.
    runs
        The full record of the first ``len(runs.agreed)`` runs (a random
        sample, the runs being independent), or ``None``.
    provenance
        basesim version, engine, seed entropy and block size: enough to
        replay the result with :func:`basesim.simulate`.
    target_precision
        The interval half-width asked for with ``precision=`` (or ``None``).
    """

    scenario: Scenario
    n_runs: int
    tally: Tally
    runs: BatchOutcome | None
    provenance: Provenance
    target_precision: float | None = None

    # -- numbers -------------------------------------------------------------------
    def probabilities(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """Outcome probabilities with Wilson confidence intervals.

        Parameters
        ----------
        confidence_level
            Of the intervals, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``table``, ``outcome``, ``count``, ``probability``,
            ``ci_low``, ``ci_high``.  Table ``"joint"`` has one row per
            combination of issue categories among agreed runs, plus
            ``"no agreement"``; each issue's table (named after the issue)
            counts the final package of every run, a breakdown counting in
            the category of the breakdown package.  Each table's
            probabilities sum to 1.
        """
        import pandas as pd

        if not 0 < confidence_level < 1:
            raise BasesimError(f"confidence_level must be in (0, 1) (got {confidence_level!r})")
        rows: list[dict[str, Any]] = []
        n = self.n_runs
        issues = self.scenario.issues
        labels = [
            " / ".join(combo)
            for combo in np.array(np.meshgrid(*[i.categories for i in issues], indexing="ij"))
            .reshape(len(issues), -1)
            .T
        ] + [NO_AGREEMENT]
        tables = [("joint", labels, self.tally.joint)]
        tables += [
            (i.name, list(i.categories), c)
            for i, c in zip(issues, self.tally.marginal, strict=True)
        ]
        for table, names, counts in tables:
            low, high = wilson_interval(counts, n, confidence_level)
            for name, count, lo, hi in zip(names, counts, low, high, strict=True):
                rows.append(
                    {
                        "table": table,
                        "outcome": name,
                        "count": int(count),
                        "probability": count / n,
                        "ci_low": float(lo),
                        "ci_high": float(hi),
                    }
                )
        return pd.DataFrame(rows)

    def agreement_probability(self, confidence_level: float = 0.95) -> tuple[float, float, float]:
        """Probability of an agreement by the horizon, with its Wilson interval."""
        count = int(self.n_runs - self.tally.joint[-1])
        low, high = wilson_interval(count, self.n_runs, confidence_level)
        return count / self.n_runs, float(low), float(high)

    def agreement_rounds(self) -> pd.DataFrame:
        """Distribution of the agreement round: ``round``, ``month``, ``count``, ``probability``.

        Round 0 stands for no agreement by the horizon.
        """
        import pandas as pd

        counts = self.tally.rounds
        months = [NO_AGREEMENT] + [self.month_of(t) for t in range(1, len(counts))]
        return pd.DataFrame(
            {
                "round": np.arange(len(counts)),
                "month": months,
                "count": counts,
                "probability": counts / self.n_runs,
            }
        )

    def month_of(self, round_index: int) -> str:
        """Calendar month ``YYYY-MM`` of a round (or ``"round N"`` without a start month)."""
        start = self.scenario.start
        if start is None:
            return f"round {round_index}"
        year, month = (int(x) for x in start.split("-"))
        index = year * 12 + (month - 1) + round_index - 1
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    def package_summary(self) -> pd.DataFrame:
        """Mean and standard deviation of the final package per issue, over all runs and agreed runs."""
        import pandas as pd

        t = self.tally
        agreed_n = int(self.n_runs - t.joint[-1])
        rows = []
        for k, issue in enumerate(self.scenario.issues):
            mean = t.package_sum[k] / self.n_runs
            var = max(t.package_sumsq[k] / self.n_runs - mean * mean, 0.0)
            if agreed_n:
                a_mean = t.agreed_package_sum[k] / agreed_n
                a_var = max(t.agreed_package_sumsq[k] / agreed_n - a_mean * a_mean, 0.0)
            else:
                a_mean = a_var = float("nan")
            rows.append(
                {
                    "issue": issue.name,
                    "mean": mean,
                    "std": var**0.5,
                    "mean_if_agreed": a_mean,
                    "std_if_agreed": a_var**0.5,
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per kept run: sampled parameters, package, categories, agreement round.

        Raises
        ------
        ResultError
            If the result kept no runs (``keep_runs=0``).
        """
        import pandas as pd

        runs = self.runs
        if runs is None or runs.n_runs == 0:
            raise ResultError(
                "this result kept no runs; simulate with keep_runs > 0 to get to_frame()"
            )
        data: dict[str, Any] = {"run": np.arange(runs.n_runs)}
        for p, path in enumerate(self.scenario.uncertain_parameters()):
            data[path] = runs.sampled[:, p]
        codes = _category_codes(self.scenario, runs.package)
        joint = []
        for k, issue in enumerate(self.scenario.issues):
            data[issue.name] = runs.package[:, k]
            cats = np.asarray(issue.categories)[codes[:, k]]
            data[f"{issue.name}_category"] = cats
            joint.append(cats)
        data["agreed"] = runs.agreed
        data["round"] = runs.round
        names = np.asarray([*self.scenario.actor_names, ""], dtype=object)
        data["proposer"] = names[runs.proposer]
        outcome = np.array([" / ".join(combo) for combo in zip(*joint, strict=True)], dtype=object)
        outcome[~runs.agreed] = NO_AGREEMENT
        data["outcome"] = outcome
        return pd.DataFrame(data)

    # -- presentation ----------------------------------------------------------------
    def __repr__(self) -> str:
        probs = self.probabilities()
        joint = probs[probs.table == "joint"].sort_values("probability", ascending=False).head(5)
        lines = [
            f"SimulationResult(scenario={self.scenario.name!r}, n_runs={self.n_runs:,}, "
            f"engine={self.provenance.engine!r})"
        ]
        if self.target_precision is not None:
            widest = self.tally.max_half_width()
            reached = "reached" if widest <= self.target_precision else "NOT reached (run cap)"
            lines.append(
                f"  precision {self.target_precision:g} {reached}: widest half-width "
                f"{widest:.4f} after {self.n_runs:,} runs"
            )
        for row in joint.itertuples():
            lines.append(
                f"  {row.outcome:<40} {row.probability:7.1%}  [{row.ci_low:6.1%}, {row.ci_high:6.1%}]"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        probs = self.probabilities()
        head = (
            f"<p><b>SimulationResult</b>: scenario <code>{self.scenario.name}</code>, "
            f"{self.n_runs:,} runs, engine <code>{self.provenance.engine}</code>, "
            f"basesim {self.provenance.basesim_version}</p>"
        )
        return head + str(probs.to_html(index=False, float_format=lambda x: f"{x:.4f}"))

    def plot(self, *, ax: Axes | None = None, confidence_level: float = 0.95) -> Axes:
        """Bar chart of the joint outcome probabilities with interval bars; returns the Axes."""
        from basesim.plotting import plot_probabilities

        return plot_probabilities(self, ax=ax, confidence_level=confidence_level)

    # -- files -----------------------------------------------------------------------
    def save(self, path: str | PathLike[str]) -> Path:
        """Write the result to a ``.npz`` file (arrays plus JSON metadata; no pickle), atomically."""
        from basesim._io import write_bytes_atomic

        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "n_runs": self.n_runs,
            "target_precision": self.target_precision,
            "provenance": self.provenance.as_dict(),
            "scenario_toml": self.scenario.to_toml(),
            "has_runs": self.runs is not None,
        }
        arrays = dict(self.tally.arrays())
        if self.runs is not None:
            for name in ("package", "agreed", "round", "proposer", "sampled"):
                arrays[f"runs_{name}"] = getattr(self.runs, name)
        arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub reads ** as allow_pickle
        return write_bytes_atomic(Path(path), buffer.getvalue())


def _provenance_from(meta: dict[str, Any]) -> Provenance:
    entropy_raw = meta["entropy"]
    entropy: int | list[int] = (
        int(entropy_raw) if isinstance(entropy_raw, str) else [int(e) for e in entropy_raw]
    )
    return Provenance(
        basesim_version=str(meta["basesim_version"]),
        engine=str(meta["engine"]),
        entropy=entropy,
        spawn_key=tuple(int(k) for k in meta["spawn_key"]),
        block_size=int(meta["block_size"]),
        created=str(meta["created"]),
    )


def load_result(path: str | PathLike[str]) -> SimulationResult:
    """Read a result written by :meth:`SimulationResult.save`, validating it.

    Raises
    ------
    ResultError
        If the file is missing, not a basesim result, or inconsistent.
    """
    from basesim.scenarios.toml_io import read_scenario_text

    path = Path(path)
    if not path.is_file():
        raise ResultError(f"result file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise ResultError(f"{path}: not a readable .npz result file ({exc})") from None
    if "metadata" not in arrays:
        raise ResultError(f"{path}: not a basesim result (no metadata entry)")
    try:
        meta = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultError(f"{path}: metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ResultError(
            f"{path}: metadata.format must be {_FORMAT!r} (got {meta.get('format') if isinstance(meta, dict) else meta!r})"
        )
    if meta.get("format_version") != _FORMAT_VERSION:
        raise ResultError(
            f"{path}: metadata.format_version must be {_FORMAT_VERSION} (got {meta.get('format_version')!r})"
        )
    try:
        scenario = read_scenario_text(
            str(meta["scenario_toml"]), source=f"{path} (embedded scenario)"
        )
        n_runs = int(meta["n_runs"])
        provenance = _provenance_from(meta["provenance"])
    except ScenarioError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{path}: metadata is incomplete or malformed ({exc!r})") from None

    tally = Tally.empty(scenario)
    expected = tally.arrays()
    for name, template in expected.items():
        if name not in arrays:
            raise ResultError(f"{path}: array {name!r} is missing")
        value = arrays[name]
        if value.shape != template.shape or value.dtype.kind != template.dtype.kind:
            raise ResultError(
                f"{path}: array {name!r} must have shape {template.shape} and kind {template.dtype.kind!r} "
                f"(got {value.shape}, {value.dtype.kind!r})"
            )
    tally = Tally(
        scenario=scenario,
        n_runs=n_runs,
        joint=arrays["tally_joint"],
        marginal=[arrays[f"tally_marginal_{k}"] for k in range(len(scenario.issues))],
        rounds=arrays["tally_rounds"],
        package_sum=arrays["tally_package_sum"],
        package_sumsq=arrays["tally_package_sumsq"],
        package_hist=arrays["tally_package_hist"],
        agreed_package_sum=arrays["tally_agreed_package_sum"],
        agreed_package_sumsq=arrays["tally_agreed_package_sumsq"],
    )
    if int(tally.joint.sum()) != n_runs or int(tally.rounds.sum()) != n_runs:
        raise ResultError(f"{path}: counts do not add up to n_runs = {n_runs}")
    runs = None
    if meta.get("has_runs"):
        try:
            runs = BatchOutcome(
                package=arrays["runs_package"],
                agreed=arrays["runs_agreed"].astype(bool),
                round=arrays["runs_round"],
                proposer=arrays["runs_proposer"],
                sampled=arrays["runs_sampled"],
            )
        except KeyError as exc:
            raise ResultError(f"{path}: array {exc.args[0]!r} is missing") from None
        m = runs.agreed.shape[0]
        k = len(scenario.issues)
        if runs.package.shape != (m, k) or runs.round.shape != (m,) or runs.proposer.shape != (m,):
            raise ResultError(f"{path}: per-run arrays have inconsistent shapes")
    return SimulationResult(
        scenario=scenario,
        n_runs=n_runs,
        tally=tally,
        runs=runs,
        provenance=provenance,
        target_precision=meta.get("target_precision"),
    )
