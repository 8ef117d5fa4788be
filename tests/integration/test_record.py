"""The record page's script runs at reduced size and writes the page the docs publish."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "make_record.py"
PAGE = ROOT / "docs" / "record.md"


def _load():
    spec = importlib.util.spec_from_file_location("make_record", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _skeleton(text: str) -> list[str]:
    """Headings and table headers: what the page is made of, without its numbers."""
    lines = text.splitlines()
    return [
        line
        for i, line in enumerate(lines)
        if line.startswith("#")
        or (line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"))
    ]


@pytest.fixture(scope="module")
def small_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("record") / "record.md"
    _load().main(["--runs", "400", "--particles", "200", "--out", str(out)])
    assert (out.parent / "figures" / "record_posterior.png").read_bytes()[:4] == b"\x89PNG"
    return out.read_text(encoding="utf-8")


def test_the_script_writes_every_section(small_page: str) -> None:
    for heading in ("## (a)", "## (b)", "## (c)", "## (d)"):
        assert heading in small_page
    assert "nan" not in small_page.lower()
    # Every observation of the record appears in (a)'s table.
    assert small_page.count("by 2025-06 |") >= 3 and small_page.count("by 2026-01 |") >= 3


def test_the_published_page_is_this_script_s(small_page: str) -> None:
    published = PAGE.read_text(encoding="utf-8")
    assert _skeleton(published) == _skeleton(small_page)
    # And it was made at full size.
    assert re.search(r"Scored on every observation of the record, 20,000 runs", published)
