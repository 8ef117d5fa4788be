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
from basesim.experiments import replay_stances
from basesim.plotting.negotiation import _carry_forward
from basesim.results import wilson_interval
from basesim.testing import setter_scenario


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result(scenario) -> basesim.SimulationResult:
    return basesim.simulate(scenario, n_runs=2_000, rng=3, keep_runs=0)


@pytest.fixture(scope="module")
def model(scenario) -> basesim.NegotiationModel:
    # rng=14 gives a nine-month run: offers refused, months without an offer,
    # sanctions relief settled alone in month 3 and basing in month 9.
    model = basesim.NegotiationModel(scenario, rng=14)
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
def _shown(rows):
    """The joint rows the bar chart draws: those some run reached, and no agreement."""
    return rows[(rows["count"] > 0) | (rows.outcome == "no agreement")]


@pytest.mark.parametrize("table", ["joint", "basing", "sanctions_relief"])
def test_probability_bars_are_the_probabilities_and_intervals(result, table):
    rows = result.probabilities(0.9).query("table == @table")
    if table == "joint":
        rows = _shown(rows)
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
        "unsettled (status quo kept)",
    ]
    # Runs that settled nothing are grey bars: the issue's unsettled row ...
    colours = [to_hex(bar.get_facecolor()) for bar in bars(ax)[0].patches]
    assert colours[-1] != colours[0] and len(set(colours[:3])) == 1
    ax = plotting.plot_probabilities(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    outcomes = list(_shown(result.probabilities().query("table == 'joint'")).outcome)
    # The joint chart labels each issue's category with its range, as the
    # issue's own chart does, one issue a line.
    ranges = {
        "withdrawal": "withdrawal (below 0.25)",
        "reduced presence": "reduced presence (0.25 to 0.75)",
        "retention": "retention (0.75 and above)",
        "none or limited": "none or limited (below 0.25)",
        "partial": "partial (0.25 to 0.75)",
        "substantial": "substantial (0.75 and above)",
        "unsettled": "unsettled (status quo kept)",
    }
    expected = [
        o if o == "no agreement" else " /\n".join(ranges[part] for part in o.split(" / "))
        for o in outcomes
    ]
    assert labels == expected
    assert "withdrawal (below 0.25) /\nsubstantial (0.75 and above)" in labels
    assert labels[-1] == "no agreement"
    # ... and no agreement in the joint table; joint outcomes that settle some
    # issues only are pale, those that settle every issue as the others.
    joint_colours = [to_hex(bar.get_facecolor()) for bar in bars(ax)[0].patches]
    assert joint_colours[-1] == colours[-1]
    assert joint_colours[0] == colours[0]
    pale = {joint_colours[i] for i, label in enumerate(labels[:-1]) if "unsettled" in label}
    assert len(pale) == 1 and pale.isdisjoint({colours[0], colours[-1]})


def test_joint_bars_leave_out_the_outcomes_no_run_reached(scenario):
    # Five runs, one in each of five joint cells (see _partial_result), one of
    # them no agreement: 4 bars of 20 % and no agreement; the other 11 of the
    # 16 cells are empty and said to be left out, once.
    ax = plotting.plot_probabilities(_partial_result(scenario))
    np.testing.assert_allclose([b.get_width() for b in bars(ax)[0].patches], [0.2] * 5)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "withdrawal (below 0.25) /\nsubstantial (0.75 and above)",
        "reduced presence (0.25 to 0.75) /\nunsettled (status quo kept)",
        "retention (0.75 and above) /\nnone or limited (below 0.25)",
        "unsettled (status quo kept) /\npartial (0.25 to 0.75)",
        "no agreement",
    ]
    assert ax.get_xlabel().endswith("\n11 joint outcomes no run reached not shown")
    assert [t.get_text() for t in ax.texts] == ["20.0%"] * 5
    render(ax)


