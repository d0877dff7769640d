"""Properties of normalization: totals are conserved, and the SQL twin equals the Python path.

Each hypothesis example is a whole batch of usage objects: valid payloads built
by each provider's inclusion rules, and the same payloads damaged (negative,
fractional, string, boolean, huge or nested counts; non-object sections; stray
keys; non-object usage; unknown formats). The batch goes through a real
in-memory DuckDB in one query, through every SQL form the ledger may use.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmeter.core.errors import InvalidUsage
from workmeter.normalize import (
    ALL_COUNTS,
    USAGE_FORMATS,
    bucket_columns_sql,
    format_sql,
    normalize,
    normalized_sql,
    problem_sql,
    resolve_format,
    usage_row_sql,
)
from workmeter.normalize.registry import FORMATS
from workmeter.normalize.sqlcounts import sql_str

COUNT = st.integers(0, 10**9)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def split(draw: st.DrawFn, total_max: int = 10**9) -> tuple[int, int]:
    """(part, whole) with part <= whole."""
    whole = draw(st.integers(0, total_max))
    return draw(st.integers(0, whole)), whole


@st.composite
def openai_chat(draw: st.DrawFn) -> dict[str, Any]:
    cached, prompt = draw(split())
    reasoning, completion = draw(split())
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if draw(st.booleans()):
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    if draw(st.booleans()):
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


@st.composite
def openai_responses(draw: st.DrawFn) -> dict[str, Any]:
    cached, prompt = draw(split())
    reasoning, output = draw(split())
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output, "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": prompt + output}


@st.composite
def anthropic(draw: st.DrawFn) -> dict[str, Any]:
    thinking, output = draw(split())
    one_hour, total = draw(split())
    five = draw(st.integers(0, total - one_hour))
    usage: dict[str, Any] = {"input_tokens": draw(COUNT), "output_tokens": output,
                             "cache_read_input_tokens": draw(COUNT)}
    if draw(st.booleans()):
        usage["cache_creation_input_tokens"] = total
        if draw(st.booleans()):
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": one_hour}
    if draw(st.booleans()):
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    if draw(st.booleans()):
        usage["server_tool_use"] = {"web_search_requests": draw(st.integers(0, 20)), "web_fetch_requests": 1}
    return usage


@st.composite
def gemini(draw: st.DrawFn) -> dict[str, Any]:
    cached, prompt = draw(split())
    usage = {"promptTokenCount": prompt, "cachedContentTokenCount": cached,
             "candidatesTokenCount": draw(COUNT), "thoughtsTokenCount": draw(COUNT),
             "toolUsePromptTokenCount": draw(COUNT)}
    if draw(st.booleans()):  # the Python SDK's spelling
        usage = {_snake(k): v for k, v in usage.items()}
    return usage


def _snake(camel: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in camel)


@st.composite
def otel(draw: st.DrawFn) -> dict[str, Any]:
    read, rest = draw(split())
    write = draw(st.integers(0, 10**8))
    reasoning, output = draw(split())
    return {"gen_ai.usage.input_tokens": rest + write, "gen_ai.usage.cache_read.input_tokens": read,
            "gen_ai.usage.cache_creation.input_tokens": write, "gen_ai.usage.output_tokens": output,
            "gen_ai.usage.reasoning.output_tokens": reasoning, "gen_ai.operation.name": "chat"}


@st.composite
def buckets(draw: st.DrawFn) -> dict[str, Any]:
    reasoning, output = draw(split())
    usage = {name: draw(COUNT) for name in ALL_COUNTS}
    usage.update(output=output, reasoning=reasoning)
    return {k: v for k, v in usage.items() if draw(st.booleans())}


VALID = {"openai-chat": openai_chat(), "openai-responses": openai_responses(), "anthropic": anthropic(),
         "gemini": gemini(), "otel": otel(), "buckets": buckets()}

BAD_VALUES = st.sampled_from(
    [None, -1, -0, 0, 1, 3.0, 2.5, -2.5, 1e20, "12", "", "null", True, False, [], [3], {}, {"n": 1},
     2**53 - 1, 2**53, 2**63, 2**64 - 1, 2**64, 2**70, -(2**70)]
)


@st.composite
def damaged(draw: st.DrawFn, fmt: str) -> Any:
    """A valid payload of ``fmt`` with one thing wrong (or still right, by chance)."""
    usage = draw(VALID[fmt])
    paths = [p for p in FORMATS[fmt].fields]
    path = draw(st.sampled_from(paths))
    how = draw(st.sampled_from(["value", "section", "stray", "whole", "sum"]))
    if how == "whole":
        return draw(st.sampled_from([None, [], [usage], "usage", 3, True]))
    if how == "stray":
        usage[draw(st.sampled_from(["inputs", "cache_reads", "extra", "output_tokens_details"]))] = 1
        return usage
    target = usage
    for key in path[:-1]:
        if how == "section":
            target[key] = draw(BAD_VALUES)
            return usage
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if how == "sum":
        target[path[-1]] = draw(st.integers(0, 2 * 10**9))
    else:
        target[path[-1]] = draw(BAD_VALUES)
    return usage


_KINDS: list[st.SearchStrategy[tuple[str | None, Any]]] = [
    *[st.tuples(st.just(f), VALID[f]) for f in USAGE_FORMATS],
    *[st.tuples(st.just(f), damaged(f)) for f in USAGE_FORMATS],
    *[st.tuples(st.just(f), damaged(f)) for f in USAGE_FORMATS],
    st.tuples(st.sampled_from(["nope", "OpenAI", "", "openai"]), VALID["openai-chat"]),
    st.tuples(st.none(), VALID["anthropic"]),
]
#: One usage case (format, usage object), every kind equally likely.
CASE = st.integers(0, len(_KINDS) - 1).flatmap(lambda k: _KINDS[k])


def python_result(fmt: str | None, usage: Any) -> tuple[dict[str, int] | None, str | None]:
    try:
        return normalize(resolve_format(None, fmt), usage).as_dict(), None
    except InvalidUsage as err:
        return None, err.message


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def sql_results(con: duckdb.DuckDBPyConnection, cases: list[tuple[str | None, Any]]) -> list[dict[str, Any]]:
    """Every SQL form over one batch: self-contained, one STRUCT, and the usage-row fast path."""
    rows = [(i, fmt, json.dumps(usage, allow_nan=False)) for i, (fmt, usage) in enumerate(cases)]
    con.execute("CREATE OR REPLACE TEMP TABLE batch (i INTEGER, fmt VARCHAR, u JSON)")
    con.executemany("INSERT INTO batch VALUES (?, ?, ?)", rows)
    plain = bucket_columns_sql("fmt", "u")
    fast = bucket_columns_sql("fmt", "u", row="r")
    select = ", ".join(
        [f"{problem_sql('fmt', 'u')} AS p_plain", f"{problem_sql('fmt', 'u', row='r')} AS p_fast",
         f"{normalized_sql('fmt', 'u')} AS nz"]
        + [f"{plain[c]} AS \"plain_{c}\"" for c in ALL_COUNTS]
        + [f"{fast[c]} AS \"fast_{c}\"" for c in ALL_COUNTS]
    )
    sql = f"SELECT {select} FROM (SELECT *, {usage_row_sql('fmt', 'u')} AS r FROM batch) ORDER BY i"
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@SETTINGS
@given(st.lists(CASE, min_size=1, max_size=40))
def test_sql_equals_python_for_every_form(con: duckdb.DuckDBPyConnection, cases: list[tuple[Any, Any]]) -> None:
    for (fmt, usage), got in zip(cases, sql_results(con, cases), strict=True):
        want, why = python_result(fmt, usage)
        context = f"{fmt} {json.dumps(usage)}"
        assert got["p_plain"] == why, context
        assert got["p_fast"] == why, context
        assert got["nz"]["problem"] == why, context
        if want is not None:
            assert {c: got[f"plain_{c}"] for c in ALL_COUNTS} == want, context
            assert {c: got[f"fast_{c}"] for c in ALL_COUNTS} == want, context
            assert {c: got["nz"][c] for c in ALL_COUNTS} == want, context


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["anthropic", "openai", "google", "mistral", None,
                                                           "Anthropic", "OpenAI", "GOOGLE", "OpenAİ", "K", ""]),
                          st.sampled_from([*USAGE_FORMATS, "nope", None])), min_size=1, max_size=20))
def test_format_sql_matches_resolve_format(con: duckdb.DuckDBPyConnection, pairs: list[tuple[Any, Any]]) -> None:
    sql = f"SELECT {format_sql('p', 'f')} FROM (SELECT unnest($1) AS p, unnest($2) AS f)"
    got = [r[0] for r in con.execute(sql, [[p for p, _ in pairs], [f for _, f in pairs]]).fetchall()]
    for (provider, fmt), resolved in zip(pairs, got, strict=True):
        try:
            assert resolve_format(provider, fmt) == resolved
        except InvalidUsage:
            assert resolved is None or resolved not in USAGE_FORMATS


# --- conservation: each provider's totals survive, split into exclusive buckets --------------


@SETTINGS
@given(openai_chat())
def test_openai_chat_conserves_prompt_and_completion(usage: dict[str, Any]) -> None:
    b = normalize("openai-chat", usage)
    assert b.input + b.cache_read == usage["prompt_tokens"]
    assert b.output == usage["completion_tokens"]
    assert b.reasoning <= b.output
    assert b.total_tokens == usage["total_tokens"]


@SETTINGS
@given(openai_responses())
def test_openai_responses_conserves_input_and_output(usage: dict[str, Any]) -> None:
    b = normalize("openai-responses", usage)
    assert b.input + b.cache_read == usage["input_tokens"]
    assert (b.output, b.reasoning) == (usage["output_tokens"], usage["output_tokens_details"]["reasoning_tokens"])


@SETTINGS
@given(anthropic())
def test_anthropic_conserves_all_input(usage: dict[str, Any]) -> None:
    b = normalize("anthropic", usage)
    total_input = (usage["input_tokens"] + usage["cache_read_input_tokens"]
                   + usage.get("cache_creation_input_tokens", 0))
    assert b.total_input == total_input
    assert b.cache_write_5m + b.cache_write_1h == usage.get("cache_creation_input_tokens", 0)
    assert b.output == usage["output_tokens"]
    assert b.web_search == usage.get("server_tool_use", {}).get("web_search_requests", 0)


@SETTINGS
@given(gemini())
def test_gemini_adds_thoughts_to_output_and_tool_prompts_to_input(usage: dict[str, Any]) -> None:
    camel = {k: v for k, v in usage.items()} if "promptTokenCount" in usage else {
        "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v for k, v in usage.items()}
    b = normalize("gemini", usage)
    assert b.input + b.cache_read == camel["promptTokenCount"] + camel["toolUsePromptTokenCount"]
    assert b.output == camel["candidatesTokenCount"] + camel["thoughtsTokenCount"]
    assert b.reasoning == camel["thoughtsTokenCount"]
    assert b == normalize("gemini", camel)


@SETTINGS
@given(otel())
def test_otel_conserves_input_and_output(usage: dict[str, Any]) -> None:
    b = normalize("otel", usage)
    assert b.input + b.cache_read + b.cache_write_5m == usage["gen_ai.usage.input_tokens"]
    assert b.output == usage["gen_ai.usage.output_tokens"]


@SETTINGS
@given(st.one_of(*[st.tuples(st.just(f), damaged(f)) for f in USAGE_FORMATS]))
def test_accepted_usage_always_has_exclusive_nonnegative_buckets(case: tuple[str, Any]) -> None:
    fmt, usage = case
    want, _ = python_result(fmt, usage)
    if want is not None:
        assert all(v >= 0 for v in want.values())
        assert want["reasoning"] <= want["output"]


MODULES = {name: __import__(f"workmeter.normalize.{mod}", fromlist=["x"]) for name, mod in [
    ("anthropic", "anthropic"), ("openai-chat", "openai_chat"), ("openai-responses", "openai_responses"),
    ("gemini", "gemini"), ("otel", "otel"), ("buckets", "direct")]}


@SETTINGS
@given(st.sampled_from(USAGE_FORMATS).flatmap(
    lambda f: st.tuples(st.just(f), st.lists(st.one_of(VALID[f], damaged(f)), min_size=1, max_size=25))))
def test_each_format_module_sql_equals_its_python(con: duckdb.DuckDBPyConnection,
                                                  case: tuple[str, list[Any]]) -> None:
    fmt, usages = case
    module = MODULES[fmt]
    whens = " ".join(f"WHEN {cond} THEN {sql_str(why)}" for cond, why in module.sql_problems("u"))
    exprs = module.sql_buckets("u")
    columns = ", ".join(f"{exprs[name]} AS \"{name}\"" for name in ALL_COUNTS)
    sql = f"SELECT CASE {whens} END AS problem, {columns} FROM (SELECT unnest($1)::JSON AS u, unnest($2) AS i) ORDER BY i"
    texts = [json.dumps(u, allow_nan=False) for u in usages]
    cur = con.execute(sql, [texts, list(range(len(texts)))])
    for usage, row in zip(usages, cur.fetchall(), strict=True):
        want, why = python_result(fmt, usage)
        assert row[0] == why, json.dumps(usage)
        if want is not None:
            assert dict(zip(ALL_COUNTS, row[1:], strict=True)) == want, json.dumps(usage)
