"""Tables written to files with their provenance: CSV, JSON and Parquet.

Every table basesim writes (``basesim ... --out``, or :func:`write_table`)
says where its numbers come from: the basesim version, the scenario's name and
the SHA-256 of its canonical TOML (:func:`~basesim.results.scenario_digest`),
the model, and for simulated numbers the engine, the seed entropy (``rng``)
and ``n_runs``.  How the provenance is stored depends on the format:

CSV
    A header of comment lines ``# key: value`` before the column names.  A
    value is written as it is, unless it is a list, or text that would not
    read back the same (empty, starting with ``[`` or ``"``, padded with
    spaces, not printable): then as JSON.  :func:`read_table` reads the
    header; with pandas alone, ``pd.read_csv(path, comment="#")`` skips it
    when no cell holds a ``#``, and ``skiprows`` (the number of ``#`` lines)
    always does.
JSON
    An object ``{"provenance": {...}, "records": [...]}``, one record per
    row, UTF-8 (nothing escaped that need not be: no ``\\/``), missing
    numbers as ``null``.
Parquet
    The provenance as JSON in the file's key-value metadata, under
    ``basesim_provenance``.  Parquet needs ``pyarrow`` (or ``fastparquet``),
    which basesim does not install: without them, writing a ``.parquet``
    file raises :class:`~basesim.exceptions.BasesimError`.

Files are written atomically (whole or not at all).

Examples
--------
>>> import basesim, tempfile, pathlib
>>> result = basesim.simulate(basesim.load_scenario("syria-2025"), n_runs=200, rng=1)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_table(result.probabilities(), folder / "p.csv", provenance=result)
>>> path.read_text().splitlines()[1]
'# scenario: syria-2025'
>>> table = read_table(path)
>>> table.attrs["provenance"]["n_runs"], table.attrs["provenance"]["rng"]
(200, '1')
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from basesim.exceptions import BasesimError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SUFFIXES", "read_table", "table_provenance", "write_table"]

#: The file name endings :func:`write_table` understands.
SUFFIXES = (".csv", ".json", ".parquet")
#: The Parquet key-value metadata entry that holds the provenance.
PARQUET_KEY = "basesim_provenance"
# Provenance values that are whole numbers (everything else is text, or a list).
_INT_KEYS = frozenset({"n_runs", "n_points", "n", "n_boot"})


# -- provenance ---------------------------------------------------------------------------
def table_provenance(source: Any) -> dict[str, Any]:
    """The provenance of a table made from ``source``.

    Parameters
    ----------
    source
        A :class:`~basesim.SimulationResult`, :class:`~basesim.ComparisonResult`,
        :class:`~basesim.SweepResult`, :class:`~basesim.SensitivityResult`,
        :class:`~basesim.BacktestResult`, or a :class:`~basesim.Scenario` (for
        tables of the scenario alone, such as :meth:`~basesim.Scenario.explain`).

    Returns
    -------
    dict
        ``basesim_version``; ``scenario``, ``scenario_sha256`` and ``model``
        (lists, one entry per scenario, for a comparison); for simulated
        numbers ``engine``, ``rng`` (the seed entropy: a decimal string, or a
        list of them), ``rng_spawn_key`` (only if the seed was spawned),
        ``n_runs`` (runs per scenario, point or sample) and ``created``; for
        a sweep ``design`` and ``n_points``; for a sensitivity analysis
        ``outcome`` and ``n``.  A backtest has no scenario: ``model`` lists
        its predictors (models and baselines), then ``rng``, ``n_runs`` and
        ``n_boot``; the caller adds what identifies the data.
    """
    from basesim import __version__
    from basesim.experiments import (
        BacktestResult,
        ComparisonResult,
        SensitivityResult,
        SweepResult,
    )
    from basesim.results import SimulationResult, scenario_digest
    from basesim.scenario import Scenario

    if isinstance(source, Scenario):
        return {
            "basesim_version": __version__,
            "scenario": source.name,
            "scenario_sha256": scenario_digest(source),
            "model": source.protocol.model,
        }
    if isinstance(source, BacktestResult):
        return _backtest_provenance(source)
    if not isinstance(
        source, SimulationResult | ComparisonResult | SweepResult | SensitivityResult
    ):
        raise BasesimError(
            "provenance must be a basesim result or Scenario "
            f"(got {type(source).__name__}: {source!r:.60})"
        )
    provenance = source.provenance
    out: dict[str, Any] = {"basesim_version": provenance.basesim_version}
    if isinstance(source, ComparisonResult):  # one entry per scenario
        scenarios = [r.scenario for r in source.results]
        out["scenario"] = list(source.names)
        out["scenario_sha256"] = [scenario_digest(s) for s in scenarios]
        out["model"] = [s.protocol.model for s in scenarios]
    else:
        out["scenario"] = source.scenario.name
        out["scenario_sha256"] = scenario_digest(source.scenario)
        out["model"] = source.scenario.protocol.model
    entropy = provenance.entropy
    out["engine"] = provenance.engine
    out["rng"] = str(entropy) if isinstance(entropy, int) else [str(e) for e in entropy]
    if provenance.spawn_key:
        out["rng_spawn_key"] = [int(k) for k in provenance.spawn_key]
    out["n_runs"] = int(source.n_runs)
    if isinstance(source, SweepResult):
        out["design"] = source.design_kind
        out["n_points"] = source.n_points
    if isinstance(source, SensitivityResult):
        out["outcome"] = source.outcome
        out["n"] = source.n
    out["created"] = provenance.created
    return out


def _backtest_provenance(source: Any) -> dict[str, Any]:
    entropy = source.entropy
    out: dict[str, Any] = {
        "basesim_version": source.basesim_version,
        "model": list(dict.fromkeys(model for model, _ in source.predictors)),
        "rng": str(entropy) if isinstance(entropy, int) else [str(e) for e in entropy],
    }
    if source.spawn_key:
        out["rng_spawn_key"] = [int(k) for k in source.spawn_key]
    out["n_runs"] = int(source.n_runs)
    out["n_boot"] = int(source.n_boot)
    return out


def _header_value(value: Any) -> str:
    """A provenance value as a CSV header writes it (see the module docstring)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    if not value or value[0] in '["' or value != value.strip() or not value.isprintable():
        return json.dumps(value, ensure_ascii=False)
    return value


