"""Rating tables and the ``rated_events`` view (the set-based rater).

Tables:

* ``rating_runs`` — one row per run: catalog version pinned to ``[range_from,
  range_to)``. For any time, the latest run covering it decides the version.
* ``rate_keys`` — every (provider, model, service_tier) seen on usage events.
* ``rate_cards`` — for every run and key, the complete card (see
  :mod:`workmeter.rating.card`) with prices per *unit* as ``DECIMAL(38, 24)``.
* ``rate_cards_current`` — the cards of the latest run (what the view joins).

``rated_events`` (created when the rater is built) covers usage events only
(``type = 'llm.usage'``): every ``live_events`` column (bucket counts 0, never
NULL) plus ``cost_<bucket>`` for input, cache_read, cache_write_5m,
cache_write_1h, output, web_search and request, and ``cost`` — all
``DECIMAL(38, 18)``, all NULL when the event is unpriced, never 0 — plus
``priced``, ``unpriced_reason``, ``catalog_version``, ``catalog_provider``,
``catalog_model`` and ``rating_run``. The price is found with one hash join on
the key plus range predicates on time, time of day and total input, so
filters on ``subject`` and ``time`` push down into ``live_events``.
``rated_events_for_run(r)`` is the same view under an older run, for audits.
"""

from __future__ import annotations

from workmeter.catalog.model import RATED_BUCKETS
from workmeter.store.duckdb import register_ddl

UNIT_PRICE_COLS = ", ".join(f'"p_{b}" DECIMAL(38, 24)' for b in RATED_BUCKETS)
FAST_PRICE_COLS = ", ".join(f'"pp_{b}" BIGINT' for b in RATED_BUCKETS)
CARD_COLUMNS = f"""
    "provider" VARCHAR, "model" VARCHAR, "service_tier" VARCHAR,
    "valid_from" TIMESTAMPTZ, "valid_to" TIMESTAMPTZ, "tod_lo" BIGINT, "tod_hi" BIGINT,
    "in_lo" BIGINT, "in_hi" BIGINT, {UNIT_PRICE_COLS}, {FAST_PRICE_COLS}, "pico" BOOLEAN, "qty_limit" BIGINT,
    "complete" BOOLEAN,
    "reason" VARCHAR, "catalog_version" VARCHAR, "catalog_provider" VARCHAR, "catalog_model" VARCHAR"""

NOT_RATED = "not rated yet: new model key (any workmeter pricing command rates it)"

TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS rating_runs (
    "run_id" INTEGER PRIMARY KEY, "catalog_version" VARCHAR, "range_from" TIMESTAMPTZ,
    "range_to" TIMESTAMPTZ, "created_at" TIMESTAMPTZ, "note" VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS rate_keys (
    "provider" VARCHAR, "model" VARCHAR, "service_tier" VARCHAR, "first_seen" TIMESTAMPTZ,
    PRIMARY KEY ("provider", "model", "service_tier"))""",
    """CREATE TABLE IF NOT EXISTS rating_state ("key" VARCHAR PRIMARY KEY, "value" BIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS rate_cards ("run_id" INTEGER, {CARD_COLUMNS})""",
    f"""CREATE TABLE IF NOT EXISTS rate_cards_current ("run_id" INTEGER, {CARD_COLUMNS})""",
)

_DAY = 86_400_000_000
_QTY = {b: f'coalesce(e."{b}", 0)' for b in RATED_BUCKETS if b != "request"}
_QTY["request"] = "1"
_TOTAL_INPUT = " + ".join(_QTY[b] for b in ("input", "cache_read", "cache_write_5m", "cache_write_1h"))
_TOD = f"(epoch_us(e.time) % {_DAY} + {_DAY}) % {_DAY}"


def _reason_sql() -> str:
    checks = [f"WHEN c.p_{b} IS NULL AND {_QTY[b]} > 0 THEN 'no price for bucket {b}'"
              for b in RATED_BUCKETS if b != "request"]
    return (f"CASE WHEN c.run_id IS NULL THEN '{NOT_RATED}' WHEN c.reason IS NOT NULL THEN c.reason "
            "WHEN c.complete THEN NULL " + " ".join(checks) + " END")


_PICO = "0.000000000001000000::DECIMAL(20, 18)"  # DECIMAL(18, 0) × this is DECIMAL(38, 18), no cast
_ALL_QTY = " + ".join(_QTY[b] for b in RATED_BUCKETS)


def _fast(bucket: str) -> str:
    """Integer pico-dollars per unit: an exact BIGINT product, scaled once."""
    return "r.pp_request" if bucket == "request" else f'r."{bucket}" * r.pp_{bucket}'


def _slow(bucket: str) -> str:
    """Any other price: DECIMAL product, brought to 18 decimals half-up (exact up to 18)."""
    qty = "1" if bucket == "request" else f'r."{bucket}"'
    return f"({qty} * coalesce(r.p_{bucket}, 0))::DECIMAL(38, 18)"


def _when_priced(fast: str, slow: str) -> str:
    """Only the branch an event takes is evaluated (a guarded BIGINT product cannot overflow)."""
    return (f"CASE WHEN r.unpriced_reason IS NOT NULL THEN NULL WHEN r.fast THEN ({fast})::DECIMAL(18, 0) * {_PICO}"
            f" ELSE {slow} END")


def rated_base(cards: str) -> str:
    """Usage events joined to their card row: quantities (never NULL), prices, ``fast``, ``unpriced_reason``."""
    prices = ", ".join(f"c.pp_{b}, c.p_{b}" for b in RATED_BUCKETS)
    return f"""
  SELECT e.* REPLACE ({", ".join(f'{_QTY[b]} AS "{b}"' for b in RATED_BUCKETS if b != "request")}),
         {prices},
         coalesce(c.pico AND {_ALL_QTY} <= c.qty_limit, FALSE) AS fast,
         {_reason_sql()} AS unpriced_reason,
         c.catalog_version, c.catalog_provider, c.catalog_model, c.run_id AS rating_run
  FROM live_events e
  LEFT JOIN {cards} c
    ON c.provider = coalesce(e.provider, '') AND c.model = coalesce(e.model, '')
   AND c.service_tier = coalesce(e.service_tier, '')
   AND e.time >= c.valid_from AND e.time < c.valid_to
   AND {_TOD} >= c.tod_lo AND {_TOD} < c.tod_hi
   AND {_TOTAL_INPUT} >= c.in_lo AND {_TOTAL_INPUT} < c.in_hi
  WHERE e.type = 'llm.usage'"""


def rated_select(cards: str) -> str:
    """The rating query over ``live_events`` joined to a card table or subquery ``cards``.

    Prices that are whole pico-dollars per unit (list prices with up to 6
    decimals per million — nearly all) are applied as one BIGINT dot product
    per event, guarded against overflow by ``qty_limit``; other prices use
    DECIMAL(38, 24) products. Both are exact at 18 decimals.
    """
    costs = ",\n       ".join(_when_priced(_fast(b), _slow(b)) + f" AS cost_{b}" for b in RATED_BUCKETS)
    hidden = ", ".join(f"pp_{b}, p_{b}" for b in RATED_BUCKETS)
    return f"""
SELECT r.* EXCLUDE ({hidden}, fast),
       {costs},
       {_when_priced(FAST_DOT, SLOW_SUM)} AS cost,
       r.unpriced_reason IS NULL AS priced
FROM ({rated_base(cards)}
) r"""


FAST_DOT = " + ".join(_fast(b) for b in RATED_BUCKETS)
SLOW_SUM = " + ".join(_slow(b) for b in RATED_BUCKETS)


VIEWS: tuple[str, ...] = (
    f"CREATE OR REPLACE VIEW rated_events AS {rated_select('rate_cards_current')}",
    "CREATE OR REPLACE MACRO rated_events_for_run(run) AS TABLE "
    + rated_select("(SELECT * FROM rate_cards WHERE run_id = run)"),
)

# Tables are registered for every open; the views are created by the rater once
# ``live_events`` exists (they are stored in the database file from then on).
register_ddl(*TABLES)
