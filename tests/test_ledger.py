"""The ledger: nothing accepted is lost, nothing is counted twice, bad input never takes good input down."""

from __future__ import annotations

import copy
from pathlib import Path

from conftest import usage_event
from workmeter.app import Workmeter
from workmeter.ledger.usage import usage_report


def statuses(report) -> list[str]:
    return [r.status for r in report.results]


def test_accepts_then_dedups_permanently(wm: Workmeter) -> None:
    events = [usage_event(f"e{i}") for i in range(5)]
    first = wm.ledger.ingest(events)
    assert first.summary() == {"accepted": 5, "duplicates": 0, "conflicts": 0, "rejected": 0}
    again = wm.ledger.ingest(events, with_results=True)
    assert again.summary() == {"accepted": 0, "duplicates": 5, "conflicts": 0, "rejected": 0}
    assert statuses(again) == ["duplicate"] * 5
    assert wm.ledger.counts()["events"] == 5


def test_same_key_different_payload_is_a_conflict_and_first_stays(wm: Workmeter) -> None:
    wm.ledger.ingest([usage_event("e1", usage={"input_tokens": 10, "output_tokens": 1})])
    changed = usage_event("e1", usage={"input_tokens": 999, "output_tokens": 1})
    rep = wm.ledger.ingest([changed], with_results=True)
    assert statuses(rep) == ["conflict"]
    rows = usage_report(wm.db, "customer")
    assert rows[0]["input"] == 10
    listed = wm.ledger.conflicts()
    assert [(c["source"], c["id"]) for c in listed] == [("test", "e1")]
    assert "999" in listed[0]["raw"]


def test_same_id_from_another_source_is_another_event(wm: Workmeter) -> None:
    rep = wm.ledger.ingest([usage_event("e1", source="a"), usage_event("e1", source="b")])
    assert rep.accepted == 2


def test_duplicates_and_conflicts_inside_one_batch(wm: Workmeter) -> None:
    a = usage_event("x")
    b = copy.deepcopy(a)
    c = usage_event("x", usage={"input_tokens": 1, "output_tokens": 1})
    rep = wm.ledger.ingest([a, b, c], with_results=True)
    assert statuses(rep) == ["accepted", "duplicate", "conflict"]
    assert wm.ledger.counts()["events"] == 1