def test_result_plot_is_plot_probabilities(result):
    ax = result.plot()
    rows = _shown(result.probabilities().query("table == 'joint'"))
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
    # Joint rows run over basing rows (outer) x relief rows (inner), each issue's
    # categories then "unsettled"; the last cell, both unsettled, is no agreement.
    cells = joint.probability.to_numpy().reshape(4, 4)
    low = joint.ci_low.to_numpy().reshape(4, 4)
    high = joint.ci_high.to_numpy().reshape(4, 4)
    ax = plotting.plot_joint(result)
    np.testing.assert_allclose(ax.images[0].get_array(), cells, atol=1e-12)
    texts = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }
    assert len(texts) == 16
    for i in range(4):
        for j in range(4):
            assert texts[i, j] == f"{cells[i, j]:.1%}\n[{low[i, j]:.1%}, {high[i, j]:.1%}]"
    # Rows (bottom to top) are basing's rows, columns relief's.
    assert ax.get_yticklabels()[0].get_text() == "withdrawal\n(below 0.25)"
    assert ax.get_yticklabels()[3].get_text() == "unsettled\n(status quo kept)"
    assert ax.get_xticklabels()[2].get_text() == "substantial\n(0.75 and above)"
    assert ax.get_xticklabels()[3].get_text() == "unsettled\n(status quo kept)"
    none = joint.iloc[-1]
    assert none.outcome == "no agreement"
    assert f"no agreement (no issue settled) by Jan 2027: {none.probability:.1%}" in ax.get_title()
    render(ax)


def _partial_result(scenario):
    """Five hand-made runs of syria-2025, some settling one issue only.

    basing: run 0 withdrawal (round 2), run 1 reduced presence (round 1),
    runs 2 and 3 unsettled, run 4 retention (round 3); relief: run 0 substantial
    (round 2), runs 1 and 3 unsettled, run 2 partial (round 5), run 4 none or
    limited (round 7).
    """
    from basesim.engine.outcome import BatchOutcome
    from basesim.results import Provenance, Tally

    outcome = BatchOutcome(
        package=np.array([[0.1, 0.9], [0.5, 0.9], [0.1, 0.5], [0.8, 0.1], [0.9, 0.1]]),
        settled=np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]], dtype=bool),
        settled_round=np.array([[2, 2], [1, 0], [0, 5], [0, 0], [3, 7]]),
        settled_by=np.array([[0, 0], [1, -1], [-1, 2], [-1, -1], [3, 1]]),
        proposals=np.zeros((5, 4), dtype=np.int64),
        sampled=np.zeros((5, len(scenario.uncertain_parameters()))),
    )
    tally = Tally.empty(scenario)
    tally.add(outcome)
    provenance = Provenance(
        basesim_version="0", engine="batch", entropy=1, spawn_key=(), block_size=1024, created=""
    )
    return basesim.SimulationResult(
        scenario=scenario, n_runs=5, tally=tally, runs=outcome, provenance=provenance
    )


def test_joint_heat_table_of_partial_settlements(scenario):
    ax = plotting.plot_joint(_partial_result(scenario))
    # One run (of five) in each of: (withdrawal, substantial) run 0, (reduced
    # presence, unsettled) run 1, (unsettled, partial) run 2, (unsettled,
    # unsettled) = no agreement run 3, (retention, none or limited) run 4.
    expected = np.zeros((4, 4))
    for i, j in [(0, 2), (1, 3), (3, 1), (3, 3), (2, 0)]:
        expected[i, j] = 0.2
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert "no agreement (no issue settled) by Jan 2027: 20.0%" in ax.get_title()
    ax = plotting.plot_probabilities(_partial_result(scenario), table="sanctions_relief")
    np.testing.assert_allclose([b.get_width() for b in bars(ax)[0].patches], [0.2, 0.2, 0.2, 0.4])
    render(ax)


