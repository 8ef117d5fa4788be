"""Scenarios from tables and the DEU reader: hand-built files, hand-derived rules."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import basesim
from basesim.data import COUNCIL_REGIMES, council_regime, parse_deu_date, read_deu
from basesim.data import scenario_from_frame as from_frame
from basesim.protocols.rules import rule_met, rule_table

ACTORS = ("com", "ep", "de", "fr", "lu", "at")
GDP = {"com": 4.0, "ep": 4.0, "de": 4.0, "fr": 3.0, "lu": 0.1, "at": 0.5}
PRE_NICE = "17-07-00"  # 17 July 2000: EU-15 weights, 62 of 87


def deu_row(
    *,
    issue: str,
    positions: dict[str, float | str],
    saliences: dict[str, float | str],
    proposal: str = "d00001",
    proc: str = "COD",
    counvte: str = "QMV",
    finact: str = PRE_NICE,
    intro: str = "01-02-99",
    rp: float | str = 0,
    out: float | str = 50,
) -> dict[str, object]:
    row: dict[str, object] = {
        "prnr": proposal,
        "isnr": issue,
        "proc": proc,
        "counvte": counvte,
        "intro": intro,
        "finact": finact,
    }
    for a in ACTORS:
        row[f"p{a}"] = positions.get(a, "")
    for a in ACTORS:
        row[f"s{a}"] = saliences.get(a, "")
    row["rp"], row["out"] = rp, out
    return row


def write_deu(path: Path, rows: list[dict[str, object]], *, gdp: bool = True) -> Path:
    """A DEU-format file: header, the GDP row, one row per issue."""
    columns = list(rows[0])
    lines = ["\t".join(columns)]
    if gdp:
        lines.append(
            "\t".join(str(GDP[c[1:]]) if c[1:] in GDP and c[0] == "p" else "" for c in columns)
        )
    lines += ["\t".join(str(r.get(c, "")) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FULL = dict.fromkeys(ACTORS, 50)


# -- dates and the Council's rules ----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1930-05-01", dt.date(2001, 5, 30)),  # damaged: day 30 in the year field, year 01 last
        ("2014-11-04", dt.date(2004, 11, 14)),
        ("25-05-99", dt.date(1999, 5, 25)),
        ("08-06-00", dt.date(2000, 6, 8)),
        ("13-09-2017", dt.date(2017, 9, 13)),
        ("999", None),
        ("", None),
    ],
)
def test_deu_dates_are_read_and_repaired(text, expected):
    assert parse_deu_date(text) == expected


def test_without_repair_an_iso_date_is_an_iso_date():
    assert parse_deu_date("2014-11-04", repair=False) == dt.date(2014, 11, 4)
    with pytest.raises(ValueError, match="not a date"):
        parse_deu_date("May 2001")


def test_the_council_regimes_carry_the_treaty_numbers():
    # Totals of votes and qualified majorities from the treaties (see the module's sources).
    expected = {
        "EU-15": (87, 62),
        "EU-25 transition": (124, 88),
        "Nice EU-25": (321, 232),
        "Nice EU-27": (345, 255),
        "Nice EU-28": (352, 260),
    }
    for regime in COUNCIL_REGIMES:
        if regime.name in expected:
            total, needed = expected[regime.name]
            assert sum(regime.weights.values()) == total
            assert regime.vote_share == pytest.approx(needed / total)
    # The periods follow each other without a gap.
    for a, b in itertools.pairwise(COUNCIL_REGIMES):
        assert a.end is not None and b.start == a.end + dt.timedelta(days=1)
    assert council_regime(dt.date(2004, 10, 31)).name == "EU-25 transition"
    assert council_regime(dt.date(2004, 11, 1)).name == "Nice EU-25"
    assert council_regime(dt.date(2014, 11, 1)).name == "Lisbon"
    # Lisbon: 55 % of 28 is 15.4, so 16 states; Nice: more than half of 27 is 14.
    assert council_regime(dt.date(2018, 1, 1)).states_needed(28) == 16
    assert council_regime(dt.date(2010, 1, 1)).states_needed(27) == 14
    assert council_regime(dt.date(2000, 1, 1)).states_needed(15) == 0


# -- read_deu: what a row becomes ----------------------------------------------------------------
def test_a_row_becomes_a_one_issue_case_on_the_unit_scale(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [
            deu_row(
                issue="d00001i1",
                positions={"com": 100, "ep": 80, "de": 0, "fr": 50, "lu": 100},
                saliences={"com": 50, "ep": 60, "de": 100, "fr": 20, "lu": 0, "at": 70},
                rp=0,
                out=60,
            )
        ],
    )
    (case,) = read_deu(path)
    scn = case.scenario
    # 'at' has a salience but no position: no stance, no actor.
    assert scn.actor_names == ("com", "ep", "de", "fr", "lu")
    assert case.outcome == 0.6 and case.scale == 100.0
    assert case.proposal == "d00001" and case.issue_id == "d00001i1"
    assert case.date == dt.date(2000, 7, 17) and case.status_quo_source == "rp"
    assert scn.issues[0].status_quo.value == 0.0
    assert scn.actor("ep").stances["issue"].position.value == 0.8
    assert scn.actor("de").stances["issue"].salience.value == 1.0
    assert scn.actor("fr").capability.value == 3.0  # the GDP row
    # Only the Commission proposes.
    assert [a.name for a in scn.actors if a.proposer] == ["com"]


def _met_by_enumeration(scn):
    """(rule_met, acceptors) for every subset of the issue's voters."""
    table = rule_table(scn)
    voters = scn.decision_rule("issue").voters
    names = scn.actor_names
    for k in range(len(voters) + 1):
        for chosen in itertools.combinations(voters, k):
            accepted = np.array([[n in chosen for n in names]])
            yield bool(rule_met(table, accepted)[0, 0]), set(chosen)


