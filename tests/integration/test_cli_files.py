"""What the CLI writes: provenance in every table, messages on stderr, outputs checked first."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import basesim
import basesim.experiments
from basesim.cli import main

SCN = "syria-2025"
POSITION = "actors.syria.basing.position"
SALIENCE = "actors.turkey.basing.salience"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _sha256(name: str) -> str:
    return hashlib.sha256(basesim.load_scenario(name).to_toml().encode("utf-8")).hexdigest()


def _header(path: Path) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a CSV file, as text."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        out[key] = value
    return out


def test_run_csv_has_a_provenance_header_and_says_wrote_on_stderr(capsys, tmp_path):
    target = tmp_path / "probs.csv"
    status, out, err = run_cli(
        capsys, "run", SCN, "--n-runs", "120", "--rng", "4", "--out", str(target)
    )
    assert status == 0, err
    assert err == f"wrote {target}\n"
    assert "wrote" not in out
    header = _header(target)
    assert list(header) == [
        "basesim_version", "scenario", "scenario_sha256", "model", "engine", "rng", "n_runs",
        "created",
    ]  # fmt: skip
    scenario = basesim.load_scenario(SCN)
    assert header["basesim_version"] == basesim.__version__
    assert header["scenario"] == SCN
    assert header["scenario_sha256"] == _sha256(SCN)
    assert header["model"] == scenario.protocol.model
    assert (header["engine"], header["rng"], header["n_runs"]) == ("batch", "4", "120")
    # pandas alone reads the table past the header (no cell of this table holds a "#").
    frame = pd.read_csv(target, comment="#")
    expected = basesim.simulate(scenario, n_runs=120, rng=4).probabilities()
    assert frame["count"].tolist() == expected["count"].tolist()
    assert frame["outcome"].tolist() == expected["outcome"].tolist()


def test_run_json_is_provenance_and_records_without_escaped_slashes(capsys, tmp_path):
    target = tmp_path / "probs.json"
    status, _, err = run_cli(
        capsys, "run", SCN, "--n-runs", "60", "--rng", "2", "--out", str(target)
    )
    assert status == 0, err
    text = target.read_text(encoding="utf-8")
    assert "\\/" not in text
    assert '"outcome": "withdrawal / unsettled"' in text
    data = json.loads(text)
    assert data["provenance"]["scenario"] == SCN
    assert data["provenance"]["scenario_sha256"] == _sha256(SCN)
    assert data["provenance"]["rng"] == "2"
    assert data["provenance"]["n_runs"] == 60
    assert sum(r["count"] for r in data["records"] if r["table"] == "joint") == 60


def test_compare_sweep_sensitivity_and_explain_carry_their_provenance(capsys, tmp_path):
    other = "syria-2025-hedging"
    target = tmp_path / "cmp.json"
    argv = ["compare", SCN, other, "--n-runs", "40", "--out", str(target)]
    assert run_cli(capsys, *argv)[0] == 0
    info = json.loads(target.read_text(encoding="utf-8"))["provenance"]
    assert info["scenario"] == [SCN, other]
    assert info["scenario_sha256"] == [_sha256(SCN), _sha256(other)]
    assert info["n_runs"] == 40

    target = tmp_path / "sweep.csv"
    argv = ["sweep", SCN, "--param", f"{POSITION}=0:0.6", "--design", "grid", "--n-points", "2",
            "--n-runs", "20", "--out", str(target)]  # fmt: skip
    assert run_cli(capsys, *argv)[0] == 0
    header = _header(target)
    assert (header["design"], header["n_points"], header["n_runs"]) == ("grid", "2", "20")

    target = tmp_path / "indices.csv"
    argv = ["sensitivity", SCN, "--param", f"{POSITION}=0:0.6", "--param", f"{SALIENCE}=0.4:0.9",
            "--outcome", "basing=withdrawal", "--n", "2", "--n-runs", "8", "--n-resamples", "10",
            "--out", str(target)]  # fmt: skip
    assert run_cli(capsys, *argv)[0] == 0
    header = _header(target)
    assert (header["outcome"], header["n"], header["n_runs"]) == ("basing=withdrawal", "2", "8")

    target = tmp_path / "explain.csv"
    status, out, err = run_cli(capsys, "explain", SCN, "--out", str(target))
    assert status == 0 and out == "" and err == f"wrote {target}\n"
    header = _header(target)
    assert list(header) == ["basesim_version", "scenario", "scenario_sha256", "model"]
    assert header["scenario_sha256"] == _sha256(SCN)
    frame = basesim.read_table(target)
    assert len(frame) == len(basesim.load_scenario(SCN).explain())


@pytest.fixture
def no_simulation(monkeypatch):
    """Make any simulation fail the test: outputs must be checked before one starts."""

    def refuse(*args, **kwargs):
        raise AssertionError("simulated before checking the outputs")

    for name in ("simulate", "compare", "sweep", "sensitivity"):
        monkeypatch.setattr(basesim.experiments, name, refuse)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", SCN, "--param", f"{POSITION}=0:1", "--checkpoint", "/proc/nope"],
         "cannot write --checkpoint '/proc/nope': cannot create a file in '/proc'"),
        (["run", SCN, "--out", "/proc/nope/probs.csv"],
         "cannot write --out '/proc/nope/probs.csv': cannot create a file in '/proc'"),
        (["run", SCN, "--plot", "/proc/probs.png"], "cannot write --plot '/proc/probs.png'"),
        (["compare", SCN, "syria-2025-hedging", "--out", lambda p: str(p / "file" / "c.csv")],
         r"cannot write --out '.*/file/c.csv': '.*/file' is not a folder"),
        (["run", SCN, "--out", lambda p: str(p / "folder.csv")],
         r"--out '.*/folder.csv' exists and is not a regular file"),
        (["sweep", SCN, "--param", f"{POSITION}=0:1", "--checkpoint", lambda p: str(p / "file")],
         r"--checkpoint '.*/file' must be a folder"),
        (["sensitivity", SCN, "--param", f"{POSITION}=0:1", "--outcome", "no agreement",
          "--out", "/proc/s.json"], "cannot write --out '/proc/s.json'"),
    ],
)  # fmt: skip
def test_unwritable_outputs_are_reported_before_simulating(
    capsys, tmp_path, no_simulation, argv, message
):
    (tmp_path / "file").write_text("", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    argv = [a(tmp_path) if callable(a) else a for a in argv]
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("basesim: error: ")
    assert re.search(message, err), err


def test_parquet_without_an_engine_is_refused_before_simulating(
    capsys, tmp_path, no_simulation, monkeypatch
):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name in ("pyarrow", "fastparquet") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    status, out, err = run_cli(capsys, "run", SCN, "--out", str(tmp_path / "p.parquet"))
    assert status == 2 and out == ""
    assert err == (
        "basesim: error: --out: writing Parquet needs pyarrow or fastparquet, and neither is "
        "installed (pip install pyarrow), or write .csv or .json\n"
    )