def test_joint_heat_table_transposes_and_handles_one_issue(result):
    ax = plotting.plot_joint(result, rows="sanctions_relief", columns="basing")
    cells = result.probabilities().query("table == 'joint'").probability.to_numpy().reshape(4, 4)
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
    # One issue: its categories, then unsettled (= no agreement), in one column.
    counts = single.tally.joint
    assert len(counts) == len(single.scenario.issues[0].categories) + 1
    np.testing.assert_allclose(ax.images[0].get_array()[:, 0], counts / 50)
    assert ax.get_yticklabels()[-1].get_text() == "unsettled\n(status quo kept)"
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
    (cumulative,) = [
        line for line in ax.lines if line.get_label().startswith("every issue settled by")
    ]
    np.testing.assert_allclose(cumulative.get_ydata(), np.cumsum(frame.probability[1:]))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Feb\n2025"
    assert labels[-1] == "not all\nsettled"
    render(ax)


@pytest.mark.parametrize("partial", [False, True])
def test_settlement_months_lines_and_bands(result, scenario, partial):
    res = _partial_result(scenario) if partial else result
    frame = res.settlement_months()
    ax = plotting.plot_settlement_months(res)
    lines = {line.get_label(): line for line in ax.lines}
    for issue in scenario.issues:
        rows = frame[frame.table == issue.name]
        p0 = rows.probability.iloc[0]
        line = lines[f"{issue.label} (unsettled at the horizon: {p0:.1%})"]
        settled_by = np.cumsum(rows["count"].to_numpy()[1:])
        np.testing.assert_allclose(line.get_ydata(), settled_by / res.n_runs)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, scenario.horizon + 1))
        # It never reaches 1 - P(unsettled) before the horizon, and does at it.
        assert line.get_ydata()[-1] == pytest.approx(1 - p0)
    every = lines["every issue settled"]
    np.testing.assert_allclose(
        every.get_ydata(), np.cumsum(res.agreement_rounds().probability[1:])
    )
    if partial:
        # basing settled by rounds 1, 2, 3: 1, 2, 3 of 5 runs; relief by rounds 2, 5, 7.
        basing = lines["Russian military basing (unsettled at the horizon: 40.0%)"]
        np.testing.assert_allclose(basing.get_ydata()[:4], [0.2, 0.4, 0.6, 0.6])
        np.testing.assert_allclose(every.get_ydata()[[0, 1, 5, 6]], [0.0, 0.2, 0.2, 0.4])
    render(ax)


# -- one negotiation ------------------------------------------------------------------------
def _vlines(ax, style):
    """The x positions of the vertical lines of ``ax`` drawn in linestyle ``style``."""
    return [
        float(line.get_xdata()[0])
        for line in ax.lines
        if line.get_linestyle() == style
        and len(set(line.get_xdata())) == 1
        and line.get_marker() in ("None", "", None)
    ]


def test_negotiation_lines_are_the_datacollector_stances(model, scenario):
    agents = model.datacollector.get_agent_vars_dataframe()
    frame = model.datacollector.get_model_vars_dataframe()
    rounds = frame["round"].to_numpy()
    colours = plotting.actor_colors(scenario)
    for k, issue in enumerate(scenario.issue_names):
        ax = plotting.plot_negotiation(model, issue=issue)
        lines = {line.get_label(): line for line in ax.lines}
        for agent in model.actor_agents:
            line = lines[agent.label]
            recorded = agents[agents.actor == agent.actor_name][f"stance_{issue}"].to_numpy()
            np.testing.assert_array_equal(line.get_xdata(), [0, *rounds])
            # Round 0 is the starting stance, the actor's drawn position.
            assert line.get_ydata()[0] == model.parameters.position[0, agent.index, k]
            np.testing.assert_array_equal(line.get_ydata()[1:], recorded)
            assert to_hex(line.get_color()).upper() == colours[agent.actor_name].upper()
        # The status quo, drifting, while the issue is open: from its starting value.
        open_rows = ~frame[f"settled_{issue}"].to_numpy(dtype=bool)
        status_quo = lines["status quo (while unsettled)"]
        np.testing.assert_array_equal(status_quo.get_xdata(), [0, *rounds[open_rows]])
        np.testing.assert_array_equal(
            status_quo.get_ydata(),
            [model.parameters.status_quo[0, k], *frame[f"status_quo_{issue}"][open_rows]],
        )
        render(ax)


