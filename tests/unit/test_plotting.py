"""Plots: the numbers behind each picture, then a render under Agg.

Each test reads back what a plot drew (bar lengths, error-bar ends, cell
texts, line data, markers) and checks it against the numbers the plotted
object reports, then renders the figure to PNG bytes.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.lines import Line2D

import basesim
from basesim import plotting
from basesim.exceptions import BasesimError
from basesim.results import wilson_interval
from basesim.testing import setter_scenario


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scenario() -> basesim.Scenario:
    return basesim.load_scenario("syria-2025")


@pytest.fixture(scope="module")
def result(scenario) -> basesim.SimulationResult:
    return basesim.simulate(scenario, n_runs=2_000, rng=3, keep_runs=0)


@pytest.fixture(scope="module")
def model(scenario) -> basesim.NegotiationModel:
    # rng=0 gives an eight-round run with offers refused and rounds without an offer.
    model = basesim.NegotiationModel(scenario, rng=0)
    model.run()
    return model


def render(ax) -> None:
    """Draw the whole figure to PNG bytes: every artist must be drawable."""
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def bars(ax) -> list[BarContainer]:
    """The bar containers of ``ax``, in drawing order."""
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def errorbar_segments(container) -> np.ndarray:
    """The (start, end) points of a bar container's error bars, shape (n, 2, 2)."""
    line_collection = container.errorbar.lines[2][0]
    return np.asarray(line_collection.get_segments())


# -- colours ----------------------------------------------------------------------------
def test_actor_colors_one_distinct_colour_per_actor_in_scenario_order(scenario):
    colours = plotting.actor_colors(scenario)
    assert list(colours) == list(scenario.actor_names)
    assert len(set(colours.values())) == len(colours)
    assert plotting.actor_colors(scenario) == colours


def test_actor_colors_stay_distinct_beyond_the_palette():
    names = [f"a{i}" for i in range(20)]
    colours = plotting.actor_colors(names)
    assert len(set(colours.values())) == 20
    # Adding actors at the end does not recolour the first ones.
    assert plotting.actor_colors(names[:3]) == {n: colours[n] for n in names[:3]}


def test_issue_tick_labels_use_the_words_before_the_colon(scenario):
    labels = plotting.issue_tick_labels(scenario.issue("basing"))
    assert labels[0] == "0: full withdrawal"
    assert labels[2] == "1: the pre-2025 terms"
    assert labels[1].startswith("0.5: reduced or")


def test_month_label(scenario):
    assert plotting.month_label(scenario, 1) == "Feb 2025"
    assert plotting.month_label(scenario, 12) == "Jan 2026"
    assert plotting.month_label(scenario.replace(start=None), 3) == "round 3"


# -- outcome probabilities ------------------------------------------------------------------
@pytest.mark.parametrize("table", ["joint", "basing", "sanctions_relief"])
def test_probability_bars_are_the_probabilities_and_intervals(result, table):
    rows = result.probabilities(0.9).query("table == @table")
    ax = plotting.plot_probabilities(result, table=table, confidence_level=0.9)
    container = bars(ax)[0]
    widths = [bar.get_width() for bar in container.patches]
    np.testing.assert_allclose(widths, rows.probability, rtol=0, atol=1e-12)
    # Each error bar runs from ci_low to ci_high at its bar's height.
    segments = errorbar_segments(container)
    np.testing.assert_allclose(segments[:, 0, 0], rows.ci_low, atol=1e-12)
    np.testing.assert_allclose(segments[:, 1, 0], rows.ci_high, atol=1e-12)
    centres = [bar.get_y() + bar.get_height() / 2 for bar in container.patches]
    np.testing.assert_allclose(segments[:, 0, 1], centres)
    # Percentages written beside the bars, first outcome at the top.
    assert [t.get_text() for t in ax.texts] == [f"{p:.1%}" for p in rows.probability]
    assert ax.yaxis_inverted()
    assert "90% Wilson interval" in ax.get_xlabel()
    render(ax)


