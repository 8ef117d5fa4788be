"""Sphinx configuration of the basesim documentation (Markdown pages read by MyST).

Build the HTML pages, with warnings as errors, from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The figures in ``docs/figures`` are made by ``docs/make_figures.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Document the source tree, installed or not.
sys.path.insert(0, str(HERE.parent / "src"))

import basesim  # noqa: E402

project = "basesim"
author = "basesim developers"
copyright = "basesim developers"
version = release = basesim.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]
templates_path: list[str] = []

# -- MyST: Markdown with math ($...$, $$...$$), headings linkable across pages --------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- API reference from numpydoc docstrings -----------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_default_options = {"members": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Attributes sections become fields of the class, not separate entries that
# would clash with the dataclass fields autodoc finds.
napoleon_use_ivar = True
napoleon_use_rtype = False

# -- HTML ----------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"basesim {release}"
html_static_path: list[str] = []


# -- The table of contents: pages in a reading order, whatever pages exist -----------
# index.md lists the pages in its toctrees.  Pages that are not written yet are
# left out, and pages not listed there go into a last section, so that the
# build never fails on a missing or an unlisted page.
_TOCTREE_OPEN = re.compile(r"^\s*(```+|:::+)\{toctree\}")
_PAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")


def _fill_toctrees(text: str, pages: set[str]) -> str:
    lines = text.splitlines()
    out: list[str] = []
    listed: set[str] = set()
    fence: str | None = None
    for line in lines:
        stripped = line.strip()
        if fence is None:
            match = _TOCTREE_OPEN.match(line)
            if match:
                fence = match.group(1)
            out.append(line)
            continue
        if stripped == fence:
            fence = None
            out.append(line)
            continue
        if _PAGE.match(stripped):
            name = stripped.removesuffix(".md")
            if name not in pages:
                continue  # not written (yet)
            listed.add(name)
        out.append(line)
    rest = sorted(pages - listed)
    if rest:
        out += ["", "```{toctree}", ":maxdepth: 1", ":caption: More", "", *rest, "```", ""]
    return "\n".join(out) + "\n"


def _on_source_read(app: Any, docname: str, source: list[str]) -> None:
    if docname != root_doc:
        return
    srcdir = Path(app.srcdir)
    # Top-level pages, and the index page of each folder (which lists its own).
    found = [*srcdir.glob("*.md"), *srcdir.glob("*/index.md")]
    pages = {
        p.relative_to(srcdir).with_suffix("").as_posix()
        for p in found
        if p.relative_to(srcdir).with_suffix("").as_posix() not in (root_doc, "README")
    }
    source[0] = _fill_toctrees(source[0], pages)


def _always_reread_index(app: Any, env: Any, added: Any, changed: Any, removed: Any) -> list[str]:
    # A page added or removed since the last build changes the index's toctrees.
    return [root_doc]


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _always_reread_index)
    return {"parallel_read_safe": True}