def test_negotiation_marks_proposals_and_settlements(model, scenario):
    frame = model.datacollector.get_model_vars_dataframe()
    colours = plotting.actor_colors(scenario)
    relief_round = int(frame.settlement_round_sanctions_relief.iloc[-1])
    basing_round = int(frame.settlement_round_basing.iloc[-1])
    # The fixture's run settles relief alone first, then basing, later.
    assert 1 < relief_round < basing_round == model.round_index
    for issue, other, other_label in [
        ("basing", "sanctions_relief", "Sanctions relief"),
        ("sanctions_relief", "basing", "Russian military basing"),
    ]:
        ax = plotting.plot_negotiation(model, issue=issue)
        diamonds = [line for line in ax.lines if line.get_marker() == "D"]
        pluses = [line for line in ax.lines if line.get_marker() == "+"]
        crosses = [line for line in ax.lines if line.get_marker() == "x"]
        proposal = frame[f"proposal_{issue}"]
        # A diamond where an offer covered the issue, at the proposed value, in
        # the proposer's colour, filled if it passed; a plus where the offer
        # covered other issues only; a cross where nothing was offered.
        covers = frame[frame.offered & proposal.notna()]
        assert [float(d.get_xdata()[0]) for d in diamonds] == list(covers["round"])
        np.testing.assert_allclose(
            [d.get_ydata()[0] for d in diamonds], covers[f"proposal_{issue}"]
        )
        for d, row in zip(diamonds, covers.itertuples(), strict=True):
            assert to_hex(d.get_markeredgecolor()).upper() == colours[row.proposer].upper()
            filled = to_hex(d.get_markerfacecolor()).upper() != "#FFFFFF"
            assert filled == row.passed
        elsewhere = frame[frame.offered & proposal.isna()]
        assert [float(p.get_xdata()[0]) for p in pluses] == list(elsewhere["round"])
        assert [float(c.get_xdata()[0]) for c in crosses] == list(frame[~frame.offered]["round"])
        # Exactly one diamond is filled: the offer that settled the issue.
        (passed,) = [d for d in diamonds if to_hex(d.get_markerfacecolor()) != "#ffffff"]
        settled_in = int(frame[f"settlement_round_{issue}"].iloc[-1])
        assert float(passed.get_xdata()[0]) == settled_in
        # This issue's settlement: a dotted line and a star at the agreed value ...
        agreed = float(frame[f"status_quo_{issue}"].iloc[-1])
        assert agreed == float(proposal[frame["round"] == settled_in].iloc[0])
        assert _vlines(ax, ":") == [settled_in]
        (star,) = [line for line in ax.lines if line.get_marker() == "*"]
        assert (float(star.get_xdata()[0]), float(star.get_ydata()[0])) == (settled_in, agreed)
        category = scenario.issue(issue).categorize([agreed])[0]
        (note,) = [t for t in ax.texts if t.get_text().startswith("settled:")]
        assert note.get_text() == f"settled: {agreed:.2f}\n({category})"
        # ... and the other issue's, a labelled dash-dotted line.
        other_in = int(frame[f"settlement_round_{other}"].iloc[-1])
        assert _vlines(ax, "-.") == [other_in]
        assert [t.get_text() for t in ax.texts if t is not note] == [f"{other_label} settled"]
        month = plotting.month_label(scenario, settled_in)
        other_month = plotting.month_label(scenario, other_in)
        title = ax.get_title()
        assert f"\nsettled in {month} (round {settled_in})\n" in title
        assert title.endswith(f"{other_label} settled in {other_month} (round {other_in})")
        assert not [line for line in ax.lines if line.get_marker() == "s"]
        render(ax)
    assert ax.get_yticklabels()[0].get_text() == "0: Assad-era sanctions\nfully in force"


