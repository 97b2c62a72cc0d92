"""Spelling rules more than one dialect applies to both sides of a comparison (docs/normalisation.md).

The target is built by the same server as the live schema, so most spellings agree. These rules
cover what still differs when the live schema was made another way (by hand, by another tool, by
an earlier version of the models): the server keeps or reprints what it was given.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import types as sqltypes

from schemasync.snapshot import Column

# An optional cast after a value: PostgreSQL writes '5'::double precision, '1000'::numeric(10,2).
_CAST = re.compile(r"::\s*[a-z][a-z ]*(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)


def is_numeric(type_object: Any) -> bool:
    """Whether a reflected type holds numbers (integers, decimals, floats): a default's spelling then does not matter."""
    return isinstance(type_object, sqltypes.TypeEngine) and issubclass(type_object._type_affinity or type(None), (sqltypes.Integer, sqltypes.Numeric, sqltypes.Float))


def numeric_literal(default: str) -> str | None:
    """The canonical text of a default that is one number however it is spelled (`5`, `5.0`, `'5'`,
    `(-1)`, `'5'::double precision`, `'1000'::numeric`): `5`, `-1`, `0.5`, `1000`; None for anything else."""
    text = default.strip()
    for _ in range(4):  # a few layers of parentheses, quotes and casts, in any order
        stripped = _CAST.sub("", text).strip()
        if stripped[:1] == "(" and stripped[-1:] == ")":
            stripped = stripped[1:-1].strip()
        if len(stripped) > 1 and stripped[0] == stripped[-1] == "'":
            stripped = stripped[1:-1].strip()
        if stripped == text:
            break
        text = stripped
    if not _NUMBER.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def with_numeric_default(column: Column) -> Column:
    """A numeric column's default as one canonical number (`5`, not `5.0` nor `'5'::double precision`).
    The text stays valid SQL for that column on every dialect, so plans can still render it."""
    if column.default is None or not is_numeric(column.type_object):
        return column
    canonical = numeric_literal(column.default)
    return column if canonical is None or canonical == column.default else replace(column, default=canonical)
