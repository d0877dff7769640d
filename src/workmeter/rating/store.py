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
``catalog_model`` and ``rating_run``. ``rated_events_for_run(r)`` is the same
view under an older run, for audits.

The price is found with one hash join on the raw key plus range predicates on
time, time of day and total input (both computed once per event, before the
join), against :func:`lookup_sql` rows: a card stores an absent key part as
``''`` and the lookup has a row for each spelling (``''`` or NULL), so the
join compares the event's own columns (``IS NOT DISTINCT FROM``), nothing is
coalesced per event. Filters on ``subject`` and ``time`` push down into
``live_events``.
"""

from __future__ import annotations

from workmeter.catalog.model import RATED_BUCKETS
from workmeter.store.duckdb import register_ddl

UNIT_PRICE_COLS = ", ".join(f'"p_{b}" DECIMAL(38, 24)' for b in RATED_BUCKETS)
FAST_PRICE_COLS = ", ".join(f'"pp_{b}" BIGINT' for b in RATED_BUCKETS)
CARD_COLUMNS = f"""
    "provider" VARCHAR, "model" VARCHAR, "service_tier" VARCHAR,
    "valid_from" TIMESTAMPTZ, "valid_to" TIMESTAMPTZ, "tod_lo" BIGINT, "tod_hi" BIGINT,
    "in_lo" BIGINT, "in_hi" BIGINT, {UNIT_PRICE_COLS}, {FAST_PRICE_COLS}, "pico" BOOLEAN,
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
    f"""CREATE TABLE IF NOT EXISTS rate_cards ("run_id" INTEGER, {CARD_COLUMNS})""",
    f"""CREATE TABLE IF NOT EXISTS rate_cards_current ("run_id" INTEGER, {CARD_COLUMNS})""",
)

_DAY = 86_400_000_000
PICO = "0.000000000001000000::DECIMAL(20, 18)"  # DECIMAL(18, 0) × this is DECIMAL(38, 18), no cast
#: The buckets priced per unit of a ``live_events`` column (``request`` is 1 per call).
QTY_BUCKETS: tuple[str, ...] = tuple(b for b in RATED_BUCKETS if b != "request")
_INPUTS = ("input", "cache_read", "cache_write_5m", "cache_write_1h")


def qty(bucket: str, alias: str = "e") -> str:
    """The quantity of a bucket on one event (NULL counts as 0)."""
    return "1" if bucket == "request" else f'coalesce({alias}."{bucket}", 0)'


def usage_events_sql(where: str = "TRUE") -> str:
    """Usage events of ``live_events`` with ``wm_tod`` (µs after UTC midnight) and ``wm_in`` (total input)."""
    tod = f"(epoch_us(time) % {_DAY} + {_DAY}) % {_DAY}"
    total_input = " + ".join(qty(b, "live_events") for b in _INPUTS)
    return (f"(SELECT *, {tod} AS wm_tod, {total_input} AS wm_in FROM live_events "
            f"WHERE type = 'llm.usage' AND ({where}))")


def join_sql(lookup: str, e: str = "e", k: str = "k") -> str:
    """``LEFT JOIN`` of events ``e`` (from :func:`usage_events_sql`) to their lookup row ``k``."""
    return (f"LEFT JOIN {lookup} {k} ON {k}.provider IS NOT DISTINCT FROM {e}.provider "
            f"AND {k}.model IS NOT DISTINCT FROM {e}.model AND {k}.service_tier IS NOT DISTINCT FROM {e}.service_tier "
            f"AND {e}.time >= {k}.valid_from AND {e}.time < {k}.valid_to AND {e}.wm_tod >= {k}.tod_lo "
            f"AND {e}.wm_tod < {k}.tod_hi AND {e}.wm_in >= {k}.in_lo AND {e}.wm_in < {k}.in_hi")


def _variants(col: str) -> str:
    return f"unnest(CASE WHEN c.{col} = '' THEN ['', NULL] ELSE [c.{col}] END)"


def lookup_sql(cards: str) -> str:
    """The join rows of a card table: one per card row and raw key spelling (``''`` or NULL).

    Beside the card's columns: ``rid`` numbers the rows in a fixed order
    (unique within a query, so an aggregate can carry a row as a small
    integer); ``ok`` — every token/unit price present and no reason, so every
    event on the row is priced; ``exact`` — every price has at most 18
    decimals per unit, so cost is linear in the quantities at 18 decimals;
    ``p18_<bucket>`` — the price per unit as DECIMAL(38, 18), 0 when absent
    (exact only when ``exact``); ``pp_<bucket>`` — whole pico-dollars per
    unit, NULL unless every price of the row is whole pico-dollars.
    """
    order = "c.run_id, vp.v NULLS FIRST, vm.v NULLS FIRST, vt.v NULLS FIRST, c.valid_from, c.tod_lo, c.in_lo"
    exact = " AND ".join(f"coalesce(c.p_{b} = round(c.p_{b}, 18), TRUE)" for b in RATED_BUCKETS)
    p18 = ", ".join(f"coalesce(c.p_{b}, 0)::DECIMAL(38, 18) AS p18_{b}" for b in RATED_BUCKETS)
    pp = ", ".join(f"CASE WHEN c.pico THEN c.pp_{b} END AS pp_{b}" for b in RATED_BUCKETS)
    return f"""(
  SELECT row_number() OVER (ORDER BY {order})::INTEGER AS rid,
         vp.v AS provider, vm.v AS model, vt.v AS service_tier, c.run_id, c.valid_from, c.valid_to,
         c.tod_lo, c.tod_hi, c.in_lo, c.in_hi, {", ".join(f"c.p_{b}" for b in RATED_BUCKETS)},
         coalesce(c.complete AND c.reason IS NULL, FALSE) AS ok, {exact} AS "exact", {p18}, {pp},
         c.reason, c.catalog_version, c.catalog_provider, c.catalog_model
  FROM {cards} c, {_variants("provider")} AS vp(v), {_variants("model")} AS vm(v),
       {_variants("service_tier")} AS vt(v)
)"""