def test_negotiation_marks_an_unsettled_issue(scenario):
    # With two months only, some runs end with basing unsettled: take the first
    # that settled relief (in month 1 or 2).
    short = scenario.replace(name="short", horizon=2)
    for seed in range(500):
        model = basesim.NegotiationModel(short, rng=seed)
        outcome = model.run()
        if not outcome.settled[0, 0] and outcome.settled[0, 1]:
            break
    assert not outcome.settled[0, 0] and outcome.settled[0, 1]
    ax = plotting.plot_negotiation(model, issue="basing")
    # The status quo left in force, drifted, is the run's final value of basing.
    frame = model.datacollector.get_model_vars_dataframe()
    final = outcome.package[0, 0]
    assert final == frame.status_quo_basing.iloc[-1]
    (square,) = [line for line in ax.lines if line.get_marker() == "s"]
    assert square.get_ydata()[0] == pytest.approx(final)
    assert _vlines(ax, "--") == [2.0]
    assert not [line for line in ax.lines if line.get_marker() == "*"]
    assert "unsettled when the run ended, Mar 2025 (round 2): the status quo stays" in (
        ax.get_title()
    )
    (note,) = [t for t in ax.texts if t.get_text().startswith("unsettled")]
    assert note.get_text() == f"unsettled: status quo\n{final:.2f} kept"
    month = plotting.month_label(short, int(outcome.settled_round[0, 1]))
    assert ax.get_title().endswith(
        f"Sanctions relief settled in {month} (round {outcome.settled_round[0, 1]})"
    )
    # The status quo line runs over every month: the issue was never settled.
    status_quo = next(line for line in ax.lines if line.get_label().startswith("status quo"))
    np.testing.assert_array_equal(status_quo.get_xdata(), [0, 1, 2])
    render(ax)


def test_negotiation_of_a_run_still_under_way(scenario):
    model = basesim.NegotiationModel(scenario, rng=14)
    model.step()  # month 1: an offer on both issues, refused
    assert model.running
    ax = plotting.plot_negotiation(model, issue="basing")
    title = ax.get_title()
    assert "still open after Feb 2025 (round 1)" in title
    assert title.endswith("Sanctions relief still open")
    assert not [line for line in ax.lines if line.get_marker() in ("*", "s")]
    assert not ax.texts
    render(ax)


def test_negotiation_needs_a_played_round_and_a_known_issue(scenario, model):
    with pytest.raises(BasesimError, match="has not played a round yet"):
        plotting.plot_negotiation(basesim.NegotiationModel(scenario, rng=1), issue="basing")
    with pytest.raises(
        BasesimError, match=r"issue must be one of basing, sanctions_relief \(got 'bases'\)"
    ):
        plotting.plot_negotiation(model, issue="bases")


# -- many negotiations ----------------------------------------------------------------------
def _run_ends(result) -> np.ndarray:
    """The last month each kept run played: its full settlement, else the horizon."""
    frame = result.to_frame()
    return np.where(frame.agreed, frame["round"], result.scenario.horizon)


def test_stance_paths_replay_the_runs_of_simulate(scenario):
    paths = plotting.stance_paths(scenario, issue="basing", n_runs=3, rng=0)
    # Run 0 of the computation seeded with rng=0 is NegotiationModel(scenario, rng=0).
    model = basesim.NegotiationModel(scenario, rng=0)
    model.run()
    agents = model.datacollector.get_agent_vars_dataframe()
    end = model.round_index
    for agent in model.actor_agents:
        row = paths[agent.actor_name][0]
        assert row[0] == model.parameters.position[0, agent.index, 0]
        np.testing.assert_array_equal(
            row[1 : end + 1], agents[agents.actor == agent.actor_name].stance_basing
        )
        assert np.isnan(row[end + 1 :]).all()
    # The runs end where simulate says they end.
    result = basesim.simulate(scenario, n_runs=3, rng=0, engine="mesa")
    ends = [int(np.sum(~np.isnan(paths["syria"][i]))) - 1 for i in range(3)]
    assert ends == list(_run_ends(result))


def test_carry_forward_fills_each_run_after_its_end():
    values = np.array(
        [[0.1, 0.2, np.nan, np.nan], [0.5, 0.4, 0.3, 0.2], [0.9, np.nan, np.nan, np.nan]]
    )
    np.testing.assert_array_equal(
        _carry_forward(values),
        [[0.1, 0.2, 0.2, 0.2], [0.5, 0.4, 0.3, 0.2], [0.9, 0.9, 0.9, 0.9]],
    )


