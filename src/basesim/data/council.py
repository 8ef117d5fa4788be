"""Council of the EU voting weights and population shares, by period.

Public facts, written down once so that a scenario can give each member state
the votes in force on the day of a decision (:func:`council_regime`).

Periods
-------
* Until 31 December 1994, 12 members: weighted votes, 54 of 76 needed.
* 1 January 1995 to 30 April 2004, 15 members: 62 of 87 (Treaty of
  Amsterdam, former art. 205(2) TEC).
* 1 May to 31 October 2004, 25 members: the same scale extended to the new
  members, 88 of 124 (Act of Accession 2003, art. 26).
* 1 November 2004 to 31 October 2014: the Treaty of Nice weights (Protocol
  on the enlargement, art. 3; Act of Accession 2003, art. 12; Act of
  Accession 2005 and 2012): 232 of 321 votes with 25 members, 255 of 345
  from 1 January 2007 (27), 260 of 352 from 1 July 2013 (28); in each case a
  majority of the member states as well (on a Commission proposal).  The
  optional check that the majority holds 62 % of the population, made only
  at a member's request, is not modelled.
* From 1 November 2014 (Treaty of Lisbon, art. 16(4) TEU and art. 238(3)
  TFEU): 55 % of the member states representing 65 % of the Union's
  population.  The transitional right (to 31 March 2017) to ask for a vote
  under the Nice weights, and the rule that a blocking minority needs at
  least four members, are not modelled.  Population shares are the
  Council's figures for 2016 (Council Decision (EU, Euratom) 2015/2393 of
  8 December 2015 amending the Council's Rules of Procedure, Annex III,
  Union population 508,940,955), used for every decision from November
  2014 on: the yearly updates move no state's share by more than a few
  tenths of a point over 2014-2019.

Member states are named by the two-letter codes of the DEU data sets
(``bu`` Bulgaria, ``cr`` Croatia, ``el`` Greece, ``uk`` United Kingdom).

References
----------
.. [1] Treaty establishing the European Community (Amsterdam consolidated
   version), art. 205(2).
.. [2] Treaty of Nice (2001), Protocol on the enlargement of the European
   Union, art. 3; Act concerning the conditions of accession (2003), arts.
   12 and 26.
.. [3] Treaty on European Union (Lisbon), art. 16(4); Treaty on the
   Functioning of the European Union, art. 238(3).
.. [4] Council Decision (EU, Euratom) 2015/2393 of 8 December 2015 amending
   the Council's Rules of Procedure, OJ L 332, 18.12.2015, p. 133.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from basesim.actors import FrozenMap

__all__ = ["COUNCIL_REGIMES", "CouncilRegime", "council_regime"]

_EU12 = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
    "dk": 3, "ie": 3, "lu": 2,
}  # fmt: skip
_EU15 = {**_EU12, "at": 4, "se": 4, "fi": 3}
_EU25_TRANSITION = {
    **_EU15, "pl": 8, "cz": 5, "hu": 5, "sk": 3, "lt": 3, "lv": 3, "si": 3, "ee": 3,
    "cy": 2, "mt": 2,
}  # fmt: skip
_NICE25 = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "nl": 13, "be": 12,
    "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "se": 10, "dk": 7, "ie": 7,
    "lt": 7, "sk": 7, "fi": 7, "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3,
}  # fmt: skip
_NICE27 = {**_NICE25, "ro": 14, "bu": 10}
_NICE28 = {**_NICE27, "cr": 7}
#: Percent of the Union's population, the Council's figures for 2016.
_POPULATION_2016 = {
    "de": 15.93, "fr": 13.04, "uk": 12.73, "it": 12.07, "es": 9.12, "pl": 7.47,
    "ro": 3.90, "nl": 3.37, "be": 2.21, "el": 2.13, "cz": 2.05, "pt": 2.04, "hu": 1.94,
    "se": 1.92, "at": 1.69, "bu": 1.42, "dk": 1.11, "fi": 1.08, "sk": 1.06, "ie": 0.91,
    "cr": 0.83, "lt": 0.57, "si": 0.41, "lv": 0.39, "ee": 0.26, "cy": 0.17, "lu": 0.11,
    "mt": 0.08,
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class CouncilRegime:
    """The Council's qualified-majority rule over one period.

    Attributes
    ----------
    name
        ``"EU-15"``, ``"Nice EU-27"``, ``"Lisbon"`` ...
    start, end
        First and last day in force (inclusive; ``end`` ``None``: still in force).
    weights
        Each member state's votes (Lisbon: its percent of the Union's population).
    vote_share
        The share of the members' votes (Lisbon: of the population) a
        qualified majority needs.
    state_share
        The share of the members a qualified majority needs as well (0: no
        such condition; Nice: a majority, more than half; Lisbon: 55 %).
    strict_state_majority
        True when ``state_share`` must be exceeded (Nice's "majority of the
        members"), False when it must be reached (Lisbon's 55 %).
    """

    name: str
    start: dt.date
    end: dt.date | None
    weights: FrozenMap[float]
    vote_share: float
    state_share: float = 0.0
    strict_state_majority: bool = False

    def states_needed(self, n_states: int) -> int:
        """How many of ``n_states`` member states a qualified majority needs by head count.

        Examples
        --------
        >>> council_regime(dt.date(2018, 1, 1)).states_needed(28)
        16
        >>> council_regime(dt.date(2010, 1, 1)).states_needed(27)
        14
        """
        if self.state_share <= 0:
            return 0
        if self.strict_state_majority:
            return math.floor(self.state_share * n_states) + 1
        return math.ceil(self.state_share * n_states - 1e-9)


def _regime(
    name: str,
    start: dt.date,
    end: dt.date | None,
    weights: Mapping[str, float],
    needed: float,
    state_share: float = 0.0,
    strict: bool = False,
) -> CouncilRegime:
    total = sum(weights.values())
    share = needed if needed < 1 else needed / total
    return CouncilRegime(
        name=name,
        start=start,
        end=end,
        weights=FrozenMap({k: float(v) for k, v in weights.items()}),
        vote_share=share,
        state_share=state_share,
        strict_state_majority=strict,
    )


_D = dt.date
#: Every period, in date order.
COUNCIL_REGIMES: tuple[CouncilRegime, ...] = (
    _regime("EU-12", _D(1986, 1, 1), _D(1994, 12, 31), _EU12, 54),
    _regime("EU-15", _D(1995, 1, 1), _D(2004, 4, 30), _EU15, 62),
    _regime("EU-25 transition", _D(2004, 5, 1), _D(2004, 10, 31), _EU25_TRANSITION, 88),
    _regime("Nice EU-25", _D(2004, 11, 1), _D(2006, 12, 31), _NICE25, 232, 0.5, True),
    _regime("Nice EU-27", _D(2007, 1, 1), _D(2013, 6, 30), _NICE27, 255, 0.5, True),
    _regime("Nice EU-28", _D(2013, 7, 1), _D(2014, 10, 31), _NICE28, 260, 0.5, True),
    _regime("Lisbon", _D(2014, 11, 1), None, _POPULATION_2016, 0.65, 0.55),
)


def council_regime(date: dt.date) -> CouncilRegime:
    """The Council's qualified-majority rule in force on ``date``.

    Examples
    --------
    >>> r = council_regime(dt.date(2001, 5, 30))
    >>> r.name, r.weights["de"], round(r.vote_share, 4)
    ('EU-15', 10.0, 0.7126)
    >>> council_regime(dt.date(2004, 11, 1)).name
    'Nice EU-25'
    """
    for regime in COUNCIL_REGIMES:
        if regime.start <= date and (regime.end is None or date <= regime.end):
            return regime
    raise ValueError(f"no Council voting rule is recorded for {date.isoformat()}")