def test_probability_bar_labels(result, scenario):
    ax = plotting.plot_probabilities(result, table="basing")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "withdrawal (below 0.25)",
        "reduced presence (0.25 to 0.75)",
        "retention (0.75 and above)",
    ]
    ax = plotting.plot_probabilities(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(result.probabilities().query("table == 'joint'").outcome)
    assert labels[-1] == "no agreement"


def test_result_plot_is_plot_probabilities(result):
    ax = result.plot()
    rows = result.probabilities().query("table == 'joint'")
    np.testing.assert_allclose([b.get_width() for b in bars(ax)[0].patches], rows.probability)
    render(ax)


def test_plot_probabilities_draws_on_a_given_axes(result):
    _, axes = plt.subplots(1, 2)
    ax = plotting.plot_probabilities(result, ax=axes[1], table="basing")
    assert ax is axes[1]
    assert not axes[0].patches


def test_plot_probabilities_rejects_an_unknown_table(result):
    with pytest.raises(
        BasesimError, match=r"table must be one of joint, basing, sanctions_relief \(got 'basin'\)"
    ):
        plotting.plot_probabilities(result, table="basin")


def test_joint_heat_table_cells(result, scenario):
    joint = result.probabilities().query("table == 'joint'")
    # Joint rows run over basing categories (outer) x relief categories (inner), then no agreement.
    cells = joint.probability.to_numpy()[:-1].reshape(3, 3)
    low = joint.ci_low.to_numpy()[:-1].reshape(3, 3)
    high = joint.ci_high.to_numpy()[:-1].reshape(3, 3)
    ax = plotting.plot_joint(result)
    np.testing.assert_allclose(ax.images[0].get_array(), cells, atol=1e-12)
    texts = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }
    assert len(texts) == 9
    for i in range(3):
        for j in range(3):
            assert texts[i, j] == f"{cells[i, j]:.1%}\n[{low[i, j]:.1%}, {high[i, j]:.1%}]"
    # Rows (bottom to top) are basing categories, columns relief categories.
    assert ax.get_yticklabels()[0].get_text() == "withdrawal\n(below 0.25)"
    assert ax.get_xticklabels()[2].get_text() == "substantial\n(0.75 and above)"
    none = joint.iloc[-1]
    assert f"no agreement by Jan 2027: {none.probability:.1%}" in ax.get_title()
    render(ax)


def test_joint_heat_table_transposes_and_handles_one_issue(result):
    ax = plotting.plot_joint(result, rows="sanctions_relief", columns="basing")
    cells = (
        result.probabilities().query("table == 'joint'").probability.to_numpy()[:-1].reshape(3, 3)
    )
    np.testing.assert_allclose(ax.images[0].get_array(), cells.T, atol=1e-12)
    with pytest.raises(BasesimError, match="rows and columns must be different issues"):
        plotting.plot_joint(result, rows="basing", columns="basing")
    with pytest.raises(
        BasesimError,
        match=r"columns must be one of the issues basing, sanctions_relief \(got 'x'\)",
    ):
        plotting.plot_joint(result, columns="x")
    single = basesim.simulate(
        setter_scenario(setter=0.1, vetoer=0.5, status_quo=0.8), n_runs=50, rng=1
    )
    ax = plotting.plot_joint(single)
    counts = single.tally.joint[:-1]
    np.testing.assert_allclose(ax.images[0].get_array()[:, 0], counts / 50)
    render(ax)


def test_agreement_rounds_bars_and_cumulative_line(result, scenario):
    frame = result.agreement_rounds()
    ax = plotting.plot_agreement_rounds(result)
    monthly, none = bars(ax)
    heights = [bar.get_height() for bar in monthly.patches]
    np.testing.assert_allclose(heights, frame.probability[1:], atol=1e-12)
    assert [bar.get_x() + bar.get_width() / 2 for bar in monthly.patches] == list(
        range(1, scenario.horizon + 1)
    )
    assert none.patches[0].get_height() == pytest.approx(frame.probability[0])
    low, high = wilson_interval(frame["count"].to_numpy(), result.n_runs)
    segments = errorbar_segments(monthly)
    np.testing.assert_allclose(segments[:, 0, 1], low[1:], atol=1e-12)
    np.testing.assert_allclose(segments[:, 1, 1], high[1:], atol=1e-12)
    (cumulative,) = [line for line in ax.lines if line.get_label().startswith("agreed by")]
    np.testing.assert_allclose(cumulative.get_ydata(), np.cumsum(frame.probability[1:]))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Feb\n2025"
    assert labels[-1] == "no\nagreement"
    render(ax)