def test_stance_bands_are_percentiles_over_all_runs(scenario):
    n_runs = 16
    replay = replay_stances(scenario, issue="basing", n_runs=n_runs, rng=5)
    paths = replay.paths
    result = basesim.simulate(scenario, n_runs=n_runs, rng=5)
    ends = _run_ends(result)
    # Runs end at different months, some not before the horizon.
    assert len(set(ends)) > 3
    last = int(ends.max())
    ax = plotting.plot_stance_bands(replay)
    lines = {line.get_label(): line for line in ax.lines}
    for k, actor in enumerate(scenario.actors):
        # Every run counts in every month, an ended run with its last stance.
        values = pd.DataFrame(paths[actor.name]).ffill(axis=1).to_numpy()[:, : last + 1]
        assert not np.isnan(values).any()
        for i, end in enumerate(ends):
            assert (values[i, end:] == paths[actor.name][i, end]).all()
        np.testing.assert_allclose(lines[actor.label].get_ydata(), np.median(values, axis=0))
        band = ax.collections[k].get_paths()[0].vertices
        low, high = np.percentile(values, [10, 90], axis=0)
        # fill_between's outline runs along the low edge, then back along the high edge.
        np.testing.assert_allclose(band[1 : last + 2, 1], low)
        np.testing.assert_allclose(band[last + 3 : 2 * last + 4, 1][::-1], high)
    # The shares of runs with some issue, and with basing, still open after each month.
    frame = result.to_frame()
    months = np.arange(last + 1)[:, None]
    open_basing = (frame.settlement_round_basing.to_numpy() == 0) | (
        frame.settlement_round_basing.to_numpy() > months
    )
    open_relief = (frame.settlement_round_sanctions_relief.to_numpy() == 0) | (
        frame.settlement_round_sanctions_relief.to_numpy() > months
    )
    negotiating = lines["runs still negotiating"].get_ydata()
    np.testing.assert_allclose(negotiating, (open_basing | open_relief).mean(axis=1))
    # Before the horizon, a run still negotiates after month t iff it ended later.
    before = np.arange(last + 1) < scenario.horizon
    np.testing.assert_allclose(negotiating[before], (ends[None, :] > months[before]).mean(axis=1))
    np.testing.assert_allclose(
        lines["runs with this issue open"].get_ydata(), open_basing.mean(axis=1)
    )
    assert negotiating[0] == 1.0
    if last == scenario.horizon:
        assert negotiating[-1] == pytest.approx(1 - frame.agreed.mean())
    assert ax.get_xlim() == pytest.approx((-0.3, last + 0.3))
    assert "share of runs" in ax.child_axes[0].get_ylabel()
    assert f"{n_runs} runs" in ax.get_title()
    render(ax)


def test_stance_bands_do_not_select_survivors(scenario):
    # A run that ends keeps counting: the last month's median is the median of
    # every run's final stance, not of the runs that were still going.
    n_runs = 12
    replay = replay_stances(scenario, issue="basing", n_runs=n_runs, rng=2)
    paths = replay.paths
    ax = plotting.plot_stance_bands(replay)
    lines = {line.get_label(): line for line in ax.lines}
    for actor in scenario.actors:
        row = paths[actor.name]
        finals = np.array([r[~np.isnan(r)][-1] for r in row])
        assert lines[actor.label].get_ydata()[-1] == pytest.approx(np.median(finals))
    render(ax)


def test_stance_bands_of_actors_nobody_pulls_stay_flat(scenario):
    # Only Syria is pulled (by Turkey and the investors); Russia, Turkey and the
    # investors keep their starting stances, so with every run counted in every
    # month their medians and bands are flat, however many runs have ended.  Over
    # the runs still negotiating they would move as runs drop out.
    pulled = {target for actor in scenario.actors for target in actor.influence}
    assert pulled == {"syria"}
    n_runs = 12
    replay = replay_stances(scenario, issue="basing", n_runs=n_runs, rng=2)
    paths = replay.paths
    ax = plotting.plot_stance_bands(replay)
    lines = {line.get_label(): line for line in ax.lines}
    for actor in scenario.actors:
        median = lines[actor.label].get_ydata()
        if actor.name in pulled:
            continue
        start = paths[actor.name][:, 0]
        np.testing.assert_array_equal(median, np.full(len(median), np.median(start)))
    # The share still negotiating falls from 1 as runs end.
    share = lines["runs still negotiating"].get_ydata()
    assert share[0] == 1.0 and np.all(np.diff(share) <= 0)
    render(ax)