def _read_header_value(key: str, text: str) -> Any:
    if text[:1] in ('"', "["):
        return json.loads(text)
    if key in _INT_KEYS and text.isdecimal():
        return int(text)
    return text


# -- writing ------------------------------------------------------------------------------
def check_suffix(path: str | os.PathLike[str], *, argument: str = "path") -> str:
    """The format of ``path`` (``".csv"``, ``".json"`` or ``".parquet"``), checked early.

    Raises
    ------
    BasesimError
        If the name ends otherwise, or if it is a Parquet file and neither
        pyarrow nor fastparquet can be imported.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise BasesimError(f"{argument} must end in .csv, .json or .parquet (got {str(path)!r})")
    if suffix == ".parquet":
        _parquet_engine(argument)
    return suffix


def _parquet_engine(argument: str) -> str:
    import importlib.util

    for engine in ("pyarrow", "fastparquet"):
        if importlib.util.find_spec(engine) is not None:
            return engine
    raise BasesimError(
        f"{argument}: writing Parquet needs pyarrow or fastparquet, and neither is installed "
        "(pip install pyarrow), or write .csv or .json"
    )


def _plain(value: Any) -> Any:
    """A cell as JSON has it: NumPy scalars as Python numbers, NaN and missing as null."""
    import pandas as pd

    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], *, provenance: Any) -> Path:
    """Write ``frame`` to ``path`` (CSV, JSON or Parquet, by its ending) with its provenance.

    Parameters
    ----------
    frame
        The table (its index is not written).
    path
        Ends in ``.csv``, ``.json`` or ``.parquet``; written atomically, parent
        folders created.
    provenance
        The result or scenario the table comes from (see
        :func:`table_provenance`), or a mapping of provenance keys to text,
        whole numbers or lists of them.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    BasesimError
        If the ending is unknown, Parquet cannot be written, or the file
        cannot be written.
    """
    from basesim._io import write_atomic_with, write_text_atomic

    path = Path(path)
    suffix = check_suffix(path)
    info = dict(provenance) if isinstance(provenance, Mapping) else table_provenance(provenance)
    try:
        if suffix == ".csv":
            header = "".join(f"# {key}: {_header_value(v)}\n" for key, v in info.items())
            return write_text_atomic(path, header + frame.to_csv(index=False))
        if suffix == ".json":
            records = [
                {str(k): _plain(v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
            text = json.dumps(
                {"provenance": info, "records": records},
                ensure_ascii=False,
                allow_nan=False,
                indent=2,
                default=str,
            )
            return write_text_atomic(path, text + "\n")
        return write_atomic_with(path, _parquet_writer(frame, info))
    except OSError as exc:
        raise BasesimError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def _parquet_writer(frame: pd.DataFrame, info: dict[str, Any]) -> Callable[[Path], None]:
    engine = _parquet_engine("path")
    text = json.dumps(info, ensure_ascii=False)

    def write(target: Path) -> None:
        if engine == "pyarrow":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            metadata = {**(table.schema.metadata or {}), PARQUET_KEY.encode(): text.encode()}
            pq.write_table(table.replace_schema_metadata(metadata), target)
        else:  # pragma: no cover - only where fastparquet is installed and pyarrow is not
            import fastparquet

            fastparquet.write(
                str(target), frame, write_index=False, custom_metadata={PARQUET_KEY: text}
            )

    return write


# -- reading ------------------------------------------------------------------------------
def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table`; its provenance is in ``.attrs["provenance"]``.

    Files without a provenance header (written by other tools) are read too,
    with an empty provenance.

    Raises
    ------
    BasesimError
        If the file cannot be read, is not a regular file, or is malformed.
    """
    import pandas as pd

    from basesim._io import read_regular_file

    path = Path(path)
    suffix = check_suffix(path)
    if suffix == ".parquet":
        frame, info = _read_parquet(path)
    else:
        data = read_regular_file(path, error=BasesimError, what="table")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BasesimError(f"{path}: not UTF-8 text ({exc})") from None
        if suffix == ".csv":
            frame, info = _read_csv(path, text)
        else:
            frame, info = _read_json(path, text, pd)
    frame.attrs["provenance"] = info
    return frame