# -- one negotiation ------------------------------------------------------------------------
def test_negotiation_lines_are_the_datacollector_stances(model, scenario):
    agents = model.datacollector.get_agent_vars_dataframe()
    rounds = model.datacollector.get_model_vars_dataframe()["round"].to_numpy()
    colours = plotting.actor_colors(scenario)
    for issue_index, issue in enumerate(scenario.issue_names):
        ax = plotting.plot_negotiation(model, issue=issue)
        lines = {line.get_label(): line for line in ax.lines}
        for agent in model.actor_agents:
            line = lines[agent.label]
            recorded = agents[agents.actor == agent.actor_name][f"stance_{issue}"].to_numpy()
            np.testing.assert_array_equal(line.get_xdata(), [0, *rounds])
            assert line.get_ydata()[0] == agent.initial_stance[issue_index]
            np.testing.assert_array_equal(line.get_ydata()[1:], recorded)
            assert to_hex(line.get_color()).upper() == colours[agent.actor_name].upper()
        render(ax)


def test_negotiation_marks_proposals_and_agreement(model, scenario):
    rounds = model.datacollector.get_model_vars_dataframe()
    ax = plotting.plot_negotiation(model, issue="basing")
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    offered = rounds[rounds.offered]
    assert [float(d.get_xdata()[0]) for d in diamonds] == list(offered["round"])
    np.testing.assert_allclose([d.get_ydata()[0] for d in diamonds], offered.proposal_basing)
    colours = plotting.actor_colors(scenario)
    for d, row in zip(diamonds, offered.itertuples(), strict=True):
        assert to_hex(d.get_markeredgecolor()).upper() == colours[row.proposer].upper()
        filled = to_hex(d.get_markerfacecolor()).upper() != "#FFFFFF"
        assert filled == row.agreed
    assert [float(c.get_xdata()[0]) for c in crosses] == list(rounds[~rounds.offered]["round"])
    # The agreement: a dotted line at its round, the agreed value written out.
    assert model.agreed
    (note,) = ax.texts
    assert note.get_text().startswith(f"agreed: {model.package[0]:.2f}")
    month = plotting.month_label(scenario, model.agreement_round)
    assert f"agreement in {month} (round {model.agreement_round})" in ax.get_title()
    assert ax.get_yticklabels()[0].get_text() == "0: full withdrawal"
    render(ax)


def test_negotiation_marks_a_breakdown(scenario):
    # With two rounds only, some runs end without agreement: take the first.
    short = scenario.replace(name="short", horizon=2)
    for seed in range(500):
        model = basesim.NegotiationModel(short, rng=seed)
        outcome = model.run()
        if not outcome.agreed:
            break
    assert not outcome.agreed
    ax = plotting.plot_negotiation(model, issue="basing")
    (square,) = [line for line in ax.lines if line.get_marker() == "s"]
    assert square.get_ydata()[0] == pytest.approx(outcome.package[0])
    assert "no agreement by the horizon (Mar 2025): breakdown" in ax.get_title()
    assert ax.texts[0].get_text().startswith(f"breakdown: {outcome.package[0]:.2f}")
    render(ax)


def test_negotiation_needs_a_played_round_and_a_known_issue(scenario, model):
    with pytest.raises(BasesimError, match="has not played a round yet"):
        plotting.plot_negotiation(basesim.NegotiationModel(scenario, rng=1), issue="basing")
    with pytest.raises(
        BasesimError, match=r"issue must be one of basing, sanctions_relief \(got 'bases'\)"
    ):
        plotting.plot_negotiation(model, issue="bases")


# -- many negotiations ----------------------------------------------------------------------
def test_stance_paths_replay_the_runs_of_simulate(scenario):
    paths = plotting.stance_paths(scenario, issue="basing", n_runs=3, rng=0)
    # Run 0 of the computation seeded with rng=0 is NegotiationModel(scenario, rng=0).
    model = basesim.NegotiationModel(scenario, rng=0)
    outcome = model.run()
    agents = model.datacollector.get_agent_vars_dataframe()
    for agent in model.actor_agents:
        row = paths[agent.actor_name][0]
        assert row[0] == agent.initial_stance[0]
        np.testing.assert_array_equal(
            row[1 : outcome.round + 1], agents[agents.actor == agent.actor_name].stance_basing
        )
        assert np.isnan(row[outcome.round + 1 :]).all()
    # The runs end where simulate says they end.
    result = basesim.simulate(scenario, n_runs=3, rng=0, engine="mesa")
    ends = [int(np.sum(~np.isnan(paths["syria"][i]))) - 1 for i in range(3)]
    assert ends == list(result.to_frame()["round"])


