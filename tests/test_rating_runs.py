"""Re-rating: a catalog change re-prices only through a recorded run; old runs stay auditable."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from test_rating_view import insert
from workmeter.app import Workmeter

CHEAPER = """
[book]
name = "contract"
[[model]]
provider = "anthropic"
model = "claude-3-7-sonnet-latest"
prices = { input_mtok = "1", output_mtok = "5" }
"""


def costs(wm: Workmeter, source: str = "rated_events") -> dict[str, Decimal]:
    wm.rater.refresh()
    return dict(wm.db.read().execute(f"SELECT id, cost FROM {source} ORDER BY id").fetchall())


def test_rerate_records_a_run_and_keeps_the_old_one(wm: Workmeter, tmp_path: Path) -> None:
    m = "claude-3-7-sonnet-20250219"
    insert(wm, [(1, "c", "2025-05-01T00:00:00Z", "anthropic", m, None, 10**6, 0, 0, 0, 10**6, 0, 0),
                (2, "c", "2025-07-01T00:00:00Z", "anthropic", m, None, 10**6, 0, 0, 0, 10**6, 0, 0)])
    list_prices = {"1": Decimal(18), "2": Decimal(18)}  # $3 + $15
    assert costs(wm) == list_prices
    first = wm.rater.current_run()

    book = tmp_path / "contract.toml"
    book.write_text(CHEAPER)
    new = wm.catalog.sync([book])
    assert new.created
    assert costs(wm) == list_prices  # a new catalog alone re-prices nothing

    run = wm.rater.rerate(datetime(2025, 6, 1, tzinfo=UTC), None, new.version, "contract from June")
    assert run.run_id == first.run_id + 1
    assert costs(wm) == {"1": Decimal(18), "2": Decimal(6)}  # only [June, ∞) re-priced
    assert costs(wm, f"rated_events_for_run({first.run_id})") == list_prices  # the old run, as it was
    versions = dict(wm.db.read().execute("SELECT id, catalog_version FROM rated_events").fetchall())
    assert versions == {"1": first.catalog_version, "2": new.version}

    # a key first seen after the rerate is priced under every run
    insert(wm, [(3, "c", "2025-07-01T00:00:00Z", "anthropic", "claude-3-7-sonnet-latest", None,
                 10**6, 0, 0, 0, 0, 0, 0)])
    assert costs(wm)["3"] == Decimal(1)
    assert costs(wm, f"rated_events_for_run({first.run_id})")["3"] == Decimal(3)


def test_same_catalog_version_gives_identical_results(wm: Workmeter) -> None:
    insert(wm, [(i, "c", f"2025-0{1 + i % 9}-15T0{i % 10}:00:00Z", "openai", "o3", None, 1234 * i, 17 * i, 0, 0,
                 999 * i, 0, i % 2) for i in range(1, 40)])
    before = costs(wm)
    wm.rater.rerate(None, None, wm.rater.current_run().catalog_version, "same version again")
    assert costs(wm) == before
    assert len(wm.rater.runs()) == 2


def test_concurrent_refreshes_card_each_key_once(wm: Workmeter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    models = ["gpt-4o", "o3", "gpt-5", "gpt-4o-mini", "o1", "gpt-4.1", "unknown-a", "unknown-b"]
    rater = wm.rater
    insert(wm, [(i + 1, "c", "2025-07-01T00:00:00Z", "openai", m, None, 1000, 0, 0, 0, 0, 0, 0)
                for i, m in enumerate(models)])
    with ThreadPoolExecutor(4) as pool:
        new = sum(pool.map(lambda _: rater.refresh(), range(8)))
    assert new == len(models)
    rows = wm.db.read().execute("SELECT count(*), count(DISTINCT id) FROM rated_events").fetchone()
    assert rows == (len(models), len(models))  # one card row per event: nothing doubled
