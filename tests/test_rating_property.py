"""Property: the set-based rater (``rated_events``) equals the reference rater to the last digit.

Hypothesis generates catalogs (dated rows, time-of-day windows, whole-request
tiers with strict and inclusive thresholds, missing prices, prices finer than
18 decimals per token) and events placed on and around every boundary.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmeter.app import Workmeter
from workmeter.catalog import store as catalog_store
from workmeter.catalog.model import (
    DAY_US,
    IN_MAX,
    MAX_TIME,
    MIN_TIME,
    Catalog,
    ModelEntry,
    PriceRow,
    ProviderEntry,
)
from workmeter.normalize.buckets import Buckets
from workmeter.rating.keyed import current_layout, fill_cells
from workmeter.rating.reference import rate_segments
from workmeter.store.schema import FILL_RATE_KEYS, cell_sql

BASE = datetime(2025, 3, 1, tzinfo=UTC)
BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "web_search")
COUNTER = itertools.count()

prices = st.integers(0, 15).flatmap(lambda k: st.none() if k == 0 else st.one_of(
    st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0.041666666666666664"), Decimal("3.75"), Decimal("0.0625"), Decimal("1e-12")])))
full_prices = st.one_of(  # every bucket priced: no per-event check, so the integer fast path runs
    st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0.041666666666666664"), Decimal("3.75"), Decimal("1e-12"), Decimal("1e-13")]))
offsets = st.integers(min_value=-3 * 86_400_000_000, max_value=3 * 86_400_000_000)


@st.composite
def model_rows(draw: st.DrawFn, provider: str, model: str, tier: str, full: bool = False) -> list[PriceRow]:
    """A full partition of time × day × request size, with a random gap in time."""
    cuts = sorted({BASE + timedelta(microseconds=o) for o in draw(st.lists(offsets, max_size=2))})
    times = [MIN_TIME, *cuts, MAX_TIME]
    tods = sorted({0, *draw(st.lists(st.integers(1, DAY_US - 1), max_size=2))})
    ins = sorted({0, *draw(st.lists(st.integers(1, 2000), max_size=2))})
    hole = draw(st.integers(-3, len(times) - 2))  # sometimes one time span left unpriced
    rows = []
    for (a, b) in itertools.pairwise(times):
        if times.index(a) == hole:
            continue
        for (ta, tb) in itertools.pairwise([*tods, DAY_US]):
            for (ia, ib) in itertools.pairwise([*ins, IN_MAX]):
                p = (*tuple(draw(full_prices if full else prices) for _ in BUCKETS),
                     draw(st.sampled_from([None, Decimal(5000)])))
                rows.append(PriceRow(provider, model, tier, a, b, p, ta, tb, ia, ib, "test"))
    return rows


@st.composite
def catalogs(draw: st.DrawFn, full: bool = False) -> tuple[Catalog, list[PriceRow]]:
    n = next(COUNTER)
    provider = f"acme{n}"
    rows = draw(model_rows(provider, "m0", "standard", full)) + draw(model_rows(provider, "m0", "batch", full))
    cat = Catalog.build(f"test-{n}", [ProviderEntry(provider)], [ModelEntry(provider, "m0", {"equals": "m0"})], rows)
    return cat, rows


def _edges(rows: list[PriceRow]) -> tuple[list[datetime], list[int]]:
    times = {BASE} | {t for r in rows for t in (r.valid_from, r.valid_to) if t not in (MIN_TIME, MAX_TIME)}
    ins = {r.in_lo for r in rows} | {1000}
    instants = sorted({t + timedelta(microseconds=d) for t in times for d in (-1, 0, 1)})
    tods = sorted({r.tod_lo for r in rows})
    return [t + timedelta(microseconds=tod) - timedelta(microseconds=(t.hour * 3600 + t.minute * 60 + t.second)
                                                               * 1_000_000 + t.microsecond)
            for t in instants for tod in tods[:2]] + instants, sorted({max(0, i + d) for i in ins for d in (-1, 0, 1)})


@st.composite
def events(draw: st.DrawFn, provider: str, rows: list[PriceRow], huge: bool = False) -> list[dict[str, Any]]:
    instants, totals = _edges(rows)
    out = []
    for _ in range(draw(st.integers(4, 14))):
        total = draw(st.sampled_from(totals))
        cached = draw(st.integers(0, total))
        counts = {"input": total - cached, "cache_read": cached, "cache_write_5m": 0, "cache_write_1h": 0,
                  "output": draw(st.sampled_from([0, 1, 7, 999, 10**9, *([2**53 - 1] if huge else [])])),
                  "web_search": draw(st.sampled_from([0, 0, 3]))}
        if draw(st.booleans()):
            w = draw(st.integers(0, counts["input"]))
            counts["input"] -= w
            counts[draw(st.sampled_from(["cache_write_5m", "cache_write_1h"]))] = w
        out.append({"time": draw(st.sampled_from(instants)), "provider": provider,
                    "model": draw(st.sampled_from(["m0"] * 6 + ["M0", "unknown"])),
                    "tier": draw(st.sampled_from([None, None, "default", "batch", "batch", "flex"])), **counts})
    return out


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workmeter]:
    app = Workmeter.open(Path(tmp_path_factory.mktemp("prop")) / "p.duckdb")
    app.rater  # noqa: B018 — builds the list catalog and run 1 once
    yield app
    app.close()


def _insert(wm: Workmeter, evs: list[dict[str, Any]], prefix: str) -> None:
    base = wm.db.read().execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]  # type: ignore[index]
    with wm.db.write() as con:
        for i, e in enumerate(evs):
            con.execute("INSERT INTO events (seq, source, id, type, subject, time, provider, model, service_tier, "
                        "input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search) "
                        "VALUES (?, 'p', ?, 'llm.usage', 'c', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                        [base + i + 1, f"{prefix}-{i}", e["time"], e["provider"], e["model"], e["tier"],
                         *(e[b] for b in BUCKETS)])
        for stmt in FILL_RATE_KEYS:  # as the ledger gives them
            con.execute(stmt)
        fill_cells(con)  # and the price cells, under the layout stored now (new keys: their own number)


def _stale_cells(wm: Workmeter) -> int:
    """Stored cells that differ from the ones the current cards' layout gives."""
    cur = wm.db.read()
    layout = current_layout(cur)
    if layout is None:
        return 0
    row = cur.execute("SELECT count(*) FROM live_events WHERE type = 'llm.usage' AND rate_cell IS NOT NULL "
                      f"AND rate_cell <> {cell_sql(layout.branches())}").fetchone()
    return int(row[0]) if row else -1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_view_equals_reference_rater(shared: Workmeter, data: st.DataObject) -> None:
    wm = shared
    cat, rows = data.draw(catalogs())
    provider = cat.version.replace("test-", "acme")
    catalog_store.write_version(wm.db, cat, genai_version="test", content_hash=cat.version, books=[])
    start = data.draw(st.sampled_from([None, None, None, BASE, BASE + timedelta(microseconds=1)]))
    wm.rater.rerate(start, None, cat.version)  # [start, ∞) by this catalog; before: the list catalog
    evs = data.draw(events(provider, rows))
    _insert(wm, evs, cat.version)
    wm.rater.refresh()
    cur = wm.db.read()
    cur.execute("SELECT * FROM rated_events WHERE id LIKE ? ORDER BY seq", [f"{cat.version}-%"])
    names = [d[0] for d in cur.description]
    got = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    segments = wm.rater.segments()
    assert len(got) == len(evs)
    for e, row in zip(evs, got, strict=True):
        b = Buckets(**{k: e[k] for k in BUCKETS})
        ref = rate_segments(segments, e["provider"], e["model"], b, e["time"], e["tier"])
        assert row["unpriced_reason"] == ref.reason
        assert row["cost"] == ref.total
        assert row["priced"] is ref.priced
        amounts = {ln.bucket: ln.amount for ln in ref.lines}
        for bucket in (*BUCKETS, "request"):
            expected = (amounts.get(bucket, Decimal(0)) if ref.priced else None)
            assert row[f"cost_{bucket}"] == expected, bucket
        if ref.priced:
            assert row["catalog_version"] == ref.catalog_version


