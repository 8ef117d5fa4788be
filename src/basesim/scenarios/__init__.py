"""Bundled scenarios and loading scenario files."""

from __future__ import annotations

import difflib
from importlib import resources
from os import PathLike
from pathlib import Path

from basesim.exceptions import ScenarioError
from basesim.scenario import Scenario
from basesim.scenarios.toml_io import read_scenario_text

__all__ = ["list_scenarios", "load_scenario", "save_scenario"]


def list_scenarios() -> list[str]:
    """Names of the scenarios bundled with basesim.

    Examples
    --------
    >>> "syria-2025" in list_scenarios()
    True
    """
    folder = resources.files("basesim.scenarios")
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str | PathLike[str]) -> Scenario:
    """Load a bundled scenario by name, or a scenario file by path.

    Parameters
    ----------
    name_or_path
        A bundled scenario's name (see :func:`list_scenarios`) or the path of
        a ``.toml`` scenario file.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        If the name is unknown, the file is missing, or the file breaks a
        rule of the format (the message names the file and the field).

    Examples
    --------
    >>> scn = load_scenario("syria-2025")
    >>> scn.issue_names
    ('basing', 'sanctions_relief')
    """
    text_name = str(name_or_path)
    path = Path(text_name)
    is_path = isinstance(name_or_path, PathLike) or text_name.endswith(".toml") or "/" in text_name
    if not is_path:
        bundled = list_scenarios()
        if text_name not in bundled:
            close = difflib.get_close_matches(text_name, bundled, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ScenarioError(
                f"no bundled scenario called {text_name!r}{hint}; bundled scenarios are "
                f"{', '.join(bundled)}, or pass the path of a .toml file"
            )
        resource = resources.files("basesim.scenarios").joinpath(f"{text_name}.toml")
        return read_scenario_text(resource.read_text(encoding="utf-8"), source=f"{text_name}.toml")
    try:
        if path.is_dir():
            raise ScenarioError(f"scenario path {text_name!r} is a folder, not a .toml file")
        if not path.exists():
            raise ScenarioError(f"scenario file {text_name!r} does not exist")
        if not path.is_file():
            raise ScenarioError(f"scenario path {text_name!r} is not a regular file")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"scenario file is not UTF-8 text ({exc.reason})", source=text_name
        ) from None
    except OSError as exc:
        raise ScenarioError(
            f"scenario file {text_name!r} cannot be read ({exc.strerror or exc})"
        ) from None
    if not text.strip():
        raise ScenarioError("scenario file is empty", source=text_name)
    return read_scenario_text(text, source=text_name)


def save_scenario(scenario: Scenario, path: str | PathLike[str]) -> Path:
    """Write ``scenario`` to a TOML file atomically and return its path."""
    from basesim._io import write_text_atomic

    return write_text_atomic(Path(path), scenario.to_toml())
