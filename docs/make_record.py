"""Regenerate ``docs/record.md``: the syria-2025 scenarios scored against the 2025 record.

Every number on that page comes from this script, with fixed seeds::

    python docs/make_record.py                  # the page as published, about ten minutes
    python docs/make_record.py --runs 500 --particles 300 --out /tmp/record.md   # a quick check

The page is written whole, prose included: where the prose depends on a
number (whether the model beats a baseline, which way a parameter moved), the
sentence is chosen by the number, so the page says what the run says.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats

import basesim
import basesim.engine.compiled
import basesim.scenario
from basesim.observations import Observation, observation_month

DOCS = Path(__file__).resolve().parent
SEED = 2025
RECORD = "syria-2025-record"
#: The last month of the record used to calibrate: what was known by mid-2025.
CUTOFF = "2025-06"


# -- formatting ---------------------------------------------------------------------------
def pct(p: float, digits: int = 1) -> str:
    if math.isnan(p):
        return "–"
    return f"{100 * p:.{digits}f} %"


def num(x: float, digits: int = 3) -> str:
    if math.isinf(x):
        return "∞"
    if math.isnan(x):
        return "–"
    return f"{x:.{digits}f}"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def score_table(result: basesim.ScoreResult) -> str:
    frame = result.to_frame()
    rows = []
    for r in frame.itertuples():
        interval = f"{pct(r.probability)} [{pct(r.ci_low)}, {pct(r.ci_high)}]"
        rows.append(
            (
                r.observation,
                interval,
                num(r.brier_model),
                num(r.brier_uniform),
                num(r.brier_status_quo),
                num(r.log_model),
                num(r.log_uniform),
                num(r.log_status_quo),
            )
        )
    header = (
        "observation",
        "probability the scenario gave it [95 %]",
        "Brier: model",
        "uniform",
        "status quo",
        "log: model",
        "uniform",
        "status quo",
    )
    return table(header, rows)


def issue_table(result: basesim.ScoreResult) -> str:
    frame = result.issue_scores()
    rows = [
        (
            r.issue,
            r.observations,
            num(r.brier_model),
            num(r.brier_uniform),
            num(r.brier_status_quo),
            num(r.log_model),
            num(r.log_uniform),
            num(r.log_status_quo),
        )
        for r in frame.itertuples()
    ]
    header = (
        "issue",
        "observations",
        "mean Brier: model",
        "uniform",
        "status quo",
        "mean log: model",
        "uniform",
        "status quo",
    )
    return table(header, rows)


def verdict(result: basesim.ScoreResult, issue: str = "all") -> str:
    """One sentence: does the model beat each baseline on ``issue``, by both scores?"""
    summary = result.summary()
    parts = []
    for baseline in ("uniform", "status quo"):
        row = summary[(summary.issue == issue) & (summary.baseline == baseline)].iloc[0]
        brier = "beats" if row.brier_better else "does not beat"
        log = "beats" if row.log_better else "does not beat"
        if row.brier_better and row.log_better:
            parts.append(f"it beats the {baseline} baseline on both scores")
        elif not (row.brier_better or row.log_better):
            parts.append(f"it does not beat the {baseline} baseline on either score")
        else:
            parts.append(
                f"it {brier} the {baseline} baseline on the Brier score and {log} it on "
                "the log score"
            )
    return "; ".join(parts)


def basing_means(result: basesim.ScoreResult) -> tuple[str, str]:
    scores = result.issue_scores()
    row = scores[scores.issue == "basing"].iloc[0]
    return num(row.brier_model), num(row.log_model)


def joint(result: basesim.ScoreResult) -> str:
    p, lo, hi = result.joint_probability
    return f"{pct(p)} [{pct(lo)}, {pct(hi)}]"


# -- the sections -------------------------------------------------------------------------
def split(scn: basesim.Scenario, record: Sequence[Observation]) -> tuple[list[Observation], ...]:
    cut = observation_month(scn, CUTOFF)
    early = [o for o in record if observation_month(scn, o.by) <= cut]
    late = [o for o in record if observation_month(scn, o.by) > cut]
    return early, late


def section_a(
    report: basesim.Scenario, record: Sequence[Observation], runs: int
) -> tuple[str, Any]:
    result = basesim.score(report, record, n_runs=runs, rng=SEED)
    text = f"""## (a) The report scenario against the record

