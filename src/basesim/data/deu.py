"""The DEU data format: one row per issue of an EU legislative proposal.

:func:`read_deu` reads a tab-separated file in the format of the DEU data
sets (Thomson et al. 2006; Arregui and Perarnaud 2021) and makes one
:class:`~basesim.data.Case` per issue: a scenario of one issue built from
the actors' positions and saliences, the Council's voting rule in force on
the day of the decision, and the observed outcome.

References
----------
.. [1] Thomson, R., Stokman, F. N., Achen, C. H. and König, T. (eds.) (2006).
   *The European Union Decides*. Cambridge University Press.
.. [2] Arregui, J. and Perarnaud, C. (2021). A new dataset on legislative
   decision-making in the European Union: the DEU III dataset. *Journal of
   European Public Policy* 29(1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from os import PathLike
from pathlib import Path
from typing import Any

from basesim.data.cases import Case
from basesim.data.council import council_regime
from basesim.data.frames import scenario_from_frame
from basesim.exceptions import DataError

__all__ = ["parse_deu_date", "read_deu"]

#: Columns every DEU file needs besides the actors' ``p<actor>`` and ``s<actor>``.
REQUIRED_COLUMNS = ("prnr", "isnr", "proc", "counvte", "intro", "finact", "rp", "out")
#: The value DEU files use for a missing number.
MISSING_CODE = 999.0
COMMISSION, PARLIAMENT = "com", "ep"
CAPABILITIES = ("gdp", "votes")
MISSING_SALIENCE = ("error", "drop")

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{2}|\d{4})\Z")


def _two_digit_year(yy: int) -> int:
    return 2000 + yy if yy < 50 else 1900 + yy


def parse_deu_date(text: str, *, repair: bool = True) -> dt.date | None:
    """A DEU date: ``DD-MM-YY`` or ``DD-MM-YYYY``; ``None`` if blank or ``999``.

    With ``repair`` (the default), a value written ``YYYY-MM-DD`` is read as a
    ``DD-MM-YY`` date that a spreadsheet has turned around: the last two
    digits of the first field are the day and the last field holds the
    year's last two digits, so ``1930-05-01`` is 30 May 2001 (the defect the
    DEU III files have in ``finact`` and ``intro``).  Without ``repair`` it is
    read as an ISO date.  Two-digit years below 50 are in the 2000s.

    Raises
    ------
    ValueError
        The text is not a date in any of these forms.

    Examples
    --------
    >>> parse_deu_date("1930-05-01"), parse_deu_date("25-05-99"), parse_deu_date("999")
    (datetime.date(2001, 5, 30), datetime.date(1999, 5, 25), None)
    """
    t = str(text).strip()
    if t in ("", "999", "nan"):
        return None
    m = _ISO.match(t)
    if m:
        a, month, b = (int(g) for g in m.groups())
        day, year = (a % 100, _two_digit_year(b)) if repair else (b, a)
    else:
        m = _DMY.match(t)
        if not m:
            raise ValueError(f"not a date: {t!r}")
        day, month, y = (int(g) for g in m.groups())
        year = _two_digit_year(y) if len(m.group(3)) == 2 else y
    return dt.date(year, month, day)


def _number(text: str, where: str, column: str) -> float:
    t = str(text).strip()
    if not t:
        return math.nan
    try:
        x = float(t)
    except ValueError:
        raise DataError(f"{where}, column {column!r} must be a number (got {t!r})") from None
    return math.nan if x == MISSING_CODE else x


def _in_range(x: float, where: str, column: str) -> float:
    if not math.isnan(x) and not 0.0 <= x <= 100.0:
        raise DataError(f"{where}, column {column!r} must be in [0, 100] (got {x:g})")
    return x


def _imputed_status_quo(positions: dict[str, float]) -> float:
    """The position farthest from the Commission's (ties: the lower one)."""
    values = list(positions.values())
    ref = positions.get(COMMISSION, sum(values) / len(values))
    far = max(abs(x - ref) for x in values)
    return min(x for x in values if abs(abs(x - ref) - far) <= 1e-9)


