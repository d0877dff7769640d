"""Billing: customers, plans as code, subscriptions, credits, exact invoices, statements.

Public surface (imported lazily, so ``import workmeter.billing`` stays cheap):

* :class:`BillingService` — the facade ``Workmeter.billing`` returns;
* plans: :func:`load_plan_file`, :func:`load_plan_text`, :class:`PlanDef`;
* the charge registry: :func:`register_charge`, :class:`Charge`,
  :class:`ChargeContext`, :class:`Line`, :class:`Spec`, :func:`charge_types`
  (see :mod:`workmeter.billing.charges` for adding a charge model);
* :func:`register_source` — quantities from outside the ledger scan
  (e.g. work-unit outcomes) for charges that declare ``sources()``;
* :class:`Draft` (an invoice before numbering), :class:`Customer`,
  :class:`Period` and :func:`month_period`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "BillingService": "workmeter.billing.service",
    "load_plan_file": "workmeter.billing.plan_files",
    "load_plan_text": "workmeter.billing.plan_files",
    "PlanDef": "workmeter.billing.plans",
    "register_charge": "workmeter.billing.charges",
    "charge_types": "workmeter.billing.charges",
    "Charge": "workmeter.billing.charges.base",
    "ChargeContext": "workmeter.billing.charges.base",
    "Line": "workmeter.billing.charges.base",
    "Spec": "workmeter.billing.charges.base",
    "register_source": "workmeter.billing.collect",
    "Draft": "workmeter.billing.documents",
    "Customer": "workmeter.billing.customers",
    "Period": "workmeter.billing.periods",
    "month_period": "workmeter.billing.periods",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(module), name)
