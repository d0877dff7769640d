"""Plan files: TOML a user keeps in git, validated with file, line and field.

``tomllib`` reports lines only for syntax errors, so for a semantic error the
loader finds the line itself: it walks the text tracking the current table
(``[plan]``, the n-th ``[[charge]]``, …) and points at the line where the
offending key is written (for ``tiers[1].up_to`` the line of ``tiers``; when
the key is missing, the table's header).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from workmeter.billing.plans import PlanDef, PlanError, parse_plan
from workmeter.core.errors import InvalidPlan

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_SYNTAX_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True)
class Located:
    file: str
    line: int
    error: PlanError

    def text(self) -> str:
        return f"{self.file}:{self.line}: {self.error.text()}"


def load_plan_text(text: str, file: str) -> PlanDef:
    """Parse and validate one plan file's text; raise :class:`InvalidPlan` listing every error."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _SYNTAX_LINE.search(str(exc))
        where = f"{file}:{match.group(1)}" if match else file
        raise InvalidPlan(f"{where}: TOML syntax: {exc}", where=where) from None
    plan, errors = parse_plan(document)
    if errors:
        located = [Located(file, locate(text, e.section, e.index, e.field), e) for e in errors]
        located.sort(key=lambda x: x.line)
        raise InvalidPlan("\n".join(x.text() for x in located), where=f"{file}:{located[0].line}")
    assert plan is not None
    return plan


def load_plan_file(path: str | Path) -> PlanDef:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidPlan(f"{p}: cannot read: {exc.strerror}", where=str(p)) from None
    return load_plan_text(text, str(p))


def locate(text: str, section: str, index: int | None, field: str) -> int:
    """The 1-based line of ``field`` inside the ``index``-th ``section`` table (best effort)."""
    key = re.split(r"[.\[]", field, maxsplit=1)[0]
    counts: dict[str, int] = {}
    current: tuple[str, int] | None = None
    header_line = 1
    fallback: int | None = None
    key_re = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match:
            current = _enter(match, counts, current)
            if current == (section, index if index is not None else 0):
                header_line = number
                fallback = fallback or number
            continue
        if current == (section, index if index is not None else 0) and key_re.match(line):
            return number
        if current is None and section == key and key_re.match(line):
            return number
    return fallback or header_line


def _enter(match: re.Match[str], counts: dict[str, int], current: tuple[str, int] | None) -> tuple[str, int]:
    """The (section, index) a header opens; sub-tables like [[charge.tiers]] stay in their parent."""
    brackets, name = match.group(1), match.group(2).replace('"', "").strip()
    top = name.split(".")[0]
    if "." in name and current is not None and current[0] == top:
        return current
    if brackets == "[[":
        counts[top] = counts.get(top, -1) + 1
        return top, counts[top]
    return top, 0
