"""Forms by field name: how a snapshot value becomes plain data and back, generic over its fields.

Every form is made from `dataclasses.fields` and each field's metadata, never from a hand-written
list of names, so a field added to a snapshot class is serialised unless someone marked it not to
be. snapshot.py names the forms (canonical, stored); this module only knows fields.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

# How a field is serialised, as its dataclass metadata; an unmarked field is in the canonical form
# (fingerprints, schema_state, the lock file, the cache) by its own name, always.
# - WHEN_SET: added after the core, so in the canonical form only when not at its default: every
#   fingerprint, golden file and stored schema_state row of a schema without it stays byte-identical.
# - SERVER: not compared, so outside the canonical form; the stored form (lock file, target cache)
#   keeps it beside it, because rendering needs it (the server's own names). SERVER_NAME is one
#   that a reader takes to be the item's `name` when the stored form does not list it.
# - NOT_STORED: never serialised: SQLAlchemy's type object, declarations read from the models on
#   every run, what only the live side has.
# Every field that is not compared is SERVER or NOT_STORED (tests/test_pure.py checks it), so a new
# field is serialised unless someone decided it is not.
ALWAYS, WHEN_SET_FORM, SERVER_FORM, NOT_STORED_FORM = "always", "when set", "server", "not stored"
WHEN_SET = types.MappingProxyType({"form": WHEN_SET_FORM})
SERVER = types.MappingProxyType({"form": SERVER_FORM})
SERVER_NAME = types.MappingProxyType({"form": SERVER_FORM, "absent": "name"})
NOT_STORED = types.MappingProxyType({"form": NOT_STORED_FORM})


def deep_list(value: Any) -> Any:
    return [deep_list(v) for v in value] if isinstance(value, (tuple, list)) else value


def deep_tuple(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple([deep_tuple(v) if isinstance(v, (tuple, list)) else v for v in value])
    return value


@dataclass(frozen=True)
class Field:
    """How one field is written and read: its form (ALWAYS, or a marker's), its default, and the
    snapshot class its values are (None: plain values, kept as they are or as nested tuples)."""

    name: str
    form: str
    default: Any
    item: type | None
    many: bool
    scalar: bool
    absent: str | None


@cache
def form(cls: type) -> tuple[Field, ...]:
    """The fields of a snapshot class in canonical order: `CANONICAL_FIRST`, then as declared."""
    hints = get_type_hints(cls)
    first: tuple[str, ...] = getattr(cls, "CANONICAL_FIRST", ())
    ordered = sorted(fields(cls), key=lambda f: first.index(f.name) if f.name in first else len(first))
    return tuple(
        Field(f.name, f.metadata.get("form", ALWAYS), None if f.default is MISSING else f.default, _item_class(hints[f.name]), get_origin(hints[f.name]) is tuple,
               _is_scalar(hints[f.name]), f.metadata.get("absent"))
        for f in ordered
    )


def _item_class(hint: Any) -> type | None:
    """The snapshot class inside `X`, `X | None` or `tuple[X, ...]`; None for plain values."""
    if is_dataclass(hint):
        return hint  # type: ignore[return-value]
    if get_origin(hint) in (Union, types.UnionType, tuple):
        return next((found for arg in get_args(hint) if (found := _item_class(arg)) is not None), None)
    return None


def _is_scalar(hint: Any) -> bool:
    if get_origin(hint) in (Union, types.UnionType):
        return all(_is_scalar(arg) for arg in get_args(hint))
    return hint in (str, int, bool, type(None))


def to_dict(item: Any) -> dict[str, Any]:
    """The canonical form of a snapshot value: its compared fields by name (WHEN_SET ones only when set)."""
    data = {}
    kind: type = type(item)  # plain `type`: mypy does not see type[Any] as Hashable (@cache's key)
    for name, when_set, default, plain in _writer(kind):
        value = getattr(item, name)
        if not when_set or value != default:
            data[name] = value if plain is None else plain(value)
    return data


@cache
def _writer(cls: type) -> tuple[tuple[str, bool, Any, Any], ...]:
    """Per canonical field: name, whether only when set, default, and how to make its value plain
    (None: it is already; fingerprints make 130,000 column dicts at 5,000 tables)."""
    return tuple((f.name, f.form == WHEN_SET_FORM, f.default, None if f.scalar else _plain_maker(f)) for f in form(cls) if f.form in (ALWAYS, WHEN_SET_FORM))


def _plain_maker(spec: Field) -> Any:
    if spec.item is None:
        return deep_list
    if spec.many:
        return lambda items: [to_dict(item) for item in items]
    return lambda item: None if item is None else to_dict(item)


def plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return to_dict(value) if is_dataclass(value) else value


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """A snapshot value from its canonical (or stored) form; a key that is no field is a TypeError."""
    readers = _readers(cls)
    if readers:
        data = dict(data)
        for name, spec in readers:
            if name in data:
                data[name] = read(spec, data[name])
    return cls(**data)


@cache
def _readers(cls: type) -> tuple[tuple[str, Field], ...]:
    """The fields whose stored values need converting (lists to tuples, dicts to snapshot values)."""
    return tuple((f.name, f) for f in form(cls) if not f.scalar)


def read(spec: Field, value: Any) -> Any:
    if spec.item is None or value is None:
        return deep_tuple(value)
    if spec.many:
        return tuple(from_dict(spec.item, v) for v in value)
    return from_dict(spec.item, value)
