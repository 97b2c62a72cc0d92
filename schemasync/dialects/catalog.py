"""What a bulk catalog reader hands to reflection: one schema's tables, in the Inspector's shapes.

Each dialect reads its catalog in bulk (`dialects/<name>/catalog.py`:
one query per kind of object for all tables, not one per table) and fills a
`Catalog` with the same dictionaries SQLAlchemy's `Inspector.get_multi_*` would return, limited
to the keys `reflect.py` reads. `reflect.py` turns either into Tables with one piece of code, so
the two readers can only differ in what they read, and the tests compare them on every schema
the suite builds (tests/test_catalog.py).

Also here: the small text helpers the readers share (quote-aware parenthesis matching).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


@dataclass
class Catalog:
    """Per table name: columns, primary key, foreign keys, indexes, unique constraints, checks, comment."""

    columns: Rows = field(default_factory=dict)
    primary_keys: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    foreign_keys: Rows = field(default_factory=dict)
    indexes: Rows = field(default_factory=dict)
    uniques: Rows = field(default_factory=dict)
    checks: Rows = field(default_factory=dict)
    comments: dict[str, str | None] = field(default_factory=dict)
    # Per table: its options (as Inspector.get_table_options), and its triggers' SQL (SQLite).
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: dict[str, list[str]] = field(default_factory=dict)
    # Per table: PostgreSQL exclusion constraints ({"name", "definition"}), which the Inspector does not read.
    exclusions: Rows = field(default_factory=dict)

    @classmethod
    def empty(cls, names: Sequence[str], comments: dict[str, str | None]) -> Catalog:
        """Each of `names` with nothing read yet: the bulk readers fill in what their queries find."""
        return cls(
            columns={name: [] for name in names},
            primary_keys=dict.fromkeys(names),
            foreign_keys={name: [] for name in names},
            indexes={name: [] for name in names},
            uniques={name: [] for name in names},
            checks={name: [] for name in names},
            comments=comments,
        )


class Memo:
    """Parse each distinct catalog text once: 65,000 columns have a few dozen distinct types."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self._make = make
        self._seen: dict[Hashable, Any] = {}

    def __call__(self, *key: Hashable) -> Any:
        try:
            return self._seen[key]
        except KeyError:
            value = self._seen[key] = self._make(*key)
            return value


# Quoted literals whole (an unterminated one runs to the end), parentheses, and runs of anything else.
_PAREN_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|['"].*|[()]|[^'"()]+""", re.DOTALL)


def matching_paren(text: str, start: int) -> int | None:
    """Index of the `)` closing the `(` at `start`, skipping '...' and "..." literals (doubled quotes escape)."""
    depth = 0
    for token in _PAREN_TOKENS.finditer(text, start):
        if token.group() == "(":
            depth += 1
        elif token.group() == ")":
            depth -= 1
            if depth == 0:
                return token.start()
    return None


def strip_outer_parens(text: str) -> str:
    """`(a > 0)` -> `a > 0`; `(a) AND (b)` stays as it is (the parentheses do not wrap it all)."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == "(" and matching_paren(stripped, 0) == len(stripped) - 1:
        return stripped[1:-1]
    return text


def split_top_level(text: str) -> list[str]:
    """`a, f(b, c), 'x,y'` -> ['a', ' f(b, c)', " 'x,y'"]: commas outside parentheses and quotes."""
    parts, depth, current = [], 0, ""
    for token in _PAREN_TOKENS.finditer(text):
        value = token.group()
        depth += value == "("
        depth -= value == ")"
        if depth == 0 and value not in ("(", ")") and value[:1] not in "'\"" and "," in value:
            pieces = value.split(",")
            parts.append(current + pieces[0])
            parts.extend(pieces[1:-1])
            current = pieces[-1]
        else:
            current += value
    parts.append(current)
    return parts