def read_deu(
    path: str | PathLike[str],
    *,
    capability: str = "gdp",
    missing_salience: str = "error",
    min_actors: int = 3,
    repair_dates: bool = True,
    horizon: int = 24,
) -> list[Case]:
    """Read a DEU-format file: one :class:`~basesim.data.Case` per issue with an outcome.

    The file is tab-separated with a header row.  Columns: ``prnr``
    (proposal), ``isnr`` (issue), ``proc`` (procedure: ``COD`` co-decision,
    ``CNS`` consultation ...), ``counvte`` (the Council's rule: ``QMV`` or
    ``Unan``), ``intro`` and ``finact`` (dates of proposal and decision),
    ``rp`` (the reference point, or status quo), ``out`` (the outcome), and
    ``p<actor>`` and ``s<actor>`` (position and salience, 0-100) for each
    actor: ``com`` the Commission, ``ep`` the Parliament, the others member
    states by two-letter code.  A row whose ``prnr`` and ``isnr`` are blank,
    right after the header, is a row of GDP values by actor (in ``p<actor>``).
    Blanks and ``999`` are missing values.

    How a row becomes a case:

    * *Actors*: those with a position and a salience on the issue; the
      positions, saliences, reference point and outcome are divided by 100.
      A salience without a position is ignored (no stance).  The Commission
      is the only proposer (its right of initiative); without a Commission
      stance every actor may propose.
    * *Capability*: the GDP row (``capability="gdp"``), or the Council votes
      in force (``"votes"``: population shares under Lisbon; the Commission
      and the Parliament get the largest member state's weight, a state not
      yet a member the smallest).
    * *Decision rule*, from ``counvte`` and ``proc``: the voters are the
      member states with a stance that are members on the decision date.
      ``QMV``: the Council's qualified majority in force on that date
      (:func:`basesim.data.council.council_regime`: weighted votes before
      November 2004, the Nice weights with a majority of the states from
      November 2004, 55 % of the states with 65 % of the population from
      November 2014), as a share of the votes (and of the number) of the
      states with a stance: states without one are left out of the vote.
      ``Unan``: every member state with a stance.  Under co-decision
      (``COD``) the Parliament, when it has a stance, must accept as well:
      it joins the voters with as many votes as all the states together, the
      vote threshold becomes ``(1 + q) / 2`` (so that no package passes
      without it, and with it the states need the share ``q``), and a
      head-count condition of ``h`` states becomes ``(h + 1) / (n + 1)`` of
      the ``n + 1`` voters.  The Commission is not a voter.
    * *Decision date*: ``finact``, repaired (see :func:`parse_deu_date`);
      where it is missing, ``intro`` decides which rules apply (the case's
      ``date`` stays ``None``).
    * *Status quo*: ``rp`` where given; where it is missing, the position
      farthest from the Commission's (the actor most opposed to the change
      proposed is taken to sit at the status quo; ties go to the lower
      value; without a Commission stance, farthest from the mean position).
      The case's ``status_quo_source`` says which.

    Rows are skipped (no case, no error) when ``out`` is missing, when fewer
    than ``min_actors`` actors have a position and a salience, or when no
    member state with a stance is a voter.

    Parameters
    ----------
    path
        The file.
    capability
        ``"gdp"`` or ``"votes"`` (see above).
    missing_salience
        What to do with an actor that has a position but no salience:
        ``"error"`` (the default: a :class:`~basesim.DataError` naming the
        row and the column) or ``"drop"`` (the actor has no stance on that
        issue).
    min_actors
        The fewest actors with a position and a salience a case needs.
    repair_dates
        Read ``YYYY-MM-DD`` dates as turned-around ``DD-MM-YY`` ones (see
        :func:`parse_deu_date`), the defect of the public DEU III files.  A
        damaged value cannot be told from a genuine ISO date (``2014-11-04`` is
        14 November 2004 there), so a file whose dates are genuine ISO dates
        needs ``repair_dates=False``, or its dates (and the Council rules they
        select) are misread.
    horizon
        Months simulated (the scenarios' horizon).

    Returns
    -------
    list of Case
        In file order; outcomes and scenarios on [0, 1], ``scale`` 100.

    Raises
    ------
    DataError
        The file is missing or unreadable, lacks a required column, or a row
        has a bad value: an outcome, position, salience or reference point
        outside [0, 100], a position without a salience (unless
        ``missing_salience="drop"``), an unknown ``counvte``, a date that is
        not a date, a ``QMV`` issue without any date.  The message names the
        file's line, the issue and the column.
    """
    import pandas as pd

    if capability not in CAPABILITIES:
        raise DataError(
            f"capability must be one of {', '.join(CAPABILITIES)} (got {capability!r})"
        )
    if missing_salience not in MISSING_SALIENCE:
        raise DataError(
            f"missing_salience must be one of {', '.join(MISSING_SALIENCE)} "
            f"(got {missing_salience!r})"
        )
    file = Path(path)
    try:
        table = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"DEU file {str(file)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read DEU file {str(file)!r}: {exc}") from None
    columns = [str(c).strip() for c in table.columns]
    table.columns = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise DataError(
            f"{file.name} lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (a DEU file needs {', '.join(REQUIRED_COLUMNS)} and "
            "p<actor>, s<actor> for each actor)"
        )
    actors = [c[1:] for c in columns if c.startswith("p") and f"s{c[1:]}" in columns]
    if not actors:
        raise DataError(f"{file.name} has no actor columns (p<actor> with s<actor>)")
    states = [a for a in actors if a not in (COMMISSION, PARLIAMENT)]

    gdp: dict[str, float] = {}
    first = 0
    if len(table) and not table["prnr"].iloc[0].strip() and not table["isnr"].iloc[0].strip():
        first = 1
        for a in actors:
            gdp[a] = _number(table[f"p{a}"].iloc[0], f"{file.name} line 2 (GDP row)", f"p{a}")
    if capability == "gdp":
        if not gdp:
            raise DataError(
                f"{file.name} has no GDP row (line 2 with blank prnr and isnr); "
                "pass capability='votes'"
            )
        bad = [a for a in actors if not gdp[a] > 0]
        if bad:
            raise DataError(
                f"{file.name} line 2 (GDP row), column p{bad[0]} must be > 0 (got {gdp[bad[0]]:g})"
            )

    cases: list[Case] = []
    for i in range(first, len(table)):
        row = table.iloc[i]
        issue_id = row["isnr"].strip()
        where = f"{file.name} line {i + 2} (issue {issue_id})"
        out = _in_range(_number(row["out"], where, "out"), where, "out")
        positions: dict[str, float] = {}
        saliences: dict[str, float] = {}
        for a in actors:
            p = _in_range(_number(row[f"p{a}"], where, f"p{a}"), where, f"p{a}")
            s = _in_range(_number(row[f"s{a}"], where, f"s{a}"), where, f"s{a}")
            if math.isnan(p):
                continue
            if math.isnan(s):
                if missing_salience == "error":
                    raise DataError(
                        f"{where}, column s{a}: actor {a} has a position (p{a} = {p:g}) but no "
                        "salience; pass missing_salience='drop' (on the command line "
                        "--missing-salience drop) to leave such actors out"
                    )
                continue
            positions[a], saliences[a] = p, s
        rp = _in_range(_number(row["rp"], where, "rp"), where, "rp")
        rule_code = row["counvte"].strip()
        if rule_code.lower() not in ("qmv", "unan"):
            raise DataError(f"{where}, column 'counvte' must be QMV or Unan (got {rule_code!r})")
        qmv = rule_code.lower() == "qmv"
        dates: dict[str, dt.date | None] = {}
        for column in ("finact", "intro"):
            try:
                dates[column] = parse_deu_date(row[column], repair=repair_dates)
            except ValueError:
                raise DataError(
                    f"{where}, column {column!r} is not a date (got {row[column].strip()!r})"
                ) from None
        if math.isnan(out) or len(positions) < min_actors:
            continue
        when = dates["finact"] or dates["intro"]
        if when is None and qmv:
            raise DataError(
                f"{where}: a QMV issue needs a date in 'finact' or 'intro' to know the "
                "Council's weights (both are missing)"
            )
        try:
            regime = council_regime(when) if when is not None else None
        except ValueError as exc:
            column = "finact" if dates["finact"] is not None else "intro"
            raise DataError(f"{where}, column {column!r}: {exc}") from None
        members = [a for a in states if a in positions and (regime is None or a in regime.weights)]
        if not members:
            continue
        cod = row["proc"].strip().upper() == "COD" and PARLIAMENT in positions
        votes = dict.fromkeys(positions, 0.0)
        kwargs: dict[str, Any]
        if qmv:
            assert regime is not None
            for a in members:
                votes[a] = regime.weights[a]
            n, total = len(members), sum(votes[a] for a in members)
            heads = regime.states_needed(n)
            if cod:
                votes[PARLIAMENT] = total
                kwargs = {
                    "rule": "qualified",
                    "voters": [*members, PARLIAMENT],
                    "threshold": (1 + regime.vote_share) / 2,
                    "min_voter_share": (heads + 1) / (n + 1) if heads else None,
                }
            else:
                kwargs = {
                    "rule": "qualified",
                    "voters": members,
                    "threshold": regime.vote_share,
                    "min_voter_share": heads / n if heads else None,
                }
        else:
            kwargs = {"rule": "unanimity", "voters": [*members, *([PARLIAMENT] if cod else [])]}
        if math.isnan(rp):
            status, source = _imputed_status_quo(positions), "imputed"
        else:
            status, source = rp, "rp"
        names = list(positions)
        if capability == "gdp":
            caps = [gdp[a] for a in names]
        else:
            scale = council_regime(when or dt.date(2004, 11, 1)).weights
            caps = [
                max(scale.values())
                if a in (COMMISSION, PARLIAMENT)
                else scale.get(a, min(scale.values()))
                for a in names
            ]
        frame = pd.DataFrame(
            {
                "actor": names,
                "capability": caps,
                "votes": [votes[a] for a in names],
                "proposer": [a == COMMISSION or COMMISSION not in positions for a in names],
                "position": [positions[a] for a in names],
                "salience": [saliences[a] for a in names],
            }
        )
        slug = re.sub(r"[^a-z0-9_.-]", "-", issue_id.lower()) or str(i)
        scenario = scenario_from_frame(
            frame,
            status_quo=status,
            scale=(0.0, 100.0),
            salience_scale=100.0,
            name=f"deu-{slug}",
            title=f"{row['prnr'].strip()} issue {issue_id}",
            horizon=horizon,
            **kwargs,
        )
        cases.append(
            Case(
                scenario=scenario,
                outcome=out / 100.0,
                proposal=row["prnr"].strip(),
                issue_id=issue_id,
                procedure=row["proc"].strip(),
                voting_rule=rule_code,
                date=dates["finact"],
                scale=100.0,
                status_quo_source=source,
            )
        )
    return cases