def test_stance_replays_reject_bad_arguments(scenario):
    with pytest.raises(BasesimError, match=r"n_runs must be a whole number >= 1 \(got 0\)"):
        replay_stances(scenario, issue="basing", n_runs=0, rng=1)
    with pytest.raises(BasesimError, match="issue must be one of"):
        replay_stances(scenario, issue="bases", n_runs=2, rng=1)


def test_stance_bands_draw_a_replay_and_never_simulate(scenario):
    # The plot takes replayed runs; given a scenario it says what to pass instead.
    with pytest.raises(BasesimError, match=r"replay must be a StanceReplay.*\(got Scenario\)"):
        plotting.plot_stance_bands(scenario)


def test_stance_paths_are_the_paths_of_the_replay(scenario):
    replay = replay_stances(scenario, issue="basing", n_runs=4, rng=3)
    paths = plotting.stance_paths(scenario, issue="basing", n_runs=4, rng=3)
    assert replay.n_runs == 4
    assert paths.keys() == replay.paths.keys()
    for name in paths:
        np.testing.assert_array_equal(paths[name], replay.paths[name])


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


def test_sensitivity_axis_is_a_share_of_variance():
    # Estimates beyond [0, 1] (noise) are drawn at the edge with their values
    # written there; a parameter that never moved the output gets words, not bars.
    frame = pd.DataFrame(
        {
            "parameter": ["a", "a", "b", "b", "c", "c"],
            "index": ["first_order", "total_order"] * 3,
            "estimate": [0.9, 1.12, -0.05, 0.3, 0.0, 0.0],
            "ci_low": [0.8, 0.95, -0.2, 0.1, 0.0, 0.0],
            "ci_high": [1.0, 1.3, 0.1, 0.5, 0.0, 0.0],
            "output_varies": [True, True, True, True, False, False],
        }
    )
    ax = plotting.plot_sensitivity(frame)
    assert ax.get_xlim() == (0.0, 1.0)
    first, total = bars(ax)
    # Rows by total order: a (1.12), b (0.3), c (0).
    np.testing.assert_allclose([b.get_width() for b in first.patches], [0.9, 0.0, 0.0])
    np.testing.assert_allclose([b.get_width() for b in total.patches], [1.0, 0.3, 0.0])
    segments = errorbar_segments(total)
    np.testing.assert_allclose(segments[:, 0, 0], [0.95, 0.1, 0.0])
    np.testing.assert_allclose(segments[:, 1, 0], [1.0, 0.5, 0.0])
    texts = [t.get_text() for t in ax.texts]
    assert "1.12 [0.95, 1.30]▸" in texts  # a's total order, past 1
    assert "◂-0.05 [-0.20, 0.10]" in texts  # b's first order, below 0
    assert texts.count("no variation in the output") == 1  # c
    assert not any("0.90" in t for t in texts)  # inside [0, 1]: no note
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
        "unsettled (status quo kept)",
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