`syria-2025` uses the report of late January 2025 only (`as_of` 2025-01-29).
Scored on every observation of the record, {runs:,} runs:

{score_table(result)}

Per issue, the mean over its observations:

{issue_table(result)}

Over all observations, {verdict(result)} (against the status quo that is
decided by relief, where "nothing happens" gives what happened no chance at
all). On basing alone, {verdict(result, "basing")}. The probability it gave to the whole record at
once (every observation met in the same run) is {joint(result)}.

The two baselines are naive on purpose: *uniform* spreads the probability
evenly over an observation's outcomes (a range gets its width); *status quo*
says nothing happens (every issue stays unsettled at its starting value).
For basing, "nothing happens" is close to what did happen: no agreement, and
Russia still at both bases. A model that predicts movement is penalised
for it when the world stands still, and the table shows by how much.
"""
    return text, result


def section_b(
    report_result: basesim.ScoreResult,
    events: basesim.Scenario,
    record: Sequence[Observation],
    runs: int,
) -> tuple[str, Any]:
    result = basesim.score(events, record, n_runs=runs, rng=SEED)
    _, late = split(events, record)
    after = basesim.score(events, late, n_runs=runs, rng=SEED)
    before = basesim.score(basesim.load_scenario("syria-2025"), late, n_runs=runs, rng=SEED)
    jan_table = table(
        (
            "scenario",
            "probability of the January 2026 record",
            "basing: mean Brier",
            "basing: mean log",
        ),
        [
            ("`syria-2025` (report only)", joint(before), *basing_means(before)),
            ("`syria-2025-events`", joint(after), *basing_means(after)),
        ],
    )
    text = f"""## (b) The sanctions steps as dated events

`syria-2025-events` is the report scenario with the EU's suspension of
February 2025 and the Western lifting of May and June 2025 added as
[events](scenario-format.md#events) on their dates, not as altered
preferences ([the variant](evidence-variants.md#syria-2025-events)). Its
`as_of` is 2025-06-30. Scored on the whole record ({runs:,} runs):

{score_table(result)}

Over all observations, {verdict(result)}. The events enter the inputs, so
the mid-2025 relief observation is no test for this scenario; the fair test
is the months after its `as_of`. On the January 2026 observations alone:

{jan_table}

The means are over the two basing observations only: January's relief
observation follows from the events in the inputs here.
"""
    return text, result


def forecast_row(name: str, result: basesim.ScoreResult) -> tuple[str, ...]:
    last = result.issue_scores().iloc[-1]
    cells = [name]
    for r in result.to_frame().itertuples():
        cells.append(pct(r.probability))
    cells += [joint(result), num(last.brier_model), num(last.log_model)]
    return tuple(cells)


def section_c(
    events: basesim.Scenario, record: Sequence[Observation], runs: int, particles: int
) -> tuple[str, Any, dict[str, plt.Figure]]:
    early, late = split(events, record)
    post = basesim.calibrate(events, early, method="rejection", n=runs, rng=SEED)
    smc = basesim.calibrate(events, early, method="smc", n=particles, rng=SEED)
    prior = basesim.score(events, late, n_runs=runs, rng=SEED)
    fresh = basesim.score(post.scenario(), late, n_runs=runs, rng=SEED)
    given = basesim.score(events, late, given=early, n_runs=runs, rng=SEED)
    labels = [o.label() for o in late]
    header = ("forecast of January 2026", *labels, "all at once", "mean Brier", "mean log")
    rows = [
        forecast_row("prior (`syria-2025-events` as written)", prior),
        forecast_row("posterior parameters, paths from month 1", fresh),
        forecast_row("posterior predictive: runs that match mid-2025", given),
        forecast_row("uniform baseline", baseline_result(given, "uniform")),
        forecast_row(
            "status quo baseline (nothing happens)", baseline_result(given, "status_quo")
        ),
    ]
    summary = post.summary()
    smc_summary = smc.summary()
    gap = float(
        np.max(np.abs(summary.posterior_mean - smc_summary.posterior_mean) / summary.prior_sd)
    )
    text = f"""## (c) Calibrated on mid-2025, forecast for January 2026

What was known by the end of June 2025 (the record's three mid-2025
observations) conditions the uncertain parameters of `syria-2025-events`
by rejection: of {post.n_simulations:,} prior runs, {pct(post.acceptance_rate)} met all
three (`basesim.calibrate(scn, early, method="rejection", n={runs})`: the
accepted runs are exact draws from the posterior of parameters and paths,
{post.n_particles:,} particles, effective sample size {post.ess:,.0f}). Acceptance
is not rare here, so rejection is all it takes; ABC-SMC (`method="smc"`,
{particles:,} particles, its own random numbers) {smc_steps(smc)}. Its posterior
means lie within {num(gap, 2)} prior standard deviations of rejection's. (ABC-SMC's
moves are for observations few runs meet; with this scenario's 47 uncertain
parameters a move's kernel weights can collapse to a few particles, and
`calibrate` warns when they do.)

Three forecasts of January 2026, scored on the record's January
observations: the prior; a fresh negotiation from February 2025 under the
posterior parameters (`post.scenario()`, which learns about the parameters
only); and the posterior predictive, the runs whose first five months match
the record (`basesim.score(scn, late, given=early)`: the same runs as the
rejection posterior, played on to January 2026).

{table(header, rows)}

The baselines are not conditioned on mid-2025: they are the same naive
forecasts as in (a).

{calibration_verdict(prior, given)}

![Prior and posterior of each uncertain parameter of syria-2025-events, given the mid-2025 record](figures/record_posterior.png)
"""
    figures = {"record_posterior.png": post.plot()}
    return text, post, figures


def smc_steps(smc: Any) -> str:
    moves = sum(1 for g in smc.generations[1:] if g["simulations"] > 0)
    if moves == 0:
        return (
            "made no move: enough of its first generation (the prior) met the observations "
            "that it reweighted that generation, which is rejection on its own "
            f"{smc.n_simulations:,} runs (effective sample size {smc.ess:,.0f}); the "
            "agreement below checks Monte Carlo error only, not the perturbation kernel"
        )
    return (
        f"made {moves} move{'s' if moves != 1 else ''} before tolerance 0 "
        f"({smc.n_simulations:,} runs, effective sample size {smc.ess:,.0f})"
    )


def baseline_result(result: basesim.ScoreResult, name: str) -> Any:
    """A naive baseline, shaped as enough of a score result to print its row."""
    frame = result.to_frame().copy()
    frame["probability"] = np.exp(-frame[f"log_{name}"])  # the log score is -ln p
    frame["brier_model"] = frame[f"brier_{name}"]
    frame["log_model"] = frame[f"log_{name}"]
    return _Baseline(frame)


class _Baseline:
    """Enough of a score result to print the uniform baseline's row."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def to_frame(self) -> pd.DataFrame:
        return self.frame

    def issue_scores(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "brier_model": self.frame.brier_model.mean(),
                    "log_model": self.frame.log_model.mean(),
                }
            ]
        )

    @property
    def joint_probability(self) -> tuple[float, float, float]:
        return (math.nan, math.nan, math.nan)