def test_qmv_with_codecision_needs_the_parliament_and_a_council_qualified_majority(tmp_path):
    # EU-15 weights: de 10, fr 10, lu 2, at 4 (26 votes among the states present);
    # a qualified majority is 62/87 of them.  Enumerate every set of acceptors.
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, proc="COD", counvte="QMV")],
    )
    scn = read_deu(path)[0].scenario
    assert set(scn.decision_rule("issue").voters) == {"de", "fr", "lu", "at", "ep"}
    weights = {"de": 10, "fr": 10, "lu": 2, "at": 4}
    for met, who in _met_by_enumeration(scn):
        council = sum(weights[a] for a in who if a in weights)
        assert met == ("ep" in who and council >= 62 / 87 * 26 - 1e-9), who


def test_qmv_by_consultation_is_the_council_alone(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, proc="CNS", counvte="QMV")],
    )
    scn = read_deu(path)[0].scenario
    assert "ep" not in scn.decision_rule("issue").voters
    weights = {"de": 10, "fr": 10, "lu": 2, "at": 4}
    for met, who in _met_by_enumeration(scn):
        assert met == (sum(weights[a] for a in who) >= 62 / 87 * 26 - 1e-9), who


def test_lisbon_double_majority_with_the_parliament(tmp_path):
    # finact 2018-06-14 (written 2014-06-18): Lisbon.  Population shares (2016 figures):
    # de 15.93, fr 13.04, lu 0.11, at 1.69; 4 states, so 55 % is 3 of them (2.2 -> 3).
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, finact="2014-06-18")],
    )
    case = read_deu(path)[0]
    assert case.date == dt.date(2018, 6, 14)
    pop = {"de": 15.93, "fr": 13.04, "lu": 0.11, "at": 1.69}
    total = sum(pop.values())
    for met, who in _met_by_enumeration(case.scenario):
        states = [a for a in who if a in pop]
        ok = "ep" in who and sum(pop[a] for a in states) >= 0.65 * total - 1e-9
        assert met == (ok and len(states) >= 3), who


def test_nice_weights_need_a_majority_of_the_states_too(tmp_path):
    # 14 November 2004 (written 2014-11-04): Nice EU-25, de 29, fr 29, lu 4, at 10 and
    # 232 of 321; more than half of 4 states is 3.
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, proc="CNS", finact="2014-11-04")],
    )
    scn = read_deu(path)[0].scenario
    weights = {"de": 29, "fr": 29, "lu": 4, "at": 10}
    for met, who in _met_by_enumeration(scn):
        ok = sum(weights[a] for a in who) >= 232 / 321 * 72 - 1e-9 and len(who) >= 3
        assert met == ok, who