def _read_csv(path: Path, text: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pandas as pd

    info: dict[str, Any] = {}
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].startswith("#"):
        key, colon, value = lines[n][1:].strip().partition(":")
        if not colon:
            raise BasesimError(f"{path}: line {n + 1} must be '# key: value' (got {lines[n]!r})")
        try:
            info[key.strip()] = _read_header_value(key.strip(), value.strip())
        except ValueError as exc:
            raise BasesimError(f"{path}: line {n + 1} holds malformed JSON ({exc})") from None
        n += 1
    try:
        return pd.read_csv(io.StringIO("".join(lines[n:]))), info
    except (ValueError, pd.errors.ParserError) as exc:
        raise BasesimError(f"{path}: not a readable CSV table ({exc})") from None


def _read_json(path: Path, text: str, pd: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BasesimError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, list):  # records alone, as older versions wrote them
        data = {"provenance": {}, "records": data}
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("provenance"), dict)
        or not isinstance(data.get("records"), list)
        or not all(isinstance(r, dict) for r in data["records"])
    ):
        raise BasesimError(
            f"{path}: must hold an object with a 'provenance' object and a 'records' list "
            "of objects"
        )
    return pd.DataFrame(data["records"]), data["provenance"]


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pandas as pd

    engine = _parquet_engine("path")
    try:
        if engine == "pyarrow":
            import pyarrow.parquet as pq

            frame = pd.read_parquet(path, engine="pyarrow")
            metadata = pq.read_schema(path).metadata or {}
            info = json.loads(metadata.get(PARQUET_KEY.encode(), b"{}"))
        else:  # pragma: no cover - only where fastparquet is installed and pyarrow is not
            import fastparquet

            parquet = fastparquet.ParquetFile(str(path))
            frame = parquet.to_pandas()
            info = json.loads(parquet.key_value_metadata.get(PARQUET_KEY, "{}"))
    except Exception as exc:  # a damaged file fails in the engine's own ways
        raise BasesimError(f"{path}: not a readable Parquet table ({exc})") from None
    return frame, dict(info)
