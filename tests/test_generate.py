"""The demo generator: exact counts, valid CloudEvents, consistent usage, coherent tasks, determinism."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from workmeter.demo import BAD_KINDS, counts_of, generate_table, plan
from workmeter.demo.world import MODELS

START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + timedelta(days=30)
N = 12_000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return generate_table(N, seed=7, start=START, days=30, customers=20)


@pytest.fixture(scope="module")
def rows(table: pa.Table) -> list[dict[str, Any]]:
    out = table.to_pylist()
    for r in out:
        r["payload"] = json.loads(r["data"])
    return out


def first_occurrences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        if (r["source"], r["id"]) not in seen:
            seen.add((r["source"], r["id"]))
            out.append(r)
    return out


# ------------------------------------------------------------------ usage rules, per provider


def usage_problem(fmt: str | None, provider: str, u: dict[str, Any]) -> str | None:
    """The first inclusion rule the usage object breaks, or None (mirrors the provider docs)."""
    fmt = fmt or {"anthropic": "anthropic", "openai": "openai-chat", "google": "gemini"}.get(provider)
    values = _ints(u)
    if any(v < 0 for v in values):
        return "negative"
    if fmt == "anthropic":
        split = u.get("cache_creation")
        if split and split["ephemeral_5m_input_tokens"] + split["ephemeral_1h_input_tokens"] != u[
                "cache_creation_input_tokens"]:
            return "split"
    elif fmt == "openai-chat":
        if u["prompt_tokens_details"]["cached_tokens"] > u["prompt_tokens"]:
            return "cached"
        if u["completion_tokens_details"]["reasoning_tokens"] > u["completion_tokens"]:
            return "reasoning"
        if u["total_tokens"] != u["prompt_tokens"] + u["completion_tokens"]:
            return "total"
    elif fmt == "openai-responses":
        if u["input_tokens_details"]["cached_tokens"] > u["input_tokens"]:
            return "cached"
        if u["output_tokens_details"]["reasoning_tokens"] > u["output_tokens"]:
            return "reasoning"
        if u["total_tokens"] != u["input_tokens"] + u["output_tokens"]:
            return "total"
    elif fmt == "gemini":
        if u.get("cachedContentTokenCount", 0) > u["promptTokenCount"]:
            return "cached"
        parts = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")
        if u["totalTokenCount"] != sum(u.get(k, 0) for k in parts):
            return "total"
    elif fmt == "otel":
        cached = u.get("gen_ai.usage.cache_read.input_tokens", 0) + u.get("gen_ai.usage.cache_creation.input_tokens", 0)
        if cached > u["gen_ai.usage.input_tokens"]:
            return "cached"
        if u.get("gen_ai.usage.reasoning.output_tokens", 0) > u["gen_ai.usage.output_tokens"]:
            return "reasoning"
    elif fmt == "buckets":
        if u.get("reasoning", 0) > u["output"]:
            return "reasoning"
    else:
        return "format"
    return None


def _ints(obj: Any) -> list[int]:
    if isinstance(obj, dict):
        return [v for x in obj.values() for v in _ints(x)]
    return [obj] if isinstance(obj, int) and not isinstance(obj, bool) else []


def bad_kind(r: dict[str, Any]) -> str | None:
    """Which deliberate problem an event has (None for a valid event)."""
    if r["subject"] is None:
        return "missing_subject"
    try:
        t = datetime.fromisoformat(r["time"])
        if t.tzinfo is None or "T" not in r["time"]:
            return "bad_time"
    except ValueError:
        return "bad_time"
    if r["type"] != "llm.usage":
        return None
    d = r["payload"]
    problem = usage_problem(d.get("usage_format"), d["provider"], d["usage"])
    return {"negative": "negative_tokens", "cached": "cached_exceeds_prompt",
            "reasoning": "reasoning_exceeds_output", "format": "unknown_usage_format"}.get(problem or "", problem)


# ------------------------------------------------------------------ tests


def test_exact_size_and_plan(table: pa.Table) -> None:
    p = plan(N)
    c = counts_of(table)
    assert table.num_rows == N
    assert table.column_names == ["specversion", "id", "source", "type", "subject", "time", "data"]
    assert all(f.type == pa.string() for f in table.schema)
    assert (c.accepted, c.duplicates, c.conflicts, c.rejected) == (p.accepted, p.duplicates, p.conflicts,
                                                                   sum(p.rejected.values()))
    assert c.accepted + c.duplicates + c.conflicts + c.rejected == N
    assert c.rejected_by_kind == p.rejected
    assert set(p.rejected) == set(BAD_KINDS) and max(p.rejected.values()) - min(p.rejected.values()) <= 1


def test_plan_is_exact_for_documented_fractions() -> None:
    p = plan(200_000)
    assert (p.duplicates, p.conflicts, sum(p.rejected.values())) == (2_000, 200, 400)
    assert p.accepted == 200_000 - 2_600
    tiny = plan(3)
    assert tiny.accepted + tiny.duplicates + tiny.conflicts + sum(tiny.rejected.values()) == 3


def test_duplicates_conflicts_and_bad_events_are_what_the_counts_say(rows: list[dict[str, Any]],
                                                                    table: pa.Table) -> None:
    seen: Counter[str] = Counter()
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_key[(r["source"], r["id"])].append(r)
    for group in by_key.values():
        first, *later = group
        for r in later:
            same = (r["type"], r["subject"], r["time"], r["data"]) == (first["type"], first["subject"],
                                                                     first["time"], first["data"])
            seen["duplicates" if same else "conflicts"] += 1
        kind = bad_kind(first)
        seen[kind or "accepted"] += 1
        assert not later or kind is None, "re-sends are only made of valid events"
    counts = counts_of(table)
    assert seen["duplicates"] == counts.duplicates
    assert seen["conflicts"] == counts.conflicts
    assert seen["accepted"] == counts.accepted
    assert {k: seen[k] for k in BAD_KINDS} == counts.rejected_by_kind


def test_every_valid_event_is_a_cloudevent_in_the_period(rows: list[dict[str, Any]]) -> None:
    offsets: Counter[str] = Counter()
    for r in first_occurrences(rows):
        if bad_kind(r):
            continue
        assert r["specversion"] == "1.0" and r["id"] and r["source"].startswith("/")
        assert r["subject"].startswith("cus_")
        t = datetime.fromisoformat(r["time"])
        assert START <= t < END
        offsets[r["time"][23:]] += 1
        assert isinstance(r["payload"], dict)
    assert {"Z", "+02:00"} <= set(offsets), "times use more than one offset form"


def test_usage_objects_follow_their_provider_rules(rows: list[dict[str, Any]], table: pa.Table) -> None:
    formats: Counter[str] = Counter()
    providers: Counter[str] = Counter()
    models: Counter[str] = Counter()
    for r in first_occurrences(rows):
        if r["type"] != "llm.usage" or bad_kind(r):
            continue
        d = r["payload"]
        assert usage_problem(d.get("usage_format"), d["provider"], d["usage"]) is None
        assert d.get("service_tier", "standard") in ("standard", "batch", "flex", "priority")
        assert all(isinstance(v, str) for v in d["attributes"].values())
        formats[d.get("usage_format", "implied")] += 1
        providers[d["provider"]] += 1
        models[d["model"]] += 1
    assert {"anthropic", "openai-chat", "openai-responses", "gemini", "otel", "buckets", "implied"} <= set(formats)
    assert {"anthropic", "openai", "google"} <= set(providers)
    assert dict(models) == {m: n for m, n in counts_of(table).usage_by_model.items() if n}
    assert sum(models.values()) == counts_of(table).usage


def test_realistic_features_are_present(rows: list[dict[str, Any]]) -> None:
    usage = [r["payload"] for r in first_occurrences(rows) if r["type"] == "llm.usage" and not bad_kind(r)]
    tiers = Counter(d.get("service_tier", "standard") for d in usage)
    assert tiers.most_common(1)[0][0] == "standard" and {"batch", "flex", "priority"} <= set(tiers)
    anthropic = [d["usage"] for d in usage if d.get("usage_format", "anthropic") == "anthropic"
                 and d["provider"] == "anthropic"]
    assert any(u["cache_read_input_tokens"] for u in anthropic)
    assert any(u.get("cache_creation", {}).get("ephemeral_1h_input_tokens") for u in anthropic)
    assert any("cache_creation" not in u for u in anthropic), "older responses without the 5m/1h split"
    assert any(u.get("server_tool_use") for u in anthropic)
    gemini = [d["usage"] for d in usage if d.get("usage_format", "gemini") == "gemini" and d["provider"] == "google"]
    assert any("thoughtsTokenCount" in u for u in gemini) and any("toolUsePromptTokenCount" in u for u in gemini)
    assert any(sum(_ints(d["usage"])) > 200_000 for d in usage), "some long-context requests"
    known = {m.name for m in MODELS}
    assert {d["model"] for d in usage} <= known
    assert any("/" in d["model"] for d in usage) and any(d["provider"] == "internal" for d in usage)


def test_tasks_are_coherent(rows: list[dict[str, Any]], table: pa.Table) -> None:
    events = [r for r in first_occurrences(rows) if not bad_kind(r)]
    started, ended, outcomes, kinds = {}, {}, defaultdict(list), Counter()
    customer = {}
    for r in events:
        d = r["payload"]
        if r["type"].startswith("task."):
            kinds[r["type"]] += 1
            t = datetime.fromisoformat(r["time"])
            if r["type"] == "task.started":
                assert d["task_id"] not in started
                started[d["task_id"]] = t
                customer[d["task_id"]] = (r["subject"], d["workflow"], d.get("parent_task_id"))
            elif r["type"] == "task.outcome":
                outcomes[d["task_id"]].append((t, d))
            else:
                assert d["task_id"] not in ended
                ended[d["task_id"]] = (t, r["type"])
    c = counts_of(table)
    assert dict(kinds) == {k: v for k, v in c.task_events.items() if v}
    assert len(started) == c.tasks["total"] and len(started) - len(ended) == c.tasks["abandoned_silently"]
    for task_id, (t_end, _) in ended.items():
        assert started[task_id] <= t_end
    for task_id, (subject, workflow, parent) in customer.items():
        if parent:
            assert customer[parent][:2] == (subject, workflow), "a sub-task belongs to its parent's customer"
            assert started[parent] <= started[task_id]
            if parent in ended and task_id in ended:
                assert ended[task_id][0] <= ended[parent][0]
    for task_id, outs in outcomes.items():
        assert ended[task_id][1] == "task.completed"
        outs.sort(key=lambda o: o[0])
        assert outs[0][1]["outcome"] != "reopened" and outs[0][0] >= ended[task_id][0]
        for _, d in outs:
            assert "value" not in d or (d["currency"] == "USD" and d["value"].count(".") == 1)
    assert any(o[-1][1]["outcome"] == "reopened" for o in outcomes.values())


def test_usage_falls_inside_its_task_and_retries_repeat_the_prompt(rows: list[dict[str, Any]]) -> None:
    events = [r for r in first_occurrences(rows) if not bad_kind(r)]
    window: dict[str, list[datetime]] = {}
    for r in events:
        if r["type"] == "task.started":
            window[r["payload"]["task_id"]] = [datetime.fromisoformat(r["time"]), END]
    for r in events:
        if r["type"] in ("task.completed", "task.failed", "task.abandoned"):
            window[r["payload"]["task_id"]][1] = datetime.fromisoformat(r["time"])
    hashes: dict[str, set[str]] = defaultdict(set)
    calls = Counter()
    for r in events:
        d = r["payload"]
        if r["type"] != "llm.usage" or "task_id" not in d:
            continue
        lo, hi = window[d["task_id"]]
        assert lo <= datetime.fromisoformat(r["time"]) <= hi
        hashes[d["prompt_hash"]].add(d["task_id"])
        calls[d["prompt_hash"]] += 1
    assert all(len(tasks) == 1 for tasks in hashes.values()), "a prompt hash never crosses tasks"
    assert any(n > 1 for n in calls.values()), "retries repeat their prompt hash"


def test_same_seed_same_events_other_seed_other_ids(table: pa.Table) -> None:
    again = generate_table(N, seed=7, start=START, days=30, customers=20)
    assert again.equals(table)
    other = generate_table(N, seed=8, start=START, days=30, customers=20)
    assert not set(other["id"].to_pylist()) & set(table["id"].to_pylist())


def test_chunks_keep_ids_unique() -> None:
    from workmeter.demo import iter_chunks

    chunks = list(iter_chunks(5_000, 3, START, 10, 5, chunk=2_000))
    assert [c.num_rows for c in chunks] == [2_000, 2_000, 1_000]
    threaded = list(iter_chunks(5_000, 3, START, 10, 5, chunk=2_000, workers=2))
    assert all(a.equals(b) for a, b in zip(chunks, threaded, strict=True)), "threads change nothing"
    keys = Counter((s, i) for c in chunks for s, i in zip(c["source"].to_pylist(), c["id"].to_pylist(), strict=True))
    total = sum(counts_of(c).duplicates + counts_of(c).conflicts for c in chunks)
    assert sum(n - 1 for n in keys.values()) == total
