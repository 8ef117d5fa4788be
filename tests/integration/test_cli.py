"""The ``basesim`` command line: every command, its outputs, and its errors for bad input."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import basesim
from basesim.cli import main

SCN = "syria-2025"
POSITION = "actors.syria.basing.position"
SALIENCE = "actors.turkey.basing.salience"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SRC = Path(basesim.__file__).resolve().parents[1]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def read_table(path: Path) -> pd.DataFrame:
    """The table of a file the CLI wrote, its provenance checked and dropped."""
    frame = basesim.read_table(path)
    assert frame.attrs.pop("provenance")["basesim_version"] == basesim.__version__
    return frame


def assert_png(path: Path) -> None:
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_MAGIC


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "mine.toml"
    basesim.save_scenario(basesim.load_scenario(SCN), path)
    return path


# -- commands -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    ["list", "explain", "validate", "run", "compare", "sweep", "sensitivity", "backtest", "score"],
)
def test_help_of_every_command(capsys, command):
    status, out, _ = run_cli(capsys, command, "--help")
    assert status == 0
    assert out.startswith(f"usage: basesim {command}")


def test_top_level_help_and_version(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    commands = (
        "list",
        "explain",
        "validate",
        "run",
        "compare",
        "sweep",
        "sensitivity",
        "backtest",
        "score",
    )
    for command in commands:
        assert command in out
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0
    assert out.strip() == f"basesim {basesim.__version__}"


def test_list(capsys):
    status, out, err = run_cli(capsys, "list")
    assert status == 0
    assert err == ""
    names = [line.split()[0] for line in out.splitlines()]
    assert names == basesim.list_scenarios()


def test_explain(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "explain", SCN)
    assert status == 0
    assert out.startswith(f"{SCN}: ")
    assert "evidence" in out
    target = tmp_path / "explain.json"
    status, _, _ = run_cli(capsys, "explain", SCN, "--out", str(target))
    assert status == 0
    frame = read_table(target)
    expected = basesim.load_scenario(SCN).explain()
    assert list(frame.columns) == list(expected.columns)
    assert len(frame) == len(expected)


@pytest.mark.parametrize("columns", [60, 100])
def test_explain_fits_the_terminal_one_parameter_a_block(capsys, columns):
    # Lines of up to 481 characters used to wrap in a terminal.
    status, out, _ = run_cli(capsys, "explain", SCN, "--columns", str(columns))
    assert status == 0
    lines = out.splitlines()
    assert max(map(len, lines)) <= columns
    table = basesim.load_scenario(SCN).explain()
    heads = [line for line in lines if line.startswith(("issues.", "actors.", "protocol."))]
    assert heads == [f"{row.path} = {row.value:g}" for row in table.itertuples()]
    # Every rationale is there, word for word, and the evidence ids have a key.
    words = " ".join(out.split())
    assert all(" ".join(str(r).split()) in words for r in table["rationale"] if r)
    assert "S<n> is sentence n of the source report" in words


def test_validate(capsys, scenario_file):
    status, out, err = run_cli(capsys, "validate", str(scenario_file))
    assert status == 0
    assert err == ""
    assert f"valid scenario {SCN!r}" in out


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_run_writes_probabilities(capsys, tmp_path, suffix):
    target = tmp_path / f"probs{suffix}"
    plot = tmp_path / "probs.png"
    status, out, err = run_cli(
        capsys, "run", SCN, "--n-runs", "300", "--rng", "3", "--out", str(target),
        "--plot", str(plot),
    )  # fmt: skip
    assert status == 0, err
    assert f"{SCN}: 300 runs" in out
    frame = read_table(target)
    expected = basesim.simulate(basesim.load_scenario(SCN), n_runs=300, rng=3).probabilities()
    assert list(frame.columns) == list(expected.columns)
    assert frame["probability"].tolist() == pytest.approx(expected["probability"].tolist())
    joint = frame[frame["table"] == "joint"]
    assert joint["count"].sum() == 300
    # (3 categories + unsettled) x (3 + unsettled) joint cells, the last no agreement.
    assert len(joint) == 16 and joint["outcome"].iloc[-1] == "no agreement"
    basing = frame[frame["table"] == "basing"]
    assert basing["outcome"].iloc[-1] == "unsettled"
    assert "unsettled" in out and "withdrawal / unsettled" in out
    assert_png(plot)


def test_run_says_whether_the_precision_target_was_met(capsys):
    # 0.002 needs about 1.96**2 * 0.25 / 0.002**2 = 240,100 runs at p = 0.5: far
    # more than the cap of 3,000.
    status, out, err = run_cli(capsys, "run", SCN, "--precision", "0.002", "--n-runs", "3000")
    assert status == 0, err
    assert "precision 0.002 NOT reached: widest 95% half-width" in out
    assert "after 3,000 runs, the --n-runs cap; raise --n-runs" in out
    assert err.startswith("basesim: warning: precision 0.002 NOT reached")
    status, out, err = run_cli(capsys, "run", SCN, "--precision", "0.1", "--n-runs", "3000")
    assert status == 0, err
    assert "precision 0.1 reached: widest 95% half-width" in out and "after 1,024 runs" in out
    assert err == ""


def test_run_with_progress_bar(capsys):
    status, _, err = run_cli(capsys, "run", SCN, "--n-runs", "100", "--progress")
    assert status == 0
    assert "simulating" in err  # tqdm draws on stderr


def test_run_on_a_process_pool(capsys, tmp_path):
    target = tmp_path / "pool.csv"
    args = ["run", SCN, "--n-runs", "400", "--rng", "5", "--out"]
    status, _, err = run_cli(capsys, *args, str(target), "--executor", "process", "--workers", "2")
    assert status == 0, err
    serial = tmp_path / "serial.csv"
    assert run_cli(capsys, *args, str(serial))[0] == 0
    pd.testing.assert_frame_equal(read_table(target), read_table(serial))


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_compare(capsys, tmp_path, suffix):
    target = tmp_path / f"cmp{suffix}"
    plot = tmp_path / "cmp.png"
    other = "syria-2025-hedging"
    status, out, err = run_cli(
        capsys, "compare", SCN, other, "--n-runs", "300", "--out", str(target),
        "--plot", str(plot),
    )  # fmt: skip
    assert status == 0, err
    assert f"reference={SCN!r}" in out
    frame = read_table(target)
    assert list(frame.columns) == [
        "scenario", "table", "outcome", "count", "probability", "ci_low", "ci_high",
        "difference", "difference_ci_low", "difference_ci_high",
    ]  # fmt: skip
    assert set(frame["scenario"]) == {SCN, other}
    reference = frame[frame["scenario"] == SCN]
    assert (reference["difference"] == 0).all()
    assert frame[frame["table"] == "joint"].groupby("scenario")["count"].sum().tolist() == [
        300,
        300,
    ]
    assert_png(plot)


def test_compare_of_scenarios_with_different_issues_plots_a_shared_table(capsys, tmp_path):
    plot = tmp_path / "cmp.png"
    status, out, err = run_cli(
        capsys, "compare", SCN, "syria-2025-russian-offer", "--n-runs", "40", "--plot", str(plot)
    )
    assert status == 0, err
    assert "issue basing" in out and "joint outcome" not in out
    assert (
        "not compared: joint (the scenarios' issues or categories differ); russian_package " in out
    )
    assert_png(plot)


def test_compare_names_scenarios_as_given_when_names_clash(capsys, tmp_path, scenario_file):
    target = tmp_path / "cmp.csv"
    status, _, err = run_cli(
        capsys, "compare", SCN, str(scenario_file), "--n-runs", "50", "--out", str(target)
    )
    assert status == 0, err
    assert set(read_table(target)["scenario"]) == {SCN, str(scenario_file)}


@pytest.mark.parametrize(
    ("suffix", "outcome"),
    [(".csv", "basing=withdrawal"), (".json", "basing=unsettled"), (".csv", "no agreement")],
)
def test_sweep(capsys, tmp_path, suffix, outcome):
    target = tmp_path / f"sweep{suffix}"
    plot = tmp_path / "sweep.png"
    status, out, err = run_cli(
        capsys, "sweep", SCN, "--param", f"{POSITION}=0:0.6", "--param", f"{SALIENCE}=0.4:0.9",
        "--design", "grid", "--n-points", "2", "--n-runs", "50", "--out", str(target),
        "--plot", str(plot), "--outcome", outcome,
    )  # fmt: skip
    assert status == 0, err
    assert "SweepResult" in out
    frame = read_table(target)
    assert list(frame.columns) == [
        "point", POSITION, SALIENCE, "table", "outcome", "count", "probability", "ci_low",
        "ci_high",
    ]  # fmt: skip
    assert sorted(frame["point"].unique()) == [0, 1, 2, 3]
    assert sorted(frame[POSITION].unique()) == [0.0, 0.6]
    assert (frame[frame["table"] == "joint"].groupby("point")["count"].sum() == 50).all()
    assert (frame[frame["table"] == "basing"].groupby("point")["count"].sum() == 50).all()
    assert "unsettled" in set(frame[frame["table"] == "basing"]["outcome"])
    assert_png(plot)


def test_one_parameter_sweep_plots_a_line(capsys, tmp_path):
    plot = tmp_path / "line.png"
    status, _, err = run_cli(
        capsys, "sweep", SCN, "--param", f"{POSITION}=0:0.6", "--design", "grid",
        "--n-points", "3", "--n-runs", "20", "--outcome", "basing=withdrawal", "--plot", str(plot),
    )  # fmt: skip
    assert status == 0, err
    assert_png(plot)


def test_sweep_designs_and_checkpoint(capsys, tmp_path):
    base = ["sweep", SCN, "--param", f"{POSITION}=0:0.6", "--n-runs", "20", "--rng", "2"]
    target = tmp_path / "lhs.csv"
    assert run_cli(capsys, *base, "--n-points", "3", "--out", str(target))[0] == 0
    assert read_table(target)["point"].nunique() == 3
    target = tmp_path / "sobol.csv"
    folder = tmp_path / "ckpt"
    args = [*base, "--design", "sobol", "--n-points", "4", "--checkpoint", str(folder)]
    assert run_cli(capsys, *args, "--out", str(target))[0] == 0
    assert folder.is_dir()
    again = tmp_path / "again.csv"
    assert run_cli(capsys, *args, "--out", str(again))[0] == 0
    pd.testing.assert_frame_equal(read_table(target), read_table(again))


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_sensitivity(capsys, tmp_path, suffix):
    target = tmp_path / f"sens{suffix}"
    plot = tmp_path / "sens.png"
    status, out, err = run_cli(
        capsys, "sensitivity", SCN, "--param", f"{POSITION}=0:0.6",
        "--param", f"{SALIENCE}=0.4:0.9", "--outcome", "basing=withdrawal", "--n", "8",
        "--n-runs", "50", "--n-resamples", "50", "--rng", "7", "--out", str(target),
        "--plot", str(plot),
    )  # fmt: skip
    assert status == 0, err
    assert "SensitivityResult" in out
    frame = read_table(target)
    assert list(frame.columns) == [
        "parameter",
        "index",
        "estimate",
        "ci_low",
        "ci_high",
        "output_varies",
    ]
    assert len(frame) == 4
    assert set(frame["parameter"]) == {POSITION, SALIENCE}
    assert set(frame["index"]) == {"first_order", "total_order"}
    assert_png(plot)


def test_dask_executor(capsys, tmp_path):
    pytest.importorskip("dask.distributed")
    target = tmp_path / "dask.csv"
    args = ["run", SCN, "--n-runs", "200", "--rng", "4", "--out"]
    status, _, err = run_cli(capsys, *args, str(target), "--executor", "dask", "--workers", "1")
    assert status == 0, err
    serial = tmp_path / "serial.csv"
    assert run_cli(capsys, *args, str(serial))[0] == 0
    pd.testing.assert_frame_equal(read_table(target), read_table(serial))


def test_dask_executor_does_not_need_the_default_dashboard_port(capsys, tmp_path):
    # Another Dask cluster (a notebook's, say) holds port 8787: the CLI's own
    # cluster must not warn about it (warnings are errors here) or need it.
    pytest.importorskip("dask.distributed")
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            holder.bind(("127.0.0.1", 8787))
            holder.listen()
        except OSError:
            pass  # someone else holds it already: the situation under test
        args = ["run", SCN, "--n-runs", "50", "--rng", "4", "--executor", "dask"]
        status, _, err = run_cli(capsys, *args, "--workers", "1")
        assert status == 0, err
    finally:
        holder.close()


# -- bad input ----------------------------------------------------------------------------
def _malformed(tmp_path: Path) -> str:
    path = tmp_path / "broken.toml"
    path.write_text("[scenario\nname = ", encoding="utf-8")
    return str(path)


def _invalid(tmp_path: Path) -> str:
    path = tmp_path / "invalid.toml"
    path.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    return str(path)


SWEEP = ["sweep", SCN, "--n-runs", "10", "--n-points", "2"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "no-such-scenario"], "no bundled scenario called 'no-such-scenario'"),
        (["explain", "syria-2052"], "did you mean 'syria-2025'"),
        (["validate", "missing.toml"], "'missing.toml' does not exist"),
        (["validate", _malformed], "broken.toml"),
        (["validate", _invalid], "invalid.toml"),
        (["run", SCN, "--n-runs", "0"], "argument --n-runs: must be >= 1"),
        (["run", SCN, "--n-runs", "many"], "argument --n-runs: must be a whole number"),
        (["run", SCN, "--rng", "-1"], "argument --rng"),
        (["run", SCN, "--executor", "gpu"], "argument --executor: invalid choice: 'gpu'"),
        (["run", SCN, "--workers", "2"], "--workers needs --executor process or dask"),
        (["run", SCN, "--out", "probs.txt"], "--out must end in .csv, .json or .parquet"),
        (["run", SCN, "--plot", "probs.gif"], "--plot must end in .png"),
        (["run", SCN, "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["compare", SCN], "compare needs at least two scenarios"),
        (
            ["sweep", SCN, "--param", "actors.syria.capability=-1:0", "--design", "grid"],
            "range [-1, 0] leaves the field's domain: actors.syria.capability must be > 0",
        ),
        (["validate", lambda d: str(d)], "is a folder, not a .toml file"),
        (["compare", SCN, SCN], "the same scenario twice"),
        (["compare", SCN, "nowhere"], "no bundled scenario called 'nowhere'"),
        ([*SWEEP, "--param", "x=1"], "argument --param: must be PATH=LOW:HIGH (got 'x=1')"),
        ([*SWEEP, "--param", "x"], "must be PATH=LOW:HIGH"),
        ([*SWEEP, "--param", f"{POSITION}=a:b"], "LOW and HIGH must be numbers"),
        ([*SWEEP, "--param", f"{POSITION}=0.9:0.1"], "LOW must be less than HIGH"),
        ([*SWEEP, "--param", "actors.nobody.basing.position=0:1"], "no actor 'nobody'"),
        ([*SWEEP, "--param", "actors.syria.name=0:1"], "must name a numeric parameter"),
        ([*SWEEP, "--param", f"{POSITION}=0:1", "--param", f"{POSITION}=0:1"], "given twice"),
        ([*SWEEP, "--param", f"{POSITION}=0:1", "--design", "sobol", "--n-points", "3"],
         "power of 2"),
        ([*SWEEP, "--param", f"{POSITION}=0:1", "--outcome", "basing=nope"],
         "--outcome must be one of"),
        ([*SWEEP, "--param", f"{POSITION}=0:1", "--outcome", "basing=unsetled"],
         "(did you mean 'basing=unsettled'?)"),
        (["sweep", SCN], "the following arguments are required: --param"),
        (["sensitivity", SCN, "--param", f"{POSITION}=0:1"], "required: --outcome"),
        (["sensitivity", SCN, "--param", f"{POSITION}=0:1", "--outcome", "x", "--n", "8"],
         "--outcome must be one of"),
        (["sensitivity", SCN, "--param", f"{POSITION}=0:1", "--outcome", "basing=retention",
          "--n", "6"], "n must be a power of 2"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, argv, expected):
    argv = [a(tmp_path) if callable(a) else a for a in argv]
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("basesim: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_unwritable_output_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    status, _, err = run_cli(capsys, "explain", SCN, "--out", str(blocker / "t.csv"))
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("basesim: error: cannot write --out")


# -- the entry point ----------------------------------------------------------------------
def _python_m(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "basesim", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_python_m_basesim_runs(tmp_path):
    target = tmp_path / "probs.json"
    done = _python_m("run", SCN, "--n-runs", "100", "--out", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"wrote {target}\n"
    assert len(read_table(target)) > 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "no-such-scenario"], "no bundled scenario"),
        (["sweep", SCN, "--param", f"{POSITION}=0.9:0.1"], "LOW must be less than HIGH"),
    ],
)
def test_python_m_basesim_errors(argv, expected):
    done = _python_m(*argv)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("basesim: error: ")
    assert expected in lines[0]
    assert "Traceback" not in done.stderr
