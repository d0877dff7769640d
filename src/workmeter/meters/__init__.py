"""Meters: named aggregations over events, computed at query time.

Public surface: :class:`MeterDef` and :func:`parse_meter` (definitions),
:data:`BUILTIN_METERS` (tokens per bucket, calls and rated cost of
``llm.usage``), :class:`MeterService` (store and query), and the SQL compiler
in :mod:`workmeter.meters.sql` used by billing to evaluate many meters in one scan.
"""

from __future__ import annotations

from workmeter.meters.model import AGGREGATIONS, BUILTIN_METERS, WINDOWS, FieldError, MeterDef, parse_meter
from workmeter.meters.service import MeterService, meter_value

__all__ = [
    "AGGREGATIONS",
    "BUILTIN_METERS",
    "WINDOWS",
    "FieldError",
    "MeterDef",
    "MeterService",
    "meter_value",
    "parse_meter",
]