_SUMS = "count(*), " + ", ".join(f'sum("{b}")' for b in (*BUCKETS, "reasoning")) + ", sum(cost), " + ", ".join(
    f"sum(cost_{b})" for b in (*BUCKETS, "request"))
_KEYS = "subject, provider, model, service_tier, unpriced_reason, catalog_version, catalog_model, rating_run"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_summed_then_priced_equals_the_view(shared: Workmeter, data: st.DataObject) -> None:
    """``rated_usage`` (events summed per price row, then priced) == ``rated_events`` summed, to the digit."""
    from workmeter.rating.aggregate import cost_by, rated_usage

    wm = shared
    cat, rows = data.draw(catalogs())
    provider = cat.version.replace("test-", "acme")
    catalog_store.write_version(wm.db, cat, genai_version="test", content_hash=cat.version, books=[])
    wm.rater.rerate(data.draw(st.sampled_from([None, BASE])), None, cat.version)
    evs = data.draw(events(provider, rows))
    _insert(wm, evs, cat.version)
    wm.rater.refresh()
    late = data.draw(st.booleans())  # a model key the rater has not seen yet: "not rated yet"
    if late:
        _insert(wm, [{**evs[0], "model": f"new-{cat.version}", "tier": None}], f"{cat.version}-late")
    run = data.draw(st.sampled_from([None, 1]))
    source = "rated_events" if run is None else f"rated_events_for_run({run})"
    cur = wm.db.read()
    like = [f"{cat.version}-%"]
    view = cur.execute(f"SELECT {_KEYS}, {_SUMS} FROM {source} WHERE id LIKE ? GROUP BY ALL ORDER BY ALL",
                       like).fetchall()
    rated_usage(cur, "_t", {"subject": "e.subject"}, "id LIKE ?", like, bucket_costs=True, run_id=run)
    got = cur.execute(f"SELECT {_KEYS}, {_SUMS.replace('count(*)', 'sum(events)')} FROM _t "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == view
    assert sum(r[8] for r in got) == len(evs) + late
    by_subject = cur.execute(f"SELECT subject, count(*), sum(cost), count(*) FILTER (WHERE NOT priced) FROM {source} "
                             "WHERE id LIKE ? GROUP BY ALL ORDER BY ALL", like).fetchall()
    assert _stale_cells(wm) == 0  # every rating run and new key kept the stored cells current
    # prices picked by the stored integer cell, by the cell computed in the query, and by the string join
    for by_key, stored in ((True, True), (True, False), (False, True)):
        summed = cost_by(wm.db, ["subject"], "id LIKE ?", like, run_id=run, by_key=by_key, stored_cells=stored)
        assert [tuple(r.values()) for r in summed] == by_subject


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_cost_by_fast_path_equals_the_view(shared: Workmeter, data: st.DataObject) -> None:
    """``cost_by`` on fully priced rows (integer pass, plus the DECIMAL pass for sub-pico prices and
    products past 2^63 pico-dollars) == ``rated_events`` summed, to the digit."""
    from workmeter.rating.aggregate import cost_by

    wm = shared
    cat, rows = data.draw(catalogs(full=True))
    catalog_store.write_version(wm.db, cat, genai_version="test", content_hash=cat.version, books=[])
    wm.rater.rerate(data.draw(st.sampled_from([None, BASE])), None, cat.version)
    evs = data.draw(events(cat.version.replace("test-", "acme"), rows, huge=True))
    _insert(wm, evs, cat.version)
    wm.rater.refresh()
    run = data.draw(st.sampled_from([None, 1]))
    source = "rated_events" if run is None else f"rated_events_for_run({run})"
    like = [f"{cat.version}-%"]
    view = wm.db.read().execute(
        f"SELECT model, service_tier, count(*), sum(cost), count(*) FILTER (WHERE NOT priced) FROM {source} "
        "WHERE id LIKE ? GROUP BY ALL ORDER BY ALL", like).fetchall()
    for by_key, stored in ((True, True), (True, False), (False, True)):
        got = cost_by(wm.db, ["model", "service_tier"], "id LIKE ?", like, run_id=run, by_key=by_key,
                      stored_cells=stored)
        assert [tuple(r.values()) for r in got] == view
