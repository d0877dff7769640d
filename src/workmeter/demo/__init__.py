"""Realistic demo traffic: CloudEvents usage and task events for a month of customers.

``generate_table(n_events, seed, start)`` builds an Arrow table of exactly
``n_events`` events, fast (vectorized, no per-event Python); ``write(table,
path)`` saves it as Parquet, NDJSON or JSON; ``counts_of(table)`` says how
many of each kind it holds (what an ingest must report).
"""

from workmeter.demo.calls import BAD_KINDS
from workmeter.demo.generate import CHUNK_EVENTS, Counts, Plan, counts_of, generate_table, iter_chunks, plan
from workmeter.demo.world import MODELS, WORKFLOWS, customer_names

__all__ = [
    "BAD_KINDS",
    "CHUNK_EVENTS",
    "MODELS",
    "WORKFLOWS",
    "Counts",
    "Plan",
    "counts_of",
    "customer_names",
    "generate_table",
    "iter_chunks",
    "plan",
]