def test_stance_bands_are_percentiles_over_runs_still_negotiating(scenario):
    n_runs, min_runs = 16, 4
    paths = plotting.stance_paths(scenario, issue="basing", n_runs=n_runs, rng=5)
    alive = np.sum(~np.isnan(paths["syria"]), axis=0)
    last = int(np.flatnonzero(alive >= min_runs).max())
    ax = plotting.plot_stance_bands(
        scenario, issue="basing", n_runs=n_runs, min_runs=min_runs, rng=5
    )
    lines = {line.get_label(): line for line in ax.lines}
    for k, actor in enumerate(scenario.actors):
        values = paths[actor.name][:, : last + 1]
        np.testing.assert_allclose(lines[actor.label].get_ydata(), np.nanmedian(values, axis=0))
        band = ax.collections[k].get_paths()[0].vertices
        low, high = np.nanpercentile(values, [10, 90], axis=0)
        # fill_between's outline runs along the low edge, then back along the high edge.
        np.testing.assert_allclose(band[1 : last + 2, 1], low)
        np.testing.assert_allclose(band[last + 3 : 2 * last + 4, 1][::-1], high)
    assert int(ax.get_xlim()[1] - 0.3) == last
    assert "runs still negotiating (of 16)" in ax.child_axes[0].get_xlabel()
    render(ax)


def test_stance_bands_reject_bad_arguments(scenario):
    with pytest.raises(BasesimError, match=r"n_runs must be a whole number >= 1 \(got 0\)"):
        plotting.plot_stance_bands(scenario, issue="basing", n_runs=0, rng=1)


# -- comparisons, sweeps, sensitivity, discovery (tidy frames) ---------------------------------
@pytest.fixture
def comparison_frame() -> pd.DataFrame:
    rows = []
    for scenario_name, shift in (("baseline", 0.0), ("no-turkey", 0.1)):
        for outcome, p in (("withdrawal", 0.6), ("reduced presence", 0.3), ("retention", 0.1)):
            q = p + shift if outcome == "reduced presence" else p - shift / 2
            rows.append(
                {
                    "scenario": scenario_name,
                    "table": "basing",
                    "outcome": outcome,
                    "probability": q,
                    "ci_low": q - 0.02,
                    "ci_high": q + 0.03,
                }
            )
    return pd.DataFrame(rows)


def test_comparison_bars_side_by_side(comparison_frame):
    ax = plotting.plot_comparison(comparison_frame, table="basing")
    assert len(bars(ax)) == 2
    for container, name in zip(bars(ax), ["baseline", "no-turkey"], strict=True):
        sub = comparison_frame[comparison_frame.scenario == name]
        np.testing.assert_allclose([b.get_width() for b in container.patches], sub.probability)
        segments = errorbar_segments(container)
        np.testing.assert_allclose(segments[:, 0, 0], sub.ci_low)
        np.testing.assert_allclose(segments[:, 1, 0], sub.ci_high)
        assert container.get_label() == name
    # Bars of one outcome sit next to each other, the baseline first.
    first = [b.get_y() for b in bars(ax)[0].patches]
    second = [b.get_y() for b in bars(ax)[1].patches]
    assert all(a < b for a, b in zip(first, second, strict=True))
    render(ax)


def test_comparison_accepts_objects_with_to_frame(comparison_frame):
    class Comparison:
        def to_frame(self):
            return comparison_frame

    ax = plotting.plot_comparison(Comparison(), table="basing")
    assert len(bars(ax)) == 2
    with pytest.raises(BasesimError, match="no rows for table 'joint'"):
        plotting.plot_comparison(Comparison())
    with pytest.raises(BasesimError, match="must have a to_frame"):
        plotting.plot_comparison(object())


