"""Property: the work units' one-pass usage sums equal ``rated_events`` summed per task, to the digit.

Catalogs and events come from the rating property test (dated rows, time-of-day
windows, request-size tiers, missing prices, prices finer than a pico-dollar,
products past 2^63 pico-dollars, unknown models), spread over a few tasks and
customers and unattributed calls.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_rating_property import BASE, BUCKETS, catalogs, events, shared  # noqa: F401  (shared: the fixture)
from workmeter.app import Workmeter
from workmeter.catalog import store as catalog_store
from workmeter.store.schema import FILL_RATE_KEYS
from workmeter.workunits.sources import _FILTER
from workmeter.workunits.usage import ledger_relation, load_rated_usage

_COLS = "calls, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search, cost, unpriced_calls"
_VIEW = ("count(*), sum(input), sum(cache_read), sum(cache_write_5m), sum(cache_write_1h), sum(output), "
         "coalesce(sum(reasoning), 0), sum(web_search), sum(cost), count(*) FILTER (WHERE NOT priced)")


def _insert(wm: Workmeter, evs: list[dict[str, Any]], prefix: str, owners: list[tuple[str, str | None]]) -> None:
    base = wm.db.read().execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]  # type: ignore[index]
    with wm.db.write() as con:
        for i, (e, (customer, task_id)) in enumerate(zip(evs, owners, strict=True)):
            con.execute("INSERT INTO events (seq, source, id, type, subject, time, provider, model, service_tier, "
                        "task_id, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_search) "
                        "VALUES (?, 'w', ?, 'llm.usage', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                        [base + i + 1, f"{prefix}-{i}", customer, e["time"], e["provider"], e["model"], e["tier"],
                         task_id, *(e[b] for b in BUCKETS)])
        for stmt in FILL_RATE_KEYS:  # as the ledger gives them
            con.execute(stmt)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_usage_per_task_equals_the_view(shared: Workmeter, data: st.DataObject) -> None:  # noqa: F811
    wm = shared
    cat, rows = data.draw(catalogs(full=data.draw(st.booleans())))
    catalog_store.write_version(wm.db, cat, genai_version="test", content_hash=cat.version, books=[])
    wm.rater.rerate(data.draw(st.sampled_from([None, BASE])), None, cat.version)
    evs = data.draw(events(cat.version.replace("test-", "acme"), rows, huge=True))
    owner = st.tuples(st.sampled_from([f"{cat.version}-a", f"{cat.version}-b"]), st.sampled_from(["t1", "t2", None]))
    _insert(wm, evs, cat.version, data.draw(st.lists(owner, min_size=len(evs), max_size=len(evs))))
    wm.rater.refresh()
    cur = wm.db.read()
    params = {"as_of": BASE.replace(year=2030), "customer": None}
    where = f"{_FILTER} AND starts_with(subject, '{cat.version}-')"
    ledger = ledger_relation(cur)
    for by_model in (True, False):
        model = ", model" if by_model else ""
        view = cur.execute(f"SELECT subject, task_id{model}, {_VIEW} FROM rated_events WHERE {where} "
                           "GROUP BY ALL ORDER BY ALL", params).fetchall()
        for by_key in (True, False):  # prices by integer cell, and by the string join
            load_rated_usage(cur, params, where, ledger=ledger, by_model=by_model, by_key=by_key)
            got = cur.execute(f"SELECT customer, task_id{model}, {_COLS} FROM _wm_um ORDER BY ALL").fetchall()
            assert got == view and len(got) >= 1
