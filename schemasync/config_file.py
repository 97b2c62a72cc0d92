"""The config file: found, read and checked against its JSON Schema (config.schema.json, published
as docs/config.schema.json for editors).

Two spellings of one mapping: `schemasync.yaml`, or `[tool.schemasync]` in `pyproject.toml`. Without
`--config`, each folder from the current one up to the repository root (the first folder holding
`.git`) is searched, `schemasync.yaml` first. Errors are one line naming the file and the key;
an unknown key gets a "did you mean" (difflib).
"""

from __future__ import annotations

import difflib
import functools
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from schemasync.errors import ConfigError

DEFAULT_CONFIG = "schemasync.yaml"
PYPROJECT = "pyproject.toml"
SCHEMA_FILE = Path(__file__).with_name("config.schema.json")


@functools.cache
def schema() -> dict[str, Any]:
    """The config's JSON Schema (draft 2020-12)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def known_keys() -> frozenset[str]:
    return frozenset(schema()["properties"])


def search_folders(cwd: Path) -> Iterator[Path]:
    """`cwd` and its parents, up to and including the first folder that holds `.git` (a repository root)."""
    folder = cwd.resolve()
    yield folder
    while not (folder / ".git").exists() and folder.parent != folder:
        folder = folder.parent
        yield folder


def find(cwd: Path) -> Path | None:
    """The nearest schemasync.yaml, or pyproject.toml with a [tool.schemasync] table."""
    for folder in search_folders(cwd):
        if (folder / DEFAULT_CONFIG).is_file():
            return folder / DEFAULT_CONFIG
        if (folder / PYPROJECT).is_file() and _tool_table(folder / PYPROJECT) is not None:
            return folder / PYPROJECT
    return None


def where_searched(cwd: Path) -> str:
    """Where `find` looked, for the error that says nothing was configured."""
    folders = list(search_folders(cwd))
    span = str(folders[0]) if len(folders) == 1 else f"{folders[0]} and its parents up to {folders[-1]}"
    return f"no {DEFAULT_CONFIG} or {PYPROJECT} with [tool.schemasync] in {span}"


def label(path: Path) -> str:
    """How errors name the file: `schemasync.yaml`, `pyproject.toml [tool.schemasync]`."""
    return f"{path.name} [tool.schemasync]" if path.suffix == ".toml" else path.name


def read(path: Path) -> dict[str, Any]:
    """The settings mapping in `path` (YAML, or a TOML file's [tool.schemasync]), checked against the schema."""
    if path.suffix == ".toml":
        data = _tool_table(path)
        if data is None:
            raise ConfigError(f"{path.name}: no [tool.schemasync] table")
    else:
        data = _read_yaml(path)
    validate(data, label(path))
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path.name}{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path.name}: not a UTF-8 text file") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping of settings at the top level")
    return dict(data)


def _tool_table(path: Path) -> dict[str, Any] | None:
    """pyproject.toml's [tool.schemasync], or None when it has none."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    table = document.get("tool", {}).get("schemasync")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path.name}: tool.schemasync must be a table of settings")
    return table


# --- the schema check -------------------------------------------------------------------------------


def validate(data: dict[str, Any], source: str) -> None:
    """Unknown keys and values of the wrong type, as one line; ranges, durations and hazard names are
    checked where each value is read (config.py), after `${VAR}` expansion."""
    properties = schema()["properties"]
    unknown = sorted(set(map(str, data)) - set(properties))
    if unknown:
        raise ConfigError(f"{source}: unknown key '{unknown[0]}'{did_you_mean(unknown[0], properties)} (known: {', '.join(sorted(properties))})")
    for key, value in data.items():
        expected = properties[key].get("type")
        if expected and not _expandable(value) and not _has_type(value, expected):
            raise ConfigError(f"{source}: config key {key} must be {_described(properties[key])}")


def did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _expandable(value: Any) -> bool:
    """A `${VAR}` string: its type is known only once the environment fills it in."""
    return isinstance(value, str) and "${" in value


_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float), "array": (list,), "object": (dict,)}


def _has_type(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    for name in names:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, _TYPES[name]):
            return True
    return False


_PHRASES = {"string": "a string", "boolean": "true or false", "integer": "a whole number", "number": "a number", "array": "a list", "object": "a mapping"}


def _described(property_schema: dict[str, Any]) -> str:
    """The schema's type in the words the one-line errors use."""
    expected = property_schema["type"]
    if expected == "array":
        return "a list of strings" if property_schema.get("items", {}).get("type") == "string" else "a list"
    if expected == "integer" and "minimum" in property_schema:
        return f"a whole number ({property_schema['minimum']} or more)"
    if expected == "number" and "exclusiveMinimum" in property_schema:
        return "a number of seconds"
    names = [expected] if isinstance(expected, str) else expected
    of_strings = property_schema.get("items", {}).get("type") == "string"
    return " or ".join("a list of strings" if name == "array" and of_strings else _PHRASES.get(name, f"a {name}") for name in names)