def test_differences_forest_plot():
    frame = pd.DataFrame(
        {
            "reference": "baseline",
            "scenario": ["no-turkey"] * 3 + ["west-conditional"] * 3,
            "table": "basing",
            "outcome": ["withdrawal", "reduced presence", "retention"] * 2,
            "difference": [-0.05, 0.1, -0.05, 0.02, -0.01, -0.01],
            "ci_low": [-0.07, 0.08, -0.06, 0.0, -0.03, -0.02],
            "ci_high": [-0.03, 0.12, -0.04, 0.04, 0.01, 0.0],
        }
    )

    class Comparison:
        def differences(self):
            return frame

    ax = plotting.plot_differences(Comparison(), table="basing")
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(points) == 2
    for line, name in zip(points, ["no-turkey", "west-conditional"], strict=True):
        sub = frame[frame.scenario == name]
        np.testing.assert_allclose(line.get_xdata(), sub.difference)
    bars = [c for c in ax.collections if c.get_segments()]
    ends = np.concatenate([np.asarray(c.get_segments()) for c in bars])
    np.testing.assert_allclose(sorted(ends[:, 0, 0]), sorted(frame.ci_low))
    np.testing.assert_allclose(sorted(ends[:, 1, 0]), sorted(frame.ci_high))
    assert "baseline" in ax.get_xlabel()
    assert any(line.get_xdata()[0] == 0 for line in ax.lines if line.get_linestyle() == "-")
    render(ax)


def test_sweep_surface_cells():
    xs, ys = [0.0, 0.3, 0.6], [0.1, 0.2]
    rows = []
    for x in xs:
        for y in ys:
            rows.append(
                {
                    "actors.syria.basing.position": x,
                    "actors.turkey.influence.syria": y,
                    "table": "basing",
                    "outcome": "retention",
                    "probability": x * y,
                }
            )
            rows.append(
                {
                    "actors.syria.basing.position": x,
                    "actors.turkey.influence.syria": y,
                    "table": "basing",
                    "outcome": "withdrawal",
                    "probability": 1 - x * y,
                }
            )
    frame = pd.DataFrame(rows)
    ax = plotting.plot_sweep_surface(
        frame,
        x="actors.syria.basing.position",
        y="actors.turkey.influence.syria",
        outcome="retention",
    )
    values = np.asarray(ax.collections[0].get_array()).reshape(len(ys), len(xs))
    np.testing.assert_allclose(values, np.outer(ys, xs))
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{x * y:.0%}" for x in xs for y in ys)
    assert ax.get_xlabel() == "actors.syria.basing.position"
    render(ax)
    with pytest.raises(
        BasesimError,
        match=r"outcome must be one of basing=retention, basing=withdrawal \(got .agreement.\)",
    ):
        plotting.plot_sweep_surface(
            frame,
            x="actors.syria.basing.position",
            y="actors.turkey.influence.syria",
            outcome="agreement",
        )


