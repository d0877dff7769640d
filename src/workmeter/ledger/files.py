"""Reading event files: NDJSON, JSON arrays, CSV and Parquet, in bounded chunks.

Each chunk is one ingest transaction. Text formats keep one raw text per event
so a bad line is rejected on its own instead of failing the file; Parquet and
CSV go through the columnar envelope (Parquet read by DuckDB directly, chunk by
chunk of row numbers, when its ``data`` column is text).

Positions (``pos``, a reject's ``position``) are the event's place in the whole
file, never in its chunk: the **line number** (1-based, blank lines counted) in
NDJSON, the 0-based index of the item / row in a JSON array, CSV or Parquet file.

A Parquet/Arrow ``time`` column may be RFC 3339 text or a timestamp **with** a
time zone (any zone, any unit): it becomes RFC 3339 text in UTC
(``2026-10-01T12:00:00.000000Z``, microseconds) before the envelope checks. A
timestamp **without** a time zone names no instant (the same rule as a text
time without an offset), so the file is refused with a reason saying so.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workmeter.core.errors import InvalidInput

FORMATS = ("ndjson", "json", "csv", "parquet")
CHUNK = 500_000
#: A chunk of a Parquet file is read as this many row ranges, so that a chunk inside one row
#: group (which DuckDB reads with one thread) still spreads over every thread.
SPLIT = 4
#: Rows per Arrow batch of a text chunk (DuckDB scans the batches of a table in parallel).
MORSEL = 4096
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
    texts = _texts(path, fmt)[1]
    for start in range(0, len(texts), CHUNK):
        yield texts[start:start + CHUNK]


def text_tables(path: str, fmt: str) -> Iterator[pa.Table]:
    """Chunks of ``pos`` (int64, the position in the whole file, see the module rules) and
    ``raw`` (the event's JSON text): the text input of the ledger's staging."""
    positions, texts = _texts(path, fmt)
    for start in range(0, len(texts), CHUNK):
        table = pa.table({"pos": pa.array(positions[start:start + CHUNK], pa.int64()),
                          "raw": pa.array(texts[start:start + CHUNK], pa.string())})
        yield pa.Table.from_batches(table.to_batches(max_chunksize=MORSEL))


def _texts(path: str, fmt: str) -> tuple[list[int], list[str]]:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", where=path) from None
    if fmt != "json":
        # Lines end at "\n" only (an optional "\r" before it is dropped): U+2028 and friends are
        # legal inside a JSON string and never end a line, so numbers match an editor's.
        lines = data.decode("utf-8", errors="replace").split("\n")
        numbered = [(n, line.removesuffix("\r")) for n, line in enumerate(lines, 1) if line.strip()]
        return [n for n, _ in numbered], [line for _, line in numbered]
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}", where=path) from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise InvalidInput("a JSON event file holds an object or an array of objects", where=path)
    return list(range(len(items))), [orjson.dumps(i).decode() for i in items]


def arrow_chunks(path: str, fmt: str) -> Iterator[pa.Table]:
    """Columnar batches with the envelope columns; ``data`` as JSON text."""
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInput(f"cannot read Parquet: {exc}", where=path) from None
        _check_columns(pf.schema_arrow.names, path)
        _zoned_time(pf.schema_arrow.field("time").type, path)
        start = 0
        for batch in pf.iter_batches(batch_size=CHUNK, columns=list(ENVELOPE)):
            table = _with_pos(_time_as_text(_data_as_text(pa.Table.from_batches([batch]))), start)
            start += table.num_rows
            yield table
    else:
        import pyarrow.csv as pcsv

        try:
            table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in ENVELOPE}))
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInput(f"cannot read CSV: {exc}", where=path) from None
        _check_columns(table.column_names, path)
        start = 0
        for batch in table.select(list(ENVELOPE)).to_batches(max_chunksize=CHUNK):
            yield _with_pos(pa.Table.from_batches([batch]), start)
            start += batch.num_rows


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
    time = _time_sql(schema.field("time").type, path)
    total = pf.metadata.num_rows
    source = "read_parquet(" + "'" + path.replace("'", "''") + "', file_row_number = true)"
    columns = ", ".join(time if c == "time" else f'"{c}"' for c in ENVELOPE)

    def chunk(start: int) -> str:
        stop = min(start + CHUNK, total)
        cuts = [start + (stop - start) * k // SPLIT for k in range(SPLIT + 1)]
        parts = [f"SELECT {columns}, file_row_number AS pos FROM {source} "
                 f"WHERE file_row_number >= {a} AND file_row_number < {b}"
                 for a, b in pairwise(cuts) if b > a]
        return f"({' UNION ALL '.join(parts)})"

    return [(chunk(start), min(CHUNK, total - start)) for start in range(0, total, CHUNK)]


def _check_columns(names: list[str], path: str) -> None:
    missing = [c for c in ENVELOPE if c not in names]
    if missing:
        raise InvalidInput(f"missing columns: {', '.join(missing)}", where=path)


def _time_sql(kind: pa.DataType, path: str) -> str:
    """The DuckDB select item for ``time``: RFC 3339 UTC text from a zoned timestamp."""
    if not _zoned_time(kind, path):
        return '"time"'
    return "strftime(make_timestamp(epoch_us(CAST(\"time\" AS TIMESTAMPTZ))), '%Y-%m-%dT%H:%M:%S.%fZ') AS \"time\""


def _zoned_time(kind: pa.DataType, path: str) -> bool:
    """True for a timestamp with a time zone; InvalidInput for one without (see the module rules)."""
    if not pa.types.is_timestamp(kind):
        return False
    if kind.tz is None:
        raise InvalidInput(
            f"column time is a timestamp without a time zone ({kind}), so it names no instant; "
            "write it with one (e.g. pa.timestamp('us', tz='UTC')) or as RFC 3339 text with an offset",
            where=path)
    return True


def _time_as_text(table: pa.Table) -> pa.Table:
    """A zoned ``time`` column as RFC 3339 UTC text (Arrow's ``%S`` carries the microseconds)."""
    col = table.column("time")
    if not pa.types.is_timestamp(col.type):
        return table
    utc = pc.cast(col, pa.timestamp("us", tz="UTC"), safe=False)
    texts = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
    return table.set_column(table.column_names.index("time"), "time", texts)


def _with_pos(table: pa.Table, start: int) -> pa.Table:
    """``pos`` = the row's index in the whole file."""
    return table.append_column("pos", pa.array(range(start, start + table.num_rows), pa.int64()))


def _data_as_text(table: pa.Table) -> pa.Table:
    col = table.column("data")
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return table
    texts = [None if v is None else orjson.dumps(v).decode() for v in col.to_pylist()]
    return table.set_column(table.column_names.index("data"), "data", pa.array(texts, pa.string()))