def test_bad_events_are_rejected_with_reasons_and_good_ones_still_land(wm: Workmeter) -> None:
    good = usage_event("ok")
    no_subject = usage_event("b1")
    del no_subject["subject"]
    bad_time = usage_event("b2", time="yesterday")
    no_offset = usage_event("b3", time="2026-10-01T12:00:00")
    negative = usage_event("b4", usage={"input_tokens": -5, "output_tokens": 1})
    cached_gt_prompt = usage_event("b5", provider="openai", model="gpt-4o", usage={
        "prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 50}})
    bad_format = usage_event("b6", usage_format="morse")
    rep = wm.ledger.ingest([good, no_subject, bad_time, no_offset, negative, cached_gt_prompt, bad_format,
                            "{not json"], with_results=True)
    assert statuses(rep) == ["accepted"] + ["rejected"] * 7
    reasons = [r.reason or "" for r in rep.results]
    assert "subject" in reasons[1]
    assert "time" in reasons[2] and "time" in reasons[3]
    assert "input_tokens" in reasons[4]
    assert "cached" in reasons[5]
    assert "morse" in reasons[6] or "format" in reasons[6]
    assert "JSON" in reasons[7]
    stored = wm.ledger.rejects()
    assert len(stored) == 7
    assert all(r["reason"] and r["raw"] for r in stored)


def test_generic_events_are_accepted_with_arbitrary_data(wm: Workmeter) -> None:
    ev = {"specversion": "1.0", "id": "t1", "source": "agent", "type": "task.started", "subject": "cus_1",
          "time": "2026-10-01T10:00:00+02:00", "data": {"task_id": "T1", "workflow": "triage", "n": [1, 2]}}
    assert wm.ledger.ingest([ev]).accepted == 1
    row = wm.db.read().execute("SELECT type, task_id, time FROM live_events").fetchone()
    assert row[0] == "task.started" and row[1] == "T1"
    assert row[2].isoformat() == "2026-10-01T08:00:00+00:00"


def test_void_and_amend_are_new_records_and_reports_follow_them(wm: Workmeter) -> None:
    wm.ledger.ingest([usage_event("a", usage={"input_tokens": 100, "output_tokens": 10}),
                      usage_event("b", usage={"input_tokens": 200, "output_tokens": 20})])
    wm.ledger.void("test", "a", "test traffic")
    assert usage_report(wm.db, "customer")[0]["input"] == 200
    replacement = usage_event("b", usage={"input_tokens": 250, "output_tokens": 20})
    wm.ledger.amend(replacement, "provider re-reported usage")
    row = usage_report(wm.db, "customer")[0]
    assert (row["events"], row["input"]) == (1, 250)
    stored = wm.db.read().execute("SELECT count(*), sum(input) FROM events").fetchone()
    assert stored == (2, 300)  # history untouched
    from workmeter.ledger.corrections import history

    assert [h["action"] for h in history(wm.db, "test", "b")] == ["amend"]
    # a re-send of the original after an amendment is still a duplicate, not a new event
    assert wm.ledger.ingest([usage_event("b", usage={"input_tokens": 200, "output_tokens": 20})]).duplicates == 1


def test_restart_keeps_every_count(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    with Workmeter.open(path) as app:
        app.ledger.ingest([usage_event(f"e{i}", subject=f"c{i % 3}") for i in range(30)])
        before = usage_report(app.db, "customer")
    with Workmeter.open(path) as app:
        assert usage_report(app.db, "customer") == before
        assert app.ledger.ingest([usage_event("e0", subject="c0")]).duplicates == 1
        assert app.ledger.ingest([usage_event("e30", subject="c0")]).accepted == 1


def test_usage_report_groups_and_filters(wm: Workmeter) -> None:
    wm.ledger.ingest([
        usage_event("1", subject="a", time="2026-10-01T00:00:00Z", usage={"input_tokens": 1, "output_tokens": 2}),
        usage_event("2", subject="a", time="2026-10-31T23:59:59Z", usage={"input_tokens": 3, "output_tokens": 4}),
        usage_event("3", subject="b", time="2026-11-01T00:00:00Z", usage={"input_tokens": 5, "output_tokens": 6}),
    ])
    from datetime import UTC, datetime

    rows = usage_report(wm.db, "customer,month", datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert [(r["customer"], r["month"], r["events"], r["input"], r["output"]) for r in rows] == [
        ("a", "2026-10", 2, 4, 6)]


def test_usage_report_without_group_keys_is_one_total_row(wm: Workmeter) -> None:
    wm.ledger.ingest([usage_event("1", subject="a"), usage_event("2", subject="b")])
    rows = usage_report(wm.db, "")
    assert [(r["events"], r["input"]) for r in rows] == [(2, 200)]
    assert "customer" not in rows[0]


def test_voiding_twice_says_the_event_is_already_voided(wm: Workmeter) -> None:
    import pytest

    from workmeter.core.errors import Conflict

    wm.ledger.ingest([usage_event("a")])
    wm.ledger.void("test", "a", "test traffic")
    with pytest.raises(Conflict, match="already voided"):
        wm.ledger.void("test", "a", "again")


def test_openai_default_service_tier_is_the_standard_tier(wm: Workmeter) -> None:
    ev = usage_event("d", provider="openai", model="gpt-4o", service_tier="default",
                     usage={"prompt_tokens": 10, "completion_tokens": 2})
    assert wm.ledger.ingest([ev]).accepted == 1
    assert wm.db.read().execute("SELECT service_tier FROM live_events").fetchall() == [("standard",)]


def test_null_task_id_and_null_attributes_mean_absent(wm: Workmeter) -> None:
    ev = usage_event("n", task_id=None, attributes=None)
    assert ev["data"]["task_id"] is None and ev["data"]["attributes"] is None
    rep = wm.ledger.ingest([ev], with_results=True)
    assert statuses(rep) == ["accepted"], rep.results
    row = wm.db.read().execute("SELECT task_id, attributes, team FROM live_events").fetchall()
    assert row == [(None, None, None)]


def test_lowercase_t_and_z_are_rfc3339_times(wm: Workmeter) -> None:
    ev = usage_event("lc")
    ev["time"] = "2026-10-01t12:30:00z"
    assert statuses(wm.ledger.ingest([ev], with_results=True)) == ["accepted"]
    (when,) = wm.db.read().execute("SELECT time FROM live_events").fetchone()  # type: ignore[misc]
    assert when.isoformat() == "2026-10-01T12:30:00+00:00"


def test_ingest_texts_takes_arrow_string_arrays_in_chunks(wm: Workmeter) -> None:
    import orjson
    import pyarrow as pa
    import pytest

    from workmeter.core.errors import InvalidInput

    texts = [orjson.dumps(usage_event(f"t{i}")).decode() for i in range(5)]
    chunks = pa.chunked_array([pa.array(texts[:2]), pa.array([*texts[2:], "{bad"])])
    rep = wm.ledger.ingest_texts(chunks, with_results=True)
    assert statuses(rep) == ["accepted"] * 5 + ["rejected"]
    assert [r.position for r in rep.results] == list(range(6))
    assert rep.results[5].reason == "not valid JSON"
    assert wm.ledger.ingest_texts(pa.array(texts)).duplicates == 5
    with pytest.raises(InvalidInput, match="Arrow string array"):
        wm.ledger.ingest_texts(pa.array([1, 2]))


def test_prompt_hash_is_a_column_of_usage_events(wm: Workmeter) -> None:
    wm.ledger.ingest([usage_event("h1", prompt_hash="p-1"), usage_event("h2", prompt_hash=7), usage_event("h3")])
    rows = wm.db.read().execute("SELECT id, prompt_hash FROM live_events ORDER BY id").fetchall()
    assert rows == [("h1", "p-1"), ("h2", "7"), ("h3", None)]


def test_results_can_be_asked_for_some_positions_only(wm: Workmeter) -> None:
    events = [usage_event(f"r{i}") for i in range(6)]
    wm.ledger.ingest(events[:2])
    rep = wm.ledger.ingest(events, with_results=[(1, 3), (5, 6)])
    assert rep.summary() == {"accepted": 4, "duplicates": 2, "conflicts": 0, "rejected": 0}
    assert [(r.position, r.status) for r in rep.results] == [(1, "duplicate"), (2, "accepted"), (5, "accepted")]
    assert wm.ledger.ingest(events, with_results=[]).results == []