def test_sensitivity_bars_sorted_by_total_order():
    frame = pd.DataFrame(
        {
            "parameter": ["a", "a", "b", "b", "c", "c"],
            "order": ["S1", "ST", "S1", "ST", "S1", "ST"],
            "estimate": [0.1, 0.2, 0.5, 0.7, 0.0, 0.05],
            "ci_low": [0.05, 0.15, 0.4, 0.6, -0.02, 0.01],
            "ci_high": [0.15, 0.25, 0.6, 0.8, 0.02, 0.09],
        }
    )
    ax = plotting.plot_sensitivity(frame)
    first, total = bars(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a", "c"]
    np.testing.assert_allclose([b.get_width() for b in first.patches], [0.1, 0.5, 0.0])
    np.testing.assert_allclose([b.get_width() for b in total.patches], [0.2, 0.7, 0.05])
    segments = errorbar_segments(total)
    np.testing.assert_allclose(segments[:, 0, 0], [0.15, 0.6, 0.01])
    np.testing.assert_allclose(segments[:, 1, 0], [0.25, 0.8, 0.09])
    render(ax)


def test_prim_box_points_and_rectangle():
    rng = np.random.default_rng(0)
    points = pd.DataFrame({"x": rng.random(400), "y": rng.random(400), "z": rng.random(400)})
    points["hit"] = (points.x > 0.5) & (points.y < 0.4)
    discovery = basesim.discover(points, outcome="hit", parameters=["x", "y", "z"], threshold=0.95)
    ax = plotting.plot_prim_box(discovery, x="x", y="y", data=points)
    misses, hits = ax.collections
    np.testing.assert_allclose(hits.get_offsets(), points.loc[points.hit, ["x", "y"]])
    np.testing.assert_allclose(misses.get_offsets(), points.loc[~points.hit, ["x", "y"]])
    data_box, chosen = ax.patches
    box = discovery.box().set_index("parameter")
    assert chosen.get_xy() == pytest.approx((box.low["x"], box.low["y"]))
    assert chosen.get_width() == pytest.approx(box.high["x"] - box.low["x"])
    assert chosen.get_height() == pytest.approx(box.high["y"] - box.low["y"])
    assert data_box.get_xy() == pytest.approx((points.x.min(), points.y.min()))
    assert (
        f"density {discovery.density:.0%}, coverage {discovery.coverage:.0%}" in chosen.get_label()
    )
    render(ax)
    with pytest.raises(
        BasesimError, match=r"y must be one of the parameters peeled over, x, y, z \(got 'w'\)"
    ):
        plotting.plot_prim_box(discovery, x="x", y="w")


def test_prim_box_over_runs_and_over_a_sweep(scenario):
    x, y = "actors.syria.basing.position", "actors.russia.concession"
    result = basesim.simulate(scenario, n_runs=600, rng=4, keep_runs=600)
    discovery = basesim.discover(result, outcome="basing=reduced presence", parameters=[x, y])
    ax = plotting.plot_prim_box(discovery, x=x, y=y, data=result)
    frame = result.to_frame()
    hit = frame.basing_category == "reduced presence"
    np.testing.assert_allclose(ax.collections[1].get_offsets(), frame.loc[hit, [x, y]])
    assert (
        ax.get_xlabel()
        == f"Syrian government's position on Russian military basing (0–1 scale)\n{x}"
    )
    render(ax)
    swept = basesim.sweep(
        scenario, {x: (0.0, 0.6), y: (0.6, 3.0)}, design="lhs", n_points=12, n_runs=50, rng=1
    )
    discovery = basesim.discover(swept, outcome="basing=reduced presence")
    ax = plotting.plot_prim_box(discovery, x=x, y=y, data=swept)
    (cloud,) = ax.collections
    np.testing.assert_allclose(cloud.get_offsets(), swept.points)
    np.testing.assert_allclose(cloud.get_array(), swept.probability("basing=reduced presence"))
    render(ax)


def test_legends_name_actors_in_words(model):
    ax = plotting.plot_negotiation(model, issue="basing")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == ["Syrian government", "Russia", "Turkey", "Investors"]
    assert all(isinstance(h, Line2D) for h in ax.get_legend().legend_handles)


# -- the real experiment results ---------------------------------------------------------------
@pytest.fixture(scope="module")
def comparison(scenario):
    variants = {
        "report": scenario,
        "no turkish pull": scenario.replace({"actors.turkey.influence.syria": 0.0}),
        "hedging": basesim.load_scenario("syria-2025-hedging"),
    }
    return basesim.compare(variants, n_runs=400, rng=2)


def test_plot_comparison_of_a_comparison_result(comparison):
    frame = comparison.to_frame()
    ax = plotting.plot_comparison(comparison, table="basing")
    containers = bars(ax)
    assert [c.get_label() for c in containers] == ["report", "no turkish pull", "hedging"]
    for container, name in zip(containers, comparison.names, strict=True):
        rows = frame[(frame.scenario == name) & (frame.table == "basing")]
        np.testing.assert_allclose([b.get_width() for b in container.patches], rows.probability)
        segments = errorbar_segments(container)
        np.testing.assert_allclose(segments[:, 0, 0], rows.ci_low)
        np.testing.assert_allclose(segments[:, 1, 0], rows.ci_high)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "withdrawal (below 0.25)",
        "reduced presence (0.25 to 0.75)",
        "retention (0.75 and above)",
    ]
    assert "400 runs per scenario" in ax.get_xlabel()
    render(ax)