def test_unanimity_under_codecision_adds_the_parliament(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, counvte="Unan")],
    )
    rule = read_deu(path)[0].scenario.decision_rule("issue")
    assert rule.rule == "unanimity" and set(rule.voters) == {"de", "fr", "lu", "at", "ep"}


def test_a_missing_reference_point_is_the_position_farthest_from_the_commission(tmp_path):
    # com at 20; de at 80 is farthest (60 away), so the status quo is 0.8.
    path = write_deu(
        tmp_path / "deu.tsv",
        [
            deu_row(
                issue="i1",
                positions={"com": 20, "de": 80, "fr": 60},
                saliences={"com": 50, "de": 50, "fr": 50},
                rp="",
            )
        ],
    )
    case = read_deu(path)[0]
    assert case.status_quo_source == "imputed"
    assert case.scenario.issues[0].status_quo.value == 0.8


def test_rows_without_an_outcome_or_with_too_few_actors_are_skipped(tmp_path):
    two = {"com": 10, "de": 20}
    path = write_deu(
        tmp_path / "deu.tsv",
        [
            deu_row(issue="kept", positions=FULL, saliences=FULL),
            deu_row(issue="no-out", positions=FULL, saliences=FULL, out=""),
            deu_row(issue="two", positions=two, saliences=two),
            deu_row(issue="missing-code", positions=FULL, saliences=FULL, out=999),
        ],
    )
    assert [c.issue_id for c in read_deu(path)] == ["kept"]


def test_votes_as_capability(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL)],
        gdp=False,
    )
    with pytest.raises(basesim.DataError, match="no GDP row"):
        read_deu(path)
    scn = read_deu(path, capability="votes")[0].scenario
    # EU-15: de 10 (the largest, also the Commission's and the Parliament's), lu 2.
    assert [scn.actor(a).capability.value for a in ("com", "ep", "de", "lu")] == [10, 10, 10, 2]


# -- read_deu: bad files ---------------------------------------------------------------------------
def test_a_missing_column_is_named(tmp_path):
    row = deu_row(issue="i1", positions=FULL, saliences=FULL)
    del row["counvte"]
    path = write_deu(tmp_path / "deu.tsv", [row])
    with pytest.raises(basesim.DataError, match=r"deu.tsv lacks the column counvte"):
        read_deu(path)


def test_an_outcome_out_of_range_names_the_line_and_column(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [
            deu_row(issue="i1", positions=FULL, saliences=FULL),
            deu_row(issue="i2", positions=FULL, saliences=FULL, out=120),
        ],
    )
    # Line 1 the header, 2 the GDP row, 3 the first issue, 4 the second.
    with pytest.raises(
        basesim.DataError,
        match=r"deu.tsv line 4 \(issue i2\), column 'out' must be in \[0, 100\] \(got 120\)",
    ):
        read_deu(path)


def test_a_position_without_salience_names_the_line_and_column(tmp_path):
    saliences = {**FULL, "fr": ""}
    path = write_deu(
        tmp_path / "deu.tsv", [deu_row(issue="i1", positions=FULL, saliences=saliences)]
    )
    with pytest.raises(
        basesim.DataError,
        match=r"line 3 \(issue i1\), column sfr: actor fr has a position \(pfr = 50\) but no salience",
    ):
        read_deu(path)
    # On request the actor is left out of the issue instead.
    (case,) = read_deu(path, missing_salience="drop")
    assert "fr" not in case.scenario.actor_names


def test_bad_values_are_named(tmp_path):
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, counvte="Majority")],
    )
    with pytest.raises(basesim.DataError, match=r"column 'counvte' must be QMV or Unan"):
        read_deu(path)
    path = write_deu(
        tmp_path / "deu.tsv", [deu_row(issue="i1", positions=FULL, saliences=FULL, finact="soon")]
    )
    with pytest.raises(basesim.DataError, match=r"column 'finact' is not a date \(got 'soon'\)"):
        read_deu(path)
    path = write_deu(
        tmp_path / "deu.tsv",
        [deu_row(issue="i1", positions=FULL, saliences=FULL, finact="01-01-80")],
    )
    with pytest.raises(
        basesim.DataError, match=r"no Council voting rule is recorded for 1980-01-01"
    ):
        read_deu(path)
    with pytest.raises(basesim.DataError, match="does not exist"):
        read_deu(tmp_path / "nope.tsv")


