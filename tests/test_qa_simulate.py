"""The pricing simulator refuses a customer it knows nothing about instead of pricing a typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_simulate import fresh, plan_files
from workmeter.app import Workmeter
from workmeter.core.errors import NotFound


def test_a_named_customer_without_events_or_account_is_not_found(tmp_path: Path) -> None:
    db = fresh(tmp_path)
    with Workmeter.open(db) as wm:
        plans = plan_files(tmp_path)[:1]
        with pytest.raises(NotFound, match="'acmee'"):
            wm.work.simulate(plans, "2026-10", customers=["acme", "acmee"])
        assert [r["customer"] for r in wm.work.simulate(plans, "2026-10", customers=["acme"])["customers"]] == ["acme"]
        wm.billing.add_customer("idle", "Idle Ltd", "USD", "UTC")  # known to billing, no events: priced (fees)
        [idle] = wm.work.simulate(plans, "2026-10", customers=["idle"])["customers"]
        assert (idle["cost"], idle["plans"]["flat"]["revenue"]) == (0, 20)