def test_plot_differences_of_a_comparison_result(comparison):
    diffs = comparison.differences()
    ax = plotting.plot_differences(comparison, table="joint")
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [c.get_label() for c in containers] == ["no turkish pull", "hedging"]
    points = [c.lines[0] for c in containers]
    for line, name in zip(points, ["no turkish pull", "hedging"], strict=True):
        rows = diffs[(diffs.scenario == name) & (diffs.table == "joint")]
        np.testing.assert_allclose(line.get_xdata(), rows.difference)
    assert "from report" in ax.get_xlabel()
    # The variants' colours match those of plot_comparison.
    bar_colours = [
        to_hex(c.patches[0].get_facecolor()) for c in bars(plotting.plot_comparison(comparison))
    ]
    assert [to_hex(p.get_color()) for p in points] == bar_colours[1:]
    render(ax)


def test_plot_sweep_surface_of_a_sweep_result(scenario):
    x, y = "actors.syria.basing.position", "actors.turkey.influence.syria"
    result = basesim.sweep(
        scenario, {x: (0.0, 0.6), y: (0.0, 0.3)}, design="grid", n_points=3, n_runs=100, rng=1
    )
    ax = plotting.plot_sweep_surface(result, x=x, y=y, outcome="basing=reduced presence")
    design = result.design
    expected = np.empty((3, 3))
    p = result.probability("basing=reduced presence")
    for k, row in design.iterrows():
        i = sorted(design[y].unique()).index(row[y])
        j = sorted(design[x].unique()).index(row[x])
        expected[i, j] = p[k]
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(3, 3), expected)
    assert (
        ax.get_xlabel()
        == f"Syrian government's position on Russian military basing (0–1 scale)\n{x}"
    )
    assert ax.get_ylabel() == f"Turkey's influence on Syrian government\n{y}"
    render(ax)
    # A scattered design is drawn as points coloured by the probability.
    scattered = basesim.sweep(
        scenario, {x: (0.0, 0.6), y: (0.0, 0.3)}, design="lhs", n_points=6, n_runs=50, rng=1
    )
    ax = plotting.plot_sweep_surface(scattered, x=x, y=y, outcome="no agreement")
    np.testing.assert_allclose(
        np.asarray(ax.collections[0].get_array()),
        scattered.to_frame().query("outcome == 'no agreement'").sort_values([x, y]).probability,
    )
    render(ax)


def test_plot_sensitivity_of_a_sensitivity_result(scenario):
    result = basesim.sensitivity(
        scenario,
        {"actors.syria.basing.position": (0.0, 0.6), "actors.russia.concession": (0.6, 3.0)},
        outcome="basing=withdrawal",
        n=8,
        n_runs=32,
        n_resamples=99,
        rng=1,
    )
    ax = plotting.plot_sensitivity(result)
    first, total = bars(ax)
    order = np.argsort(-result.total_order, kind="stable")
    np.testing.assert_allclose([b.get_width() for b in first.patches], result.first_order)
    np.testing.assert_allclose([b.get_width() for b in total.patches], result.total_order)
    # Bars sit on the rows of their parameters, sorted by total-order index.
    rows = [round(b.get_y() + b.get_height() / 2 + 0.2) for b in total.patches]
    assert [rows.index(r) for r in range(len(rows))] == list(order)
    segments = errorbar_segments(total)
    np.testing.assert_allclose(segments[:, 0, 0], result.total_order_interval[:, 0])
    np.testing.assert_allclose(segments[:, 1, 0], result.total_order_interval[:, 1])
    assert "basing=withdrawal" in ax.get_title()
    render(ax)


def test_experiment_results_draw_themselves():
    import matplotlib.pyplot as plt

    scn = basesim.load_scenario("syria-2025")
    comparison = basesim.compare(
        {"base": scn, "hedging": scn.replace({"actors.syria.basing.position": 0.6})},
        n_runs=300,
        rng=1,
    )
    x, y = "actors.syria.basing.position", "actors.russia.concession"
    swept = basesim.sweep(
        scn, {x: (0.0, 0.6), y: (0.6, 3.0)}, design="grid", n_points=3, n_runs=100, rng=1
    )
    axes = [comparison.plot(), swept.plot(x=x, y=y, outcome="basing=withdrawal")]
    for ax in axes:
        assert ax.figure is not None
        assert ax.get_title() or ax.get_xlabel()
    plt.close("all")
