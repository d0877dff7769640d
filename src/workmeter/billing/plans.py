"""Plans: a currency, meters, charges, an optional commitment and billing threshold.

The document shape (a TOML file, see :mod:`workmeter.billing.plan_files`)::

    [plan]                 key, name, currency, interval = "month", description
    [[meter]]              meters the charges read (built-in meters need no table)
    [[charge]]             key, type, name, ... (fields of the charge type)
    [commitment]           minimum / maximum on Σ usage charges per period
    [progressive_billing]  threshold: issue an interim invoice when unbilled usage reaches it

Rules checked here: known sections and fields, unique meter and charge keys,
every charge's meter defined (in the plan or built in), rated-cost charges
only in USD plans (the catalog prices in USD and workmeter does not convert),
``minimum ≤ maximum``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from workmeter.billing.charges import Charge, Spec, parse_charge
from workmeter.meters.model import BUILTIN_METERS, FieldError, MeterDef, parse_meter

SECTIONS = frozenset({"plan", "meter", "charge", "commitment", "progressive_billing"})
_PLAN_FIELDS = frozenset({"key", "name", "currency", "interval", "description"})


@dataclass(frozen=True, slots=True)
class PlanError:
    """One problem in a plan document: which section (and item), which field, what."""

    section: str
    index: int | None
    field: str
    message: str
    label: str = ""

    def text(self) -> str:
        item = f" {self.label!r}" if self.label else ""
        return f"{self.section}{item}: field {self.field!r}: {self.message}"


@dataclass(frozen=True)
class PlanDef:
    key: str
    name: str
    currency: str
    interval: str
    description: str
    meters: tuple[MeterDef, ...]
    charges: tuple[Charge, ...]
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    threshold: Decimal | None = None
    document: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def content_hash(self) -> str:
        return document_hash(self.document)

    def meter(self, key: str) -> MeterDef:
        for m in self.meters:
            if m.key == key:
                return m
        return BUILTIN_METERS[key]

    @property
    def uses_cost(self) -> bool:
        return any(c.uses_cost for c in self.charges)


def jsonable(value: Any) -> Any:
    """A TOML document as plain JSON values (dates as ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def document_hash(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def parse_plan(document: Mapping[str, Any]) -> tuple[PlanDef | None, list[PlanError]]:
    """Validate a plan document; return the plan, or None and every error found."""
    errors: list[PlanError] = []
    doc = jsonable(document)
    for name in sorted(set(doc) - SECTIONS):
        errors.append(PlanError(name, None, name, f"unknown section (known: {', '.join(sorted(SECTIONS))})"))
    head = _head(doc.get("plan"), errors)
    meters = _items(doc, "meter", parse_meter, errors)
    charges = _items(doc, "charge", parse_charge, errors)
    _check_refs(head, meters, charges, errors)
    minimum, maximum = _commitment(doc.get("commitment", {}), errors)
    threshold = _single(doc.get("progressive_billing", {}), "progressive_billing", "threshold", errors)
    if errors or head is None:
        return None, errors
    plan = PlanDef(head["key"], head["name"], head["currency"], head["interval"], head["description"],
                   tuple(m for _, m in meters), tuple(c for _, c in charges), minimum, maximum, threshold, doc)
    return plan, []


def _head(raw: Any, errors: list[PlanError]) -> dict[str, str] | None:
    if not isinstance(raw, Mapping):
        errors.append(PlanError("plan", None, "plan", "a [plan] table with key and currency is required"))
        return None
    try:
        spec = Spec(raw, _PLAN_FIELDS)
        key = spec.text("key")
        currency = spec.text("currency")
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise FieldError("currency", f"{currency!r} is not an ISO 4217 code like USD")
        interval = spec.choice("interval", ("month",), "month")
        name = spec.text("name", default=key)
        description = str(raw.get("description", ""))
    except FieldError as exc:
        errors.append(PlanError("plan", None, exc.field, exc.message))
        return None
    return {"key": key, "name": name, "currency": currency, "interval": interval, "description": description}


def _items(doc: Mapping[str, Any], section: str, parse: Any, errors: list[PlanError]) -> list[tuple[int, Any]]:
    raw = doc.get(section, [])
    if not isinstance(raw, list):
        errors.append(PlanError(section, None, section, f"use [[{section}]] tables"))
        return []
    out: list[tuple[int, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        label = str(item.get("key", "")) if isinstance(item, Mapping) else ""
        try:
            parsed = parse(item)
        except FieldError as exc:
            errors.append(PlanError(section, i, exc.field, exc.message, label))
            continue
        if parsed.key in seen:
            errors.append(PlanError(section, i, "key", f"duplicate {section} key {parsed.key!r}", label))
        seen.add(parsed.key)
        out.append((i, parsed))
    return out


def _check_refs(head: dict[str, str] | None, meters: list[tuple[int, MeterDef]],
                charges: list[tuple[int, Charge]], errors: list[PlanError]) -> None:
    known = {m.key for _, m in meters} | set(BUILTIN_METERS)
    for i, m in meters:
        if m.key in BUILTIN_METERS:
            errors.append(PlanError("meter", i, "key", f"{m.key!r} is a built-in meter; pick another key", m.key))
    for i, c in charges:
        for key in sorted(c.meters() - known):
            errors.append(PlanError("charge", i, "meter", f"no meter {key!r} in this plan or built in", c.key))
        if c.uses_cost and head is not None and head["currency"] != "USD":
            errors.append(PlanError("charge", i, "type", f"{c.type!r} bills rated cost, which is in USD; "
                                    f"this plan is in {head['currency']}", c.key))


def _commitment(raw: Any, errors: list[PlanError]) -> tuple[Decimal | None, Decimal | None]:
    minimum = _single(raw, "commitment", "minimum", errors, allowed=("minimum", "maximum"))
    maximum = _single(raw, "commitment", "maximum", errors, allowed=("minimum", "maximum"), report_unknown=False)
    if minimum is not None and maximum is not None and minimum > maximum:
        errors.append(PlanError("commitment", None, "maximum", "must be at least the minimum"))
    return minimum, maximum


def _single(raw: Any, section: str, name: str, errors: list[PlanError], allowed: tuple[str, ...] = (),
            report_unknown: bool = True) -> Decimal | None:
    if not isinstance(raw, Mapping):
        errors.append(PlanError(section, None, section, "must be a table"))
        return None
    if report_unknown:
        for extra in sorted(set(raw) - set(allowed or (name,))):
            errors.append(PlanError(section, None, extra, f"unknown field (known: {', '.join(allowed or (name,))})"))
    if name not in raw:
        return None
    try:
        return Spec.decimal_value(name, raw[name], positive=True)
    except FieldError as exc:
        errors.append(PlanError(section, None, exc.field, exc.message))
        return None
