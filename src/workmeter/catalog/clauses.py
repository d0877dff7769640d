"""Model-matching clauses, stored as JSON in the catalog and evaluated here.

The clause language is genai-prices' (``equals``, ``starts_with``,
``ends_with``, ``contains``, ``regex``, ``or``, ``and``). Storing it with the
catalog version keeps model resolution reproducible: a version resolves model
strings the same way whatever genai-prices version is installed later.
Text comparisons are case-insensitive; ``regex`` runs on the lowered string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


def clause_to_json(clause: Any) -> Any:
    """A genai-prices clause object → plain JSON (``None`` stays ``None``)."""
    if clause is None:
        return None
    for attr, key in (("or_", "or"), ("and_", "and")):
        if hasattr(clause, attr):
            return {key: [clause_to_json(c) for c in getattr(clause, attr)]}
    for key in ("equals", "starts_with", "ends_with", "contains", "regex"):
        if hasattr(clause, key):
            return {key: getattr(clause, key)}
    raise ValueError(f"unknown match clause {clause!r}")


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches(clause: Any, text: str) -> bool:
    """Evaluate a JSON clause against ``text`` (already lower-cased by the caller)."""
    if clause is None:
        return False
    (key, value), = clause.items()
    if key == "or":
        return any(matches(c, text) for c in value)
    if key == "and":
        return all(matches(c, text) for c in value)
    if key == "regex":
        return _regex(value).search(text) is not None
    v = str(value).lower()
    if key == "equals":
        return text == v
    if key == "starts_with":
        return text.startswith(v)
    if key == "ends_with":
        return text.endswith(v)
    if key == "contains":
        return v in text
    raise ValueError(f"unknown match clause {key!r}")
