"""The dated sources the bundled scenarios cite.

A scenario's ``as_of`` date says what its author could know: validation
refuses a scenario that cites a source dated after it.  This table holds the
date of every source the bundled scenarios cite: ``S1`` ... ``S21`` are the
sentences of the source report (a news item of late January 2025, which
relays reporting up to the Russian delegation's visit to Damascus on 28
January 2025); ``E1`` ... ``E19`` are the later evidence listed, with a
source each, in ``docs/evidence-variants.md``.  Where an item spans several
days or months, its date is the last of them: only then is the whole of it
known.  Identifiers not in the table (a user's own sources) are not dated
and so not checked; :func:`register_source` adds dates for them.
"""

from __future__ import annotations

import datetime as _dt
import re

from basesim.exceptions import ScenarioError

__all__ = ["SOURCE_DATES", "parse_date", "register_source", "source_date"]

_REPORT = "2025-01-29"

#: Date (ISO ``YYYY-MM-DD``) of each known source identifier.
SOURCE_DATES: dict[str, str] = {
    **{f"S{n}": _REPORT for n in range(1, 22)},
    "E1": "2024-12-29",
    "E2": "2025-01-06",
    "E3": "2025-01-29",
    "E4": "2025-02-06",
    "E5": "2025-02-12",
    "E6": "2025-02-24",
    "E7": "2025-02-28",
    "E8": "2025-05-14",
    "E9": "2025-07-13",
    "E10": "2025-05-28",
    "E11": "2025-06-30",
    "E12": "2025-07-31",
    "E13": "2025-08-13",
    "E14": "2025-10-15",
    "E15": "2025-11-06",
    "E16": "2025-11-10",
    "E17": "2025-12-18",
    "E18": "2026-01-31",
    "E19": "2026-01-29",
}

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?\Z")


def parse_date(text: object, *, field: str) -> _dt.date:
    """A ``YYYY-MM-DD`` or ``YYYY-MM`` date (a month means its last day).

    Raises :class:`~basesim.ScenarioError` naming ``field`` otherwise.

    Examples
    --------
    >>> parse_date("2025-02", field="as_of")
    datetime.date(2025, 2, 28)
    >>> parse_date("2025-05-28", field="as_of")
    datetime.date(2025, 5, 28)
    """
    m = _DATE.match(text) if isinstance(text, str) else None
    try:
        if m is None:
            raise ValueError
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError
        if m.group(3) is None:
            nxt = _dt.date(year + month // 12, month % 12 + 1, 1)
            return nxt - _dt.timedelta(days=1)
        return _dt.date(year, month, int(m.group(3)))
    except ValueError:
        raise ScenarioError(
            f"{field} must be a date 'YYYY-MM-DD' or a month 'YYYY-MM' (got {text!r})"
        ) from None


def source_date(source: str) -> _dt.date | None:
    """The date of a source identifier, or None if the table does not know it."""
    text = SOURCE_DATES.get(source)
    return None if text is None else parse_date(text, field=f"source {source}")


def register_source(source: str, date: str) -> None:
    """Record the date of a source identifier of one's own, so ``as_of`` checks it.

    Examples
    --------
    >>> register_source("X1", "2025-03-01"); source_date("X1")
    datetime.date(2025, 3, 1)
    >>> del SOURCE_DATES["X1"]
    """
    if not isinstance(source, str) or not source.strip():
        raise ScenarioError(f"source must be a non-empty identifier (got {source!r})")
    parse_date(date, field=f"the date of source {source}")
    SOURCE_DATES[source] = date