def calibration_verdict(prior: basesim.ScoreResult, given: basesim.ScoreResult) -> str:
    before = prior.issue_scores().iloc[-1]
    after = given.issue_scores().iloc[-1]
    better = after.brier_model < before.brier_model and after.log_model < before.log_model
    worse = after.brier_model > before.brier_model and after.log_model > before.log_model
    if better:
        return (
            "Conditioning on the first half of 2025 improves the forecast of January 2026 "
            f"on both scores (mean Brier {num(before.brier_model)} to {num(after.brier_model)}, "
            f"mean log {num(before.log_model)} to {num(after.log_model)})."
        )
    if worse:
        return (
            "Conditioning on the first half of 2025 makes the forecast of January 2026 worse "
            f"on both scores (mean Brier {num(before.brier_model)} to {num(after.brier_model)}, "
            f"mean log {num(before.log_model)} to {num(after.log_model)})."
        )
    return (
        "Conditioning on the first half of 2025 moves the two scores in opposite directions "
        f"(mean Brier {num(before.brier_model)} to {num(after.brier_model)}, mean log "
        f"{num(before.log_model)} to {num(after.log_model)}): no clear gain."
    )


def section_d(
    events: basesim.Scenario, record: Sequence[Observation], runs: int
) -> tuple[str, tuple[str, float, float, bool]]:
    post = basesim.calibrate(events, record, method="rejection", n=runs, rng=SEED + 1)
    summary = post.summary()
    summary["shift"] = (summary.posterior_mean - summary.prior_mean) / summary.prior_sd
    summary["narrowing"] = summary.posterior_sd / summary.prior_sd
    # Per parameter: the prior's fifths, and the posterior's mass in each.
    compiled = basesim.engine.compiled.compile_scenario(events)
    quintile = np.minimum((post.quantiles * 5).astype(int), 4)
    rows = []
    choice = ""
    for p, path in enumerate(post.paths):
        if path == "protocol.reservation":
            # A choice, not a range: how the posterior weighs the forms (outside the table).
            prior_weights = compiled.uncertain_distributions[
                compiled.uncertain_paths.index(path)
            ].probabilities
            forms = basesim.scenario.RESERVATION_FORMS
            posterior_weights = [
                float(np.sum(post.weights * (np.rint(post.values[:, p]) == k)))
                for k in range(len(forms))
            ]
            choice = (
                " The reservation form (a choice, left out of the table) moves from "
                + ", ".join(
                    f"{pct(float(w))} {f}" for f, w in zip(forms, prior_weights, strict=True)
                )
                + " in the prior to "
                + ", ".join(f"{pct(w)} {f}" for f, w in zip(forms, posterior_weights, strict=True))
                + "."
            )
            continue
        mass = np.bincount(quintile[:, p], weights=post.weights, minlength=5)
        low = int(np.argmin(mass))
        dist = compiled.uncertain_distributions[compiled.uncertain_paths.index(path)]
        a, b = float(dist.ppf(low / 5)), float(dist.ppf((low + 1) / 5))
        rows.append((path, summary.loc[p], mass, low, a, b))
    rows.sort(key=lambda r: float(np.min(r[2])))
    top = rows[:10]
    lines = []
    for path, row, mass, low, a, b in top:
        lines.append(
            (
                f"`{path}`",
                f"{num(row.prior_mean, 2)} [{num(row.prior_low, 2)}, {num(row.prior_high, 2)}]",
                f"{num(row.posterior_mean, 2)} [{num(row.posterior_low, 2)}, "
                f"{num(row.posterior_high, 2)}]",
                f"{num(a, 2)} to {num(b, 2)}: {pct(float(mass[low]))}",
            )
        )
    strongest = top[0]
    least = float(np.min(strongest[2]))
    ratio = 0.2 / max(least, 1e-12)
    # About least * ESS effective particles carry the smallest mass: its relative error.
    spread = ratio / math.sqrt(max(least * post.ess, 1.0))
    # The table ranks the smallest of 5 fifths over every parameter: a cutoff that
    # pure noise crosses with probability 5 % across all of them (Bonferroni).
    tests = 5 * len(rows)
    z = float(scipy.stats.norm.ppf(1 - 0.05 / tests))
    noise = z * math.sqrt(0.2 * 0.8 / post.ess)
    if least == 0:
        strongest_text = (
            f"The strongest: no accepted run has `{strongest[0]}` between "
            f"{num(strongest[4], 2)} and {num(strongest[5], 2)}; within Monte Carlo error, "
            "the record rules that range out."
        )
    else:
        strongest_text = (
            f"The strongest: `{strongest[0]}` between {num(strongest[4], 2)} and "
            f"{num(strongest[5], 2)} is about {ratio:,.0f} (± {spread:,.0f}) times less likely after "
            "the record "
            "than before."
        )
    zero = sum(1 for r in rows if float(np.min(r[2])) == 0)
    outright = (
        "Nothing is ruled out outright: every fifth of every parameter keeps some posterior "
        "mass, so the record narrows the assumptions rather than refuting any of them "
        "(six coarse observations of one year say little about most of them)."
        if zero == 0
        else f"{zero} parameter(s) have a fifth with no posterior mass at all."
    )
    text = f"""## (d) What the record rules out

Calibrating on the whole record (all six observations; rejection,
{post.n_simulations:,} prior runs, {pct(post.acceptance_rate)} accepted, effective sample
size {post.ess:,.0f}) shows which assumptions the year that followed speaks
against. For each uncertain parameter, the prior's five equally likely
fifths each hold 20 % of the prior; the table lists the ten parameters
whose least likely fifth keeps the least posterior mass, with the prior
and posterior means and 90 % intervals.

{table(("parameter", "prior mean [90 %]", "posterior mean [90 %]", "least likely fifth: posterior mass"), lines)}

A fifth's posterior mass carries Monte Carlo error, and the table picks the
smallest of {tests} of them: with this effective sample size, masses above
{pct(max(0.2 - noise, 0.0))} are within what noise alone gives the smallest
of {tests} fifths (a 5 % chance, Bonferroni) and say nothing. {strongest_text} {outright}{choice}
Every parameter not listed keeps at least
{pct(float(np.min(rows[10][2])) if len(rows) > 10 else 0.0)} in its least likely fifth.
"""
    return text, (
        str(strongest[0]),
        float(strongest[4]),
        float(strongest[5]),
        int(strongest[3]) == 4,
    )


