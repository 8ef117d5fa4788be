"""The words a scenario may use, and the hint that names the closest one.

These names sit below every module that reads, writes, changes or runs
scenarios (:mod:`basesim.scenario` re-exports them), so that none of those
modules needs another at import time.
"""

from __future__ import annotations

import difflib
from typing import Any

__all__ = [
    "DECISION_RULES",
    "KNOWN_MODELS",
    "MAX_MONTHS",
    "RECOGNITION_RULES",
    "RESERVATION_FORMS",
    "suggest",
]

RECOGNITION_RULES = ("weighted", "rotation")
RESERVATION_FORMS = ("concession", "equilibrium")
#: How an issue can be decided (``[issues.NAME] rule``).
DECISION_RULES = ("unanimity", "qualified", "majority", "unilateral")
#: The negotiation models built into basesim (``[protocol] model``); protocols
#: registered with :func:`basesim.protocols.register` may be named too.
KNOWN_MODELS = (
    "bargaining",
    "compromise",
    "compromise-median",
    "nash",
    "nash-salience",
    "bdm",
    "bdm-reading2",
    "smp",
    "exchange",
    "ensemble",
)

#: The longest horizon and look-ahead, in months: the engines hold every
#: month's random draws of a batch in memory (10,000 months of 4 actors in a
#: block of 1,024 runs is about 330 MB).  Long enough for the slow-discounting
#: limits of the theory checks (a discount of 0.999 needs about 8,000 months).
MAX_MONTHS = 10_000


def suggest(word: str, options: Any) -> str:
    """A ``" (did you mean 'x'?)"`` hint for a misspelt name, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