def reason_sql(k: str = "k", e: str = "e") -> str:
    """The unpriced reason of event ``e`` on lookup row ``k`` (NULL: priced)."""
    checks = " ".join(f"WHEN {k}.p_{b} IS NULL AND {qty(b, e)} > 0 THEN 'no price for bucket {b}'"
                      for b in QTY_BUCKETS)
    return (f"CASE WHEN {k}.ok THEN NULL WHEN {k}.rid IS NULL THEN '{NOT_RATED}' "
            f"WHEN {k}.reason IS NOT NULL THEN {k}.reason {checks} END")


def slow_sql(bucket: str, r: str = "r", k: str | None = None) -> str:
    """Any price: DECIMAL product brought to 18 decimals half-up (exact up to 18 decimals).

    Quantities from ``r``, prices from ``k`` (default: ``r``)."""
    return f"({qty(bucket, r)} * coalesce({k or r}.p_{bucket}, 0))::DECIMAL(38, 18)"


def dot_sql(buckets: tuple[str, ...], r: str = "r") -> str:
    """Σ quantity × whole pico-dollars per unit, BIGINT (NULL: prices not whole pico-dollars)."""
    return " + ".join(f"{r}.pp_{b}" if b == "request" else f'{r}."{b}" * {r}.pp_{b}' for b in buckets)


def pico_sql(buckets: tuple[str, ...], r: str = "r") -> str:
    """The pico-dollar product as DECIMAL(18, 0) (NULL if not whole, or past 10^18 - 1)."""
    return f"try(({dot_sql(buckets, r)})::DECIMAL(18, 0))"


def _cost(buckets: tuple[str, ...]) -> str:
    """Exact cost: the pico-dollar product when it is one (integer arithmetic), else DECIMAL products.

    DuckDB checks integer overflow, so ``try`` turns a product too large for
    BIGINT into NULL and the DECIMAL branch (evaluated only for those rows)
    takes over. Both give the same number whenever both apply.
    """
    slow = " + ".join(slow_sql(b) for b in buckets)
    return (f"CASE WHEN r.unpriced_reason IS NULL THEN coalesce({pico_sql(buckets)} * {PICO}, {slow}) END")


def rated_base(cards: str) -> str:
    """Usage events joined to their lookup row: quantities (never NULL), prices, ``unpriced_reason``."""
    prices = ", ".join(f"k.pp_{b}, k.p_{b}" for b in RATED_BUCKETS)
    counts = ", ".join(f'{qty(b)} AS "{b}"' for b in QTY_BUCKETS)
    return f"""
  SELECT e.* EXCLUDE (wm_tod, wm_in) REPLACE ({counts}),
         {prices},
         {reason_sql()} AS unpriced_reason,
         k.catalog_version, k.catalog_provider, k.catalog_model, k.run_id AS rating_run
  FROM {usage_events_sql()} e
  {join_sql(lookup_sql(cards))}"""


def rated_select(cards: str) -> str:
    """The rating query over ``live_events`` joined to a card table or subquery ``cards``.

    Prices that are whole pico-dollars per unit (list prices with up to 6
    decimals per million — nearly all) are applied as one BIGINT dot product
    per event; other prices (or products past 10^18 pico-dollars) use
    DECIMAL(38, 24) products. Both are exact at 18 decimals.
    """
    costs = ",\n       ".join(f"{_cost((b,))} AS cost_{b}" for b in RATED_BUCKETS)
    hidden = ", ".join(f"pp_{b}, p_{b}" for b in RATED_BUCKETS)
    return f"""
SELECT r.* EXCLUDE ({hidden}),
       {costs},
       {_cost(RATED_BUCKETS)} AS cost,
       r.unpriced_reason IS NULL AS priced
FROM ({rated_base(cards)}
) r"""


VIEWS: tuple[str, ...] = (
    f"CREATE OR REPLACE VIEW rated_events AS {rated_select('rate_cards_current')}",
    "CREATE OR REPLACE MACRO rated_events_for_run(run) AS TABLE "
    + rated_select("(SELECT * FROM rate_cards WHERE run_id = run)"),
)

# Tables are registered for every open; the views are created by the rater once
# ``live_events`` exists (they are stored in the database file from then on).
register_ddl(*TABLES)
