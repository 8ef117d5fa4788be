"""Files basesim writes: whole or not at all, with the permissions any other tool gives."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from basesim._io import write_text_atomic


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_file_gets_what_the_umask_allows(tmp_path: Path, umask_027) -> None:
    # 0o666 less the umask 0o027 is 0o640 (rw-r-----), not mkstemp's 0o600.
    path = write_text_atomic(tmp_path / "out.csv", "a,b\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path, umask_027) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o604)
    write_text_atomic(path, "new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    assert path.read_text(encoding="utf-8") == "new\n"


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "out.csv", "x\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
