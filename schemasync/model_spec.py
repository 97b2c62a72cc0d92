"""Where the models are: a `--models` spec read and followed to the object it names.

A spec is `module[:path]`, or several of them separated by commas (a list in YAML is the same). The
path is a small expression over the module's names, as applications write them: dotted attributes
(`db.Model`, `db.metadata`), calls with literal arguments (`create_app()`, `create_app("testing")`)
and subscripts (`db.metadatas[audit]`, a bare word being a string key). Nothing else is evaluated.
A package may also be imported whole (`models_package`): every submodule, so that every model class
registers on its Base, as a FastAPI-style `app/models/` package whose `__init__` imports none of them
needs.

assumptions: the user's code is imported and called here; whatever it raises becomes one line
naming the spec.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from schemasync.errors import ModelsError


def split_specs(models: str) -> list[str]:
    """`a:Base, b:db.metadatas[x]` as its specs: commas inside brackets or quotes do not split."""
    specs, depth, quote, current = [], 0, "", ""
    for char in models:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            specs.append(current.strip())
            current = ""
            continue
        current += char
    specs.append(current.strip())
    return [spec for spec in specs if spec]


def follow(module: Any, path: str, spec: str) -> Any:
    """The object `path` names in `module` (attributes, literal calls, subscripts), or one line why not."""
    try:
        tree = ast.parse(path.strip(), mode="eval").body
    except SyntaxError:
        raise ModelsError(f"models '{spec}': '{path}' is not a name path like db.Model, create_app() or db.metadatas[name]") from None
    return _evaluate(tree, module, spec)


def _evaluate(node: ast.expr, module: Any, spec: str) -> Any:
    """One step of the path; only names, attributes, calls with literal arguments and subscripts."""
    if isinstance(node, ast.Name):
        return _attribute(module, node.id, f"module '{getattr(module, '__name__', '?')}'", spec)
    if isinstance(node, ast.Attribute):
        owner = _evaluate(node.value, module, spec)
        return _attribute(owner, node.attr, ast.unparse(node.value), spec)
    if isinstance(node, ast.Call):
        return _call(_evaluate(node.func, module, spec), node, spec)
    if isinstance(node, ast.Subscript):
        return _item(_evaluate(node.value, module, spec), node, spec)
    raise ModelsError(f"models '{spec}': '{ast.unparse(node)}' is not a name path like db.Model, create_app() or db.metadatas[name]")


def _attribute(owner: Any, name: str, shown: str, spec: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise ModelsError(f"models '{spec}': {shown} has no attribute '{name}'") from None
    except Exception as error:  # noqa: BLE001  (a property of the user's object may raise anything)
        raise ModelsError(f"models '{spec}': reading {shown}.{name} raised {describe(error)}") from None


def _call(function: Any, node: ast.Call, spec: str) -> Any:
    shown = ast.unparse(node)
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except ValueError:
        raise ModelsError(f"models '{spec}': {shown}: only literal arguments (strings, numbers) can be passed") from None
    if not callable(function):
        raise ModelsError(f"models '{spec}': {ast.unparse(node.func)} cannot be called")
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return function(*args, **kwargs)
    except SystemExit as error:
        raise ModelsError(f"models '{spec}': {shown} called sys.exit({error.code!r})") from None
    except Exception as error:  # noqa: BLE001  (an application factory may raise anything)
        raise ModelsError(f"models '{spec}': {shown} raised {describe(error)}") from None


def _item(owner: Any, node: ast.Subscript, spec: str) -> Any:
    """`x[name]` (a bare word is a string key), `x['name']`, `x[None]`."""
    key_node = node.slice
    key = key_node.id if isinstance(key_node, ast.Name) and key_node.id != "None" else None
    if key is None:
        try:
            key = ast.literal_eval(key_node)
        except ValueError:
            raise ModelsError(f"models '{spec}': {ast.unparse(node)}: the key must be a word or a literal") from None
    try:
        return owner[key]
    except (KeyError, IndexError):
        known = ", ".join(sorted(map(repr, owner))) if isinstance(owner, dict) else ""
        raise ModelsError(f"models '{spec}': {ast.unparse(node.value)} has no item {key!r}{f' (it has {known})' if known else ''}") from None
    except TypeError:
        raise ModelsError(f"models '{spec}': {ast.unparse(node.value)} cannot be subscripted") from None


def import_package(package: str, search_path: Path) -> list[Any]:
    """Import `package` and every module under it (sorted by name): their models register as they import."""
    with on_sys_path(search_path):
        root = import_module(package, search_path, "models_package")
        found = [root]
        where = getattr(root, "__path__", None)
        if where is None:
            raise ModelsError(f"models_package '{package}' is a module, not a package: use --models {package}:Base")
        names = sorted(info.name for info in pkgutil.walk_packages(where, prefix=f"{package}.", onerror=_walk_error(package)))
        found += [import_module(name, search_path, "models_package") for name in names]
        return found


def _walk_error(package: str) -> Any:
    def raise_one_line(name: str) -> None:
        error = sys.exc_info()[1]
        raise ModelsError(f"models_package '{package}': importing {name} failed: {describe(error) if error else 'unknown error'}")
    return raise_one_line


@contextlib.contextmanager
def on_sys_path(search_path: Path) -> Iterator[str]:
    """`search_path` first on sys.path while the user's modules import."""
    folder = str(search_path.resolve())
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield folder
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)


def import_module(module_name: str, search_path: Path, what: str = "models module") -> Any:
    """Import the user's module; whatever it raises becomes one line naming the module."""
    with on_sys_path(search_path) as folder:
        try:
            importlib.invalidate_caches()
            # What the module prints goes to stderr, so `plan --json` and `--sql` stay parseable.
            with contextlib.redirect_stdout(sys.stderr):
                return importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name or module_name.startswith(f"{error.name}."):
                raise ModelsError(f"cannot import {what} '{module_name}' (looked in {folder} and sys.path)") from None
            raise ModelsError(f"error importing {what} '{module_name}': {describe(error)}") from None
        except SyntaxError as error:
            raise ModelsError(f"error importing {what} '{module_name}': {describe(error)}") from None
        except SystemExit as error:
            raise ModelsError(f"{what} '{module_name}' called sys.exit({error.code!r}) while being imported") from None
        except ModelsError:
            raise
        except Exception as error:  # noqa: BLE001  (the user's module may raise anything at import time)
            raise ModelsError(f"error importing {what} '{module_name}': {describe(error)}") from None


def describe(error: BaseException) -> str:
    """`Type: first line`; a syntax error says which file and line."""
    if isinstance(error, SyntaxError):
        where = f"{error.filename}, line {error.lineno}" if error.filename else f"line {error.lineno}"
        return f"{type(error).__name__} in {where}: {error.msg}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