def test_one_parameter_sweep_line_and_band(scenario):
    # The line is each point's probability in order of x; the band each point's
    # Wilson interval over its runs.
    x = "actors.syria.basing.position"
    result = basesim.sweep(scenario, {x: (0.0, 0.6)}, design="lhs", n_points=5, n_runs=60, rng=2)
    ax = result.plot(x=x, outcome="basing=withdrawal")
    order = np.argsort(result.points[:, 0])
    p = result.probability("basing=withdrawal")[order]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), result.points[order, 0])
    np.testing.assert_allclose(line.get_ydata(), p)
    column = result.outcomes.index(("basing", "withdrawal"))
    low, high = wilson_interval(result.counts[order, column], 60, 0.95)
    band = ax.collections[0].get_paths()[0].vertices
    # fill_between's outline: the lower edge left to right, then the upper edge back.
    np.testing.assert_allclose(band[1:6, 1], low)
    np.testing.assert_allclose(band[7:12, 1][::-1], high)
    assert ax.get_ylim() == (0.0, 1.0)
    assert "95% Wilson interval, 60 runs per design point" in ax.get_title()
    render(ax)
    # A sweep over two parameters has no line: each x value has several points.
    y = "actors.turkey.influence.syria"
    two = basesim.sweep(
        scenario, {x: (0.0, 0.6), y: (0.0, 0.3)}, design="grid", n_points=2, n_runs=10, rng=1
    )
    with pytest.raises(BasesimError, match="plot_sweep_line needs a sweep over x alone"):
        plotting.plot_sweep_line(two, x=x, outcome="basing=withdrawal")


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
    # Unsettled outcomes, and no agreement by its other name.
    for name, table, outcome, label in [
        ("basing=unsettled", "basing", "unsettled", "unsettled (basing)"),
        ("joint=withdrawal / unsettled", "joint", "withdrawal / unsettled", None),
        ("joint=unsettled / unsettled", "joint", "no agreement", None),
    ]:
        ax = plotting.plot_sweep_surface(scattered, x=x, y=y, outcome=name)
        tidy = scattered.to_frame()
        rows = tidy[(tidy.table == table) & (tidy.outcome == outcome)]
        np.testing.assert_allclose(
            np.asarray(ax.collections[0].get_array()), rows.sort_values([x, y]).probability
        )
        assert f"probability of {label or outcome}\n" in ax.get_title()


def test_plot_sensitivity_of_a_continuous_outcome_speaks_of_its_mean(scenario):
    result = basesim.sensitivity(
        scenario,
        {"actors.syria.basing.position": (0.0, 0.6), "actors.russia.concession": (0.6, 3.0)},
        outcome="value:basing",
        n=8,
        n_runs=16,
        n_resamples=49,
        rng=1,
    )
    assert not result.is_probability
    ax = plotting.plot_sensitivity(result)
    assert "share of the mean's variance" in ax.get_xlabel()
    assert "drive the mean of value:basing" in ax.get_title()
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
    # Shares of variance: drawn within [0, 1].
    np.testing.assert_allclose(
        [b.get_width() for b in first.patches], np.clip(result.first_order, 0, 1)
    )
    np.testing.assert_allclose(
        [b.get_width() for b in total.patches], np.clip(result.total_order, 0, 1)
    )
    # Bars sit on the rows of their parameters, sorted by total-order index.
    rows = [round(b.get_y() + b.get_height() / 2 + 0.2) for b in total.patches]
    assert [rows.index(r) for r in range(len(rows))] == list(order)
    segments = errorbar_segments(total)
    np.testing.assert_allclose(segments[:, 0, 0], np.clip(result.total_order_interval[:, 0], 0, 1))
    np.testing.assert_allclose(segments[:, 1, 0], np.clip(result.total_order_interval[:, 1], 0, 1))
    assert ax.get_xlim() == (0.0, 1.0)
    assert "basing=withdrawal" in ax.get_title()
    render(ax)


def test_experiment_results_draw_themselves(scenario):
    import matplotlib.pyplot as plt

    comparison = basesim.compare(
        {"base": scenario, "hedging": scenario.replace({"actors.syria.basing.position": 0.6})},
        n_runs=300,
        rng=1,
    )
    x, y = "actors.syria.basing.position", "actors.russia.concession"
    swept = basesim.sweep(
        scenario, {x: (0.0, 0.6), y: (0.6, 3.0)}, design="grid", n_points=3, n_runs=100, rng=1
    )
    axes = [comparison.plot(), swept.plot(x=x, y=y, outcome="basing=withdrawal")]
    for ax in axes:
        assert ax.figure is not None
        assert ax.get_title() or ax.get_xlabel()
    plt.close("all")
