"""Charge models: one module each, registered by ``type`` name.

=================  ===========================================================
type               bills
=================  ===========================================================
``flat``           a fixed fee per period, in advance or in arrears, prorated by day
``per_unit``       meter value × unit price (after an included allowance)
``graduated``      each unit at the price of the tier it falls in
``volume``         every unit at the price of the tier the total falls in
``package``        per started package of N units (rounded up)
``percentage``     a percent of rated provider cost
``markup``         rated provider cost × (1 + percent / 100)
``per_token``      a price per token bucket for a model group ($4 per 1M input on any Sonnet)
``discount``       a percent or fixed reduction of other lines, optionally until a date
=================  ===========================================================

Adding a charge model is one module and one registration::

    # billing/charges/per_outcome.py
    from workmeter.billing.charges.base import Charge, ChargeContext, Line, Spec
    from workmeter.billing.charges import register_charge

    @register_charge
    class PerOutcome(Charge):
        type = "per_outcome"
        fields = frozenset({"outcome", "unit_price"})
        def __init__(self, key, name, spec): ...
        def sources(self): return {"outcomes:" + self.outcome}   # see billing.collect.register_source
        def lines(self, ctx): ...

and its module name added to :data:`BUILTIN_MODULES` (or imported by the
package that owns it before plans are applied).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from workmeter.billing.charges.base import COMMON_FIELDS, LINE_KINDS, Charge, ChargeContext, Line, Spec
from workmeter.meters.model import FieldError

#: name → charge class. Open: :func:`register_charge` adds to it.
CHARGE_TYPES: dict[str, type[Charge]] = {}

#: Modules of this package imported (and so registered) on first use.
BUILTIN_MODULES: tuple[str, ...] = (
    "flat", "per_unit", "graduated", "volume", "package", "percentage", "markup", "per_token", "discount",
    "per_outcome",
)


def register_charge(cls: type[Charge]) -> type[Charge]:
    """Class decorator: make a charge model available to plans under ``cls.type``."""
    if not cls.type:
        raise TypeError(f"{cls.__name__} has no type name")
    existing = CHARGE_TYPES.get(cls.type)
    if existing is not None and existing is not cls:
        raise TypeError(f"charge type {cls.type!r} is already registered by {existing.__name__}")
    CHARGE_TYPES[cls.type] = cls
    return cls


def _load_builtins() -> None:
    for name in BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def charge_types() -> dict[str, type[Charge]]:
    _load_builtins()
    return dict(CHARGE_TYPES)


def parse_charge(spec: Mapping[str, Any]) -> Charge:
    """Build a charge from its TOML table; unknown types and bad fields raise FieldError."""
    types = charge_types()
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise FieldError("type", f"is required (one of {', '.join(sorted(types))})")
    cls = types.get(kind)
    if cls is None:
        raise FieldError("type", f"unknown charge type {kind!r} (known: {', '.join(sorted(types))})")
    return cls.parse(spec)


__all__ = [
    "BUILTIN_MODULES",
    "CHARGE_TYPES",
    "COMMON_FIELDS",
    "LINE_KINDS",
    "Charge",
    "ChargeContext",
    "Line",
    "Spec",
    "charge_types",
    "parse_charge",
    "register_charge",
]
