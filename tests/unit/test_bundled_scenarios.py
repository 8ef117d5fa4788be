"""Every bundled scenario says where each of its numbers comes from."""

from __future__ import annotations

import pytest

import basesim


@pytest.mark.parametrize("name", basesim.list_scenarios())
def test_every_parameter_cites_evidence_or_is_an_assumption(name):
    scn = basesim.load_scenario(name)
    undocumented = [path for path, param in scn.parameters() if not param.evidence.is_documented]
    assert undocumented == []
    table = scn.explain()
    assert len(table) == len(list(scn.parameters()))
    assert (table.evidence != "").all()
    # Each rationale is written out, and each confidence level is given.
    assert (table.rationale.str.len() > 20).all()
    assert table.confidence.isin(["high", "medium", "low"]).all()


def test_the_report_scenario_cites_only_the_report():
    # syria-2025 rests on the report alone: no later evidence (E<n>) among its sources.
    scn = basesim.load_scenario("syria-2025")
    sources = {s for _, p in scn.parameters() for s in p.evidence.sources}
    assert sources and all(s.startswith("S") for s in sources)
    assert {int(s[1:]) for s in sources} <= set(range(1, 22))


def test_the_later_evidence_scenario_cites_later_evidence():
    scn = basesim.load_scenario("syria-2025-later-evidence")
    sources = {s for _, p in scn.parameters() for s in p.evidence.sources}
    assert any(s.startswith("E") for s in sources)