def reading(report: basesim.ScoreResult, strongest: tuple[str, float, float, bool]) -> str:
    summary = report.summary()

    def beats(issue: str, baseline: str) -> tuple[bool, Any]:
        row = summary[(summary.issue == issue) & (summary.baseline == baseline)].iloc[0]
        return bool(row.brier_better and row.log_better), row

    sq_basing, row = beats("basing", "status quo")
    uniform_basing, _ = beats("basing", "uniform")
    relief = all(beats("sanctions_relief", b)[0] for b in ("uniform", "status quo"))
    lines = [
        (
            "On basing, the report scenario beats the naive forecast that nothing happens"
            if sq_basing
            else "On basing, the report scenario does worse than the naive forecast that "
            "nothing happens"
        )
        + f" (mean Brier {num(row.brier_model)} against {num(row.brier_baseline)}): the year "
        "ended with no agreement and Russia still at both bases, which is what "
        '"nothing happens" says.',
        (
            "It beats a uniform guess on basing."
            if uniform_basing
            else "It does not beat a uniform guess on basing on both scores."
        ),
        (
            "On relief it beats both baselines, and the West did lift most sanctions by mid-2025."
            if relief
            else "On relief it does not beat both baselines."
        ),
    ]
    path, low, high, top = strongest
    lines.append(
        f"Of its assumptions, the record speaks most against `{path}` between {num(low, 2)} "
        f"and {num(high, 2)}"
        + (
            ": the Russian presence did not drain as fast as the upper end of the assumed "
            "pace of evacuation would have it."
            if path == "issues.basing.drift" and top
            else "."
        )
    )
    lines.append(
        "These are scores on one case, six coarse observations of one year: they say how "
        "this scenario fared, not how good the model is in general ([the "
        "backtest](backtest.md) scores the models on many decisions)."
    )
    return "## Reading\n\n" + " ".join(lines) + "\n"