# -- scenario_from_frame ---------------------------------------------------------------------
def test_from_frame_one_issue_drops_actors_without_a_stance():
    frame = pd.DataFrame(
        {
            "actor": ["a", "b", "c"],
            "capability": [1.0, 2.0, 1.0],
            "votes": [1.0, 2.0, 1.0],
            "proposer": ["true", "false", "true"],
            "position": [0.0, 60.0, math.nan],
            "salience": [50, 100, 80],
        }
    )
    scn = from_frame(
        frame, status_quo=20, rule="qualified", threshold=0.6, scale=(0, 100), salience_scale=100
    )
    assert scn.actor_names == ("a", "b")
    assert scn.issues[0].status_quo.value == 0.2
    rule = scn.decision_rule("issue")
    assert rule.voters == ("a", "b") and rule.threshold == 0.6
    assert scn.actor("b").votes == 2.0 and scn.actor("a").stances["issue"].salience.value == 0.5
    assert (scn.actor("a").proposer, scn.actor("b").proposer) == (True, False)


def test_from_frame_several_issues_gives_absent_actors_no_salience_and_no_vote():
    frame = pd.DataFrame(
        {
            "actor": ["a", "b", "c"],
            "capability": [1.0, 1.0, 1.0],
            "position_tax": [0.2, 0.4, None],
            "salience_tax": [1.0, 1.0, None],
            "position_aid": [0.9, 0.1, 0.5],
            "salience_aid": [0.5, 0.5, 0.5],
        }
    )
    scn = from_frame(frame, status_quo={"tax": 0.3, "aid": 0.0})
    assert scn.issue_names == ("tax", "aid")
    c = scn.actor("c").stances["tax"]
    assert (c.position.value, c.salience.value) == (0.3, 0.0)
    assert c.salience.evidence.assumption
    assert scn.decision_rule("tax").voters == ("a", "b")
    assert scn.decision_rule("aid").voters == ("a", "b", "c")


def test_from_frame_errors_name_the_row_and_column():
    base = {"actor": ["a", "b"], "position": [0.1, 0.2], "salience": [0.5, None]}
    with pytest.raises(basesim.DataError, match="column 'capability' is missing"):
        from_frame(pd.DataFrame(base), status_quo=0.0)
    with pytest.raises(
        basesim.DataError,
        match=r"row 'b', column 'salience': the actor has a position \(position = 0.2\) but no salience",
    ):
        from_frame(pd.DataFrame({**base, "capability": [1.0, 1.0]}), status_quo=0.0)
    frame = pd.DataFrame(
        {"actor": ["a"], "capability": [1.0], "position": [1.5], "salience": [1.0]}
    )
    with pytest.raises(
        basesim.DataError, match=r"row 'a', column 'position' must be in \[0, 1\] \(got 1.5\)"
    ):
        from_frame(frame, status_quo=0.0)
    frame = pd.DataFrame(
        {"actor": ["a"], "capability": [0.0], "position": [0.5], "salience": [1.0]}
    )
    with pytest.raises(basesim.DataError, match=r"row 'a', column 'capability' must be > 0"):
        from_frame(frame, status_quo=0.0)


def test_from_frame_arguments_that_are_not_numbers_are_named():
    # A string status quo used to raise a bare ValueError from float().
    frame = pd.DataFrame(
        {"actor": ["a", "b"], "capability": [1.0, 1.0], "position": [0.2, 0.8], "salience": [1, 1]}
    )
    with pytest.raises(
        basesim.DataError, match=r"status_quo of issue 'issue' must be a finite number \(got 'x'\)"
    ):
        from_frame(frame, status_quo="x")
    with pytest.raises(basesim.DataError, match=r"scale\[1\] must be a finite number"):
        from_frame(frame, status_quo=0.0, scale=(0, "100"))
    with pytest.raises(basesim.DataError, match=r"threshold of issue 'issue' must be a finite"):
        from_frame(frame, status_quo=0.0, rule="qualified", threshold="most")
