"""The example scripts run end to end (``--quick``) and print what they promise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str, out: Path) -> str:
    """Run ``examples/<name> --quick --out <out>`` in a fresh interpreter; return its stdout."""
    env = dict(os.environ)
    # The examples import basesim; make the source tree importable without installing.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(ROOT / "src"), env.get("PYTHONPATH", "")] if p
    )
    env["MPLBACKEND"] = "Agg"
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=out,
        env=env,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


def assert_png_files(out: Path, names: list[str]) -> None:
    for name in names:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name


def test_report_baseline(tmp_path):
    stdout = run_example("report_baseline.py", tmp_path)
    assert "syria-2025: Russian bases in Syria and sanctions relief" in stdout
    # The evidence table, with the sentences each number rests on.
    assert "Parameters and their evidence" in stdout
    assert "S1, S2, S7, S8, S11, S16, S17" in stdout
    assert "Why the Syrian government's basing position is 0.15" in stdout
    # Probabilities of every table, with intervals, over the quick run count.
    assert "Outcome probabilities over 2,000 simulated negotiations" in stdout
    for outcome in ("withdrawal / substantial", "no agreement", "reduced presence", "substantial"):
        assert outcome in stdout
    assert "agreement by the horizon:" in stdout
    assert "half of the agreements come by 2025-" in stdout
    names = [
        "probabilities.png",
        "basing.png",
        "joint.png",
        "agreement_rounds.png",
        "negotiation_basing.png",
        "stance_bands_basing.png",
    ]
    assert_png_files(tmp_path, names)
    for name in names:
        assert f"wrote {tmp_path / name}" in stdout


def test_counterfactuals(tmp_path):
    stdout = run_example("counterfactuals.py", tmp_path)
    assert "Basing outcome by scenario, 2,000 runs each" in stdout
    for name in (
        "syria-2025",
        "syria-2025-turkey-acquiesces",
        "syria-2025-west-conditional",
        "russia-holds-out",
    ):
        assert name in stdout
    assert "Change from syria-2025, paired run by run" in stdout
    assert "(unpaired: ±" in stdout
    lines = [
        line
        for line in stdout.splitlines()
        if line.strip().startswith("syria-2025-west-conditional")
    ]
    # One line of probabilities and one difference per row of the basing table,
    # "unsettled" included.
    assert len(lines) == 1 + 4
    assert_png_files(tmp_path, ["comparison_basing.png", "differences_basing.png"])


def test_own_scenario(tmp_path):
    stdout = run_example("own_scenario.py", tmp_path)
    assert "port-concession: Concession of a city's container terminal" in stdout
    assert "actors: Port authority, Terminal operator, Dockworkers' union" in stdout
    # The deliberate mistake is reported with the field path, the rule and the value.
    assert "ScenarioError: actors.union.control.salience must be in [0, 1] (got 1.3)" in stdout
    assert re.search(r"One negotiation \(rng=30\): \d+ rounds, agreed: (True|False)", stdout)
    assert "Outcome probabilities over 2,000 runs" in stdout
    for category in ("joint venture", "private", "modernisation", "expansion"):
        assert category in stdout
    assert "Without the union's pull, P(control = private) moves" in stdout
    assert_png_files(
        tmp_path,
        [
            "port_probabilities.png",
            "port_joint.png",
            "port_negotiation_control.png",
            "port_negotiation_investment.png",
        ],
    )


def test_sweep_sensitivity(tmp_path):
    stdout = run_example("sweep_sensitivity.py", tmp_path)
    for header in ("1. Sweep:", "2. ", "3. PRIM:"):
        assert header in stdout
    assert "point(s) failed" in stdout
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 3, pngs
    assert_png_files(tmp_path, pngs)
