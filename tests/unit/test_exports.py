"""Tables written with their provenance (CSV header, JSON object) and read back."""

from __future__ import annotations

import hashlib
import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

import basesim
from basesim.exceptions import BasesimError
from basesim.exports import read_table, table_provenance, write_table

FRAME = pd.DataFrame(
    {
        "table": ["joint", "joint", "basing"],
        "outcome": ["a / b", "no agreement", "https://example.org/x#1"],
        "count": [3, 0, 2],
        "probability": [0.75, np.nan, 1 / 3],
    }
)
# Values a naive "# key: value" header would not read back: they are written as JSON.
AWKWARD = {
    "basesim_version": "0.2.0",
    "scenario": "[not a list]",
    "model": ' padded "quoted" ',
    "rng": ["1", "2"],
    "rng_spawn_key": [0, 3],
    "n_runs": 40,
    "created": "",
    "note": "two\nlines",
}


@pytest.fixture(scope="module")
def result(small_scenario):
    return basesim.simulate(small_scenario, n_runs=50, rng=11)


def test_csv_header_round_trips_awkward_values(tmp_path):
    path = write_table(FRAME, tmp_path / "t.csv", provenance=AWKWARD)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[: len(AWKWARD)] == [
        "# basesim_version: 0.2.0",
        '# scenario: "[not a list]"',
        '# model: " padded \\"quoted\\" "',
        '# rng: ["1", "2"]',
        "# rng_spawn_key: [0, 3]",
        "# n_runs: 40",
        '# created: ""',
        '# note: "two\\nlines"',
    ]
    assert lines[len(AWKWARD)] == "table,outcome,count,probability"
    back = read_table(path)
    assert back.attrs["provenance"] == AWKWARD
    back.attrs = {}
    pd.testing.assert_frame_equal(back, FRAME)


def test_json_is_an_object_with_provenance_and_records(tmp_path):
    path = write_table(FRAME, tmp_path / "t.json", provenance=AWKWARD)
    text = path.read_text(encoding="utf-8")
    assert "\\/" not in text and "https://example.org/x#1" in text  # no escaped slashes
    data = json.loads(text)
    assert data["provenance"] == AWKWARD
    # NaN is null; numbers are exact (1/3 to the last bit), counts whole numbers.
    assert data["records"][1] == {
        "table": "joint",
        "outcome": "no agreement",
        "count": 0,
        "probability": None,
    }
    assert data["records"][2]["probability"] == 1 / 3
    back = read_table(path)
    assert back.attrs.pop("provenance") == AWKWARD
    pd.testing.assert_frame_equal(back, FRAME)


def test_files_without_provenance_are_read_too(tmp_path):
    plain = tmp_path / "plain.csv"
    FRAME.to_csv(plain, index=False)
    assert read_table(plain).attrs["provenance"] == {}
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"a": 1}, {"a": 2}]), encoding="utf-8")
    frame = read_table(records)
    assert frame["a"].tolist() == [1, 2] and frame.attrs["provenance"] == {}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", "# no colon here\na\n1\n", "line 1 must be '# key: value'"),
        ("bad.csv", '# scenario: ["x"\na\n1\n', "line 1 holds malformed JSON"),
        ("bad.json", '{"records": []}', "must hold an object with a 'provenance' object"),
        ("bad.json", "[[[", "not valid JSON"),
        ("bad.txt", "a\n", r"path must end in .csv, .json or .parquet \(got '.*bad.txt'\)"),
    ],
)
def test_malformed_tables_are_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BasesimError, match=message):
        read_table(path)


def test_provenance_of_a_simulation(result, small_scenario):
    info = table_provenance(result)
    assert info == {
        "basesim_version": basesim.__version__,
        "scenario": "mini",
        # The SHA-256 of the scenario's canonical TOML, as save_scenario writes it.
        "scenario_sha256": hashlib.sha256(small_scenario.to_toml().encode("utf-8")).hexdigest(),
        "model": small_scenario.protocol.model,
        "engine": "batch",
        "rng": "11",
        "n_runs": 50,
        "created": result.provenance.created,
    }


def test_provenance_of_a_scenario_alone(small_scenario):
    assert table_provenance(small_scenario) == {
        "basesim_version": basesim.__version__,
        "scenario": "mini",
        "scenario_sha256": hashlib.sha256(small_scenario.to_toml().encode("utf-8")).hexdigest(),
        "model": small_scenario.protocol.model,
    }
    with pytest.raises(BasesimError, match="provenance must be a basesim result or Scenario"):
        table_provenance(42)


def test_a_spawned_seed_is_recorded(small_scenario):
    child = np.random.SeedSequence(5).spawn(2)[1]
    info = table_provenance(basesim.simulate(small_scenario, n_runs=10, rng=child))
    assert info["rng"] == "5" and info["rng_spawn_key"] == [1]


def test_parquet_without_an_engine_is_a_clear_error(tmp_path, monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name in ("pyarrow", "fastparquet") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    target = tmp_path / "t.parquet"
    with pytest.raises(BasesimError, match="writing Parquet needs pyarrow or fastparquet"):
        write_table(FRAME, target, provenance=AWKWARD)
    assert not target.exists()


def test_an_unwritable_path_is_a_basesim_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(BasesimError, match="cannot write"):
        write_table(FRAME, blocker / "t.csv", provenance=AWKWARD)