PAGE_HEAD = """# The 2025 record

A scenario written from a report of January 2025 is a forecast. A year has
passed since: this page scores the bundled scenarios against what happened,
with the same tools a user has (`basesim.score`, `basesim.calibrate`), and
reports the numbers whatever they say. Every number here is regenerated by
`docs/make_record.py` (the tests run it at reduced size).

**The record** (`basesim.read_observations("{record}")`) holds six
observations, each with its evidence from the later-evidence timeline
(E1 to E19): at the end of June 2025 and of January 2026, basing was still
unsettled, Russia had not left (basing between reduced presence and
retention: the range [0.25, 1]), and sanctions relief was substantial.
An observation is about an issue's state at the end of a month, settled or
not, computed from the same runs as the scenario's own results.

**The scores.** For each observation, the probability the scenario gave it,
then its Brier score (the squared distance between the forecast over the
observation's outcomes and what happened: 0 is perfect, 2 the worst) and its
log score (minus the natural logarithm of the probability given to what
happened: 0 is perfect; infinite when the forecast ruled it out). Lower is
better for both.
"""


def build(runs: int, particles: int) -> tuple[str, dict[str, plt.Figure]]:
    record = basesim.read_observations(RECORD)
    report = basesim.load_scenario("syria-2025")
    events = basesim.load_scenario("syria-2025-events")
    text_a, result_a = section_a(report, record, runs)
    text_b, _ = section_b(result_a, events, record, runs)
    text_c, _, figures = section_c(events, record, runs, particles)
    text_d, strongest = section_d(events, record, runs)
    page = "\n".join(
        [
            PAGE_HEAD.format(record=RECORD),
            text_a,
            text_b,
            text_c,
            text_d,
            reading(result_a, strongest),
        ]
    )
    return page, figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000, help="runs per score")
    parser.add_argument("--particles", type=int, default=2_000, help="calibration's particles")
    parser.add_argument("--out", type=Path, default=DOCS / "record.md", help="the page to write")
    args = parser.parse_args(argv)
    page, figures = build(args.runs, args.particles)
    folder = args.out.parent / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        print(f"wrote {folder / name}")
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
