"""Reading event files: NDJSON, JSON arrays, CSV and Parquet, in bounded chunks.

Each chunk is one ingest transaction. Text formats keep one raw line per event
so a bad line is rejected with its position (origin ``path:line``) instead of
failing the file; Parquet and CSV go through the columnar envelope (Parquet
read by DuckDB directly, chunk by chunk of row numbers, when its ``data``
column is text).
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from workmeter.core.errors import InvalidInput

FORMATS = ("ndjson", "json", "csv", "parquet")
CHUNK = 500_000
#: A chunk of a Parquet file is read as this many row ranges, so that a chunk inside one row
#: group (which DuckDB reads with one thread) still spreads over every thread.
SPLIT = 4
ENVELOPE = ("specversion", "id", "source", "type", "subject", "time", "data")

Progress = Callable[[int], None]


def infer_format(path: str, given: str | None) -> str:
    if given:
        if given not in FORMATS:
            raise InvalidInput(f"unknown format {given!r}; use one of {', '.join(FORMATS)}", where=path)
        return given
    if path == "-":
        return "ndjson"
    suffix = Path(path).suffix.lower().lstrip(".")
    mapping = {"ndjson": "ndjson", "jsonl": "ndjson", "json": "json", "csv": "csv", "parquet": "parquet",
               "pq": "parquet"}
    if suffix not in mapping:
        raise InvalidInput(f"cannot infer the format from {path!r}; pass --format", where=path)
    return mapping[suffix]


def text_chunks(path: str, fmt: str) -> Iterator[list[str]]:
    """Raw JSON texts, one per event, in chunks (NDJSON lines or JSON array items)."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", where=path) from None
    if fmt == "json":
        try:
            items = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc}", where=path) from None
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise InvalidInput("a JSON event file holds an object or an array of objects", where=path)
        texts = [orjson.dumps(i).decode() for i in items]
    else:
        texts = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
    for start in range(0, len(texts), CHUNK):
        yield texts[start:start + CHUNK]


def arrow_chunks(path: str, fmt: str) -> Iterator[pa.Table]:
    """Columnar batches with the envelope columns; ``data`` as JSON text."""
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInput(f"cannot read Parquet: {exc}", where=path) from None
        _check_columns(pf.schema_arrow.names, path)
        for batch in pf.iter_batches(batch_size=CHUNK, columns=list(ENVELOPE)):
            yield _data_as_text(pa.Table.from_batches([batch]))
    else:
        import pyarrow.csv as pcsv

        try:
            table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in ENVELOPE}))
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInput(f"cannot read CSV: {exc}", where=path) from None
        _check_columns(table.column_names, path)
        for batch in table.select(list(ENVELOPE)).to_batches(max_chunksize=CHUNK):
            yield pa.Table.from_batches([batch])


def parquet_ranges(path: str) -> list[tuple[str, int]] | None:
    """SQL relations over a Parquet file, CHUNK rows each, read by DuckDB itself (with ``pos``).

    DuckDB decodes Parquet several times cheaper than a round trip through Arrow. None when the
    file needs the Arrow path: ``data`` stored as something other than text, or a path DuckDB
    would read as a glob pattern.
    """
    if glob.has_magic(path) or path == "-":
        return None
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInput(f"cannot read Parquet: {exc}", where=path) from None
    schema = pf.schema_arrow
    _check_columns(schema.names, path)
    data = schema.field("data").type
    if not (pa.types.is_string(data) or pa.types.is_large_string(data)):
        return None
    total = pf.metadata.num_rows
    source = "read_parquet(" + "'" + path.replace("'", "''") + "', file_row_number = true)"
    columns = ", ".join(f'"{c}"' for c in ENVELOPE)

    def chunk(start: int) -> str:
        stop = min(start + CHUNK, total)
        cuts = [start + (stop - start) * k // SPLIT for k in range(SPLIT + 1)]
        parts = [f"SELECT {columns}, file_row_number - {start} AS pos FROM {source} "
                 f"WHERE file_row_number >= {a} AND file_row_number < {b}"
                 for a, b in pairwise(cuts) if b > a]
        return f"({' UNION ALL '.join(parts)})"

    return [(chunk(start), min(CHUNK, total - start)) for start in range(0, total, CHUNK)]


def _check_columns(names: list[str], path: str) -> None:
    missing = [c for c in ENVELOPE if c not in names]
    if missing:
        raise InvalidInput(f"missing columns: {', '.join(missing)}", where=path)


def _data_as_text(table: pa.Table) -> pa.Table:
    col = table.column("data")
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return table
    texts = [None if v is None else orjson.dumps(v).decode() for v in col.to_pylist()]
    return table.set_column(table.column_names.index("data"), "data", pa.array(texts, pa.string()))
