"""Provider usage objects → exclusive buckets: one test per inclusion rule, with real-looking payloads."""

from __future__ import annotations

from typing import Any

import pytest

from workmeter.core.errors import InvalidUsage
from workmeter.normalize import (
    Buckets,
    anthropic,
    direct,
    gemini,
    normalize,
    openai_chat,
    openai_responses,
    otel,
    resolve_format,
)


def reason(fmt: str, usage: Any) -> str:
    with pytest.raises(InvalidUsage) as err:
        normalize(fmt, usage)
    assert err.value.code == "invalid_usage"
    return err.value.message


# --- anthropic -------------------------------------------------------------------------------


def test_anthropic_input_excludes_cache_and_split_ttls_are_kept_apart() -> None:
    usage = {
        "input_tokens": 50, "output_tokens": 700,
        "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 12000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens_details": {"thinking_tokens": 400},
        "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
        "service_tier": "standard",
    }
    assert anthropic.normalize(usage) == Buckets(
        input=50, cache_read=12000, cache_write_5m=1000, cache_write_1h=2000,
        output=700, reasoning=400, web_search=2,
    )


def test_anthropic_cache_write_without_split_is_all_five_minute() -> None:
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 2048, "output_tokens": 5}
    assert normalize("anthropic", usage) == Buckets(input=10, cache_write_5m=2048, output=5)


def test_anthropic_split_short_of_total_leaves_the_rest_at_five_minutes() -> None:
    usage = {"input_tokens": 1, "cache_creation_input_tokens": 500,
             "cache_creation": {"ephemeral_1h_input_tokens": 300}}
    b = normalize("anthropic", usage)
    assert (b.cache_write_5m, b.cache_write_1h) == (200, 300)


def test_anthropic_split_without_total_is_taken_as_the_total() -> None:
    usage = {"cache_creation": {"ephemeral_5m_input_tokens": 7, "ephemeral_1h_input_tokens": 9}}
    b = normalize("anthropic", usage)
    assert (b.cache_write_5m, b.cache_write_1h) == (7, 9)


def test_anthropic_split_above_total_is_rejected() -> None:
    usage = {"cache_creation_input_tokens": 100,
             "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 50}}
    assert reason("anthropic", usage) == (
        "usage.cache_creation.ephemeral_5m_input_tokens + usage.cache_creation.ephemeral_1h_input_tokens"
        " exceeds usage.cache_creation_input_tokens"
    )


def test_anthropic_thinking_above_output_is_rejected() -> None:
    usage = {"output_tokens": 10, "output_tokens_details": {"thinking_tokens": 11}}
    assert reason("anthropic", usage) == "usage.output_tokens_details.thinking_tokens exceeds usage.output_tokens"


def test_anthropic_sdk_dump_with_nulls() -> None:
    usage = {"input_tokens": 12, "output_tokens": 3, "cache_creation": None,
             "cache_creation_input_tokens": None, "cache_read_input_tokens": None,
             "server_tool_use": None, "service_tier": None, "inference_geo": None}
    assert normalize("anthropic", usage) == Buckets(input=12, output=3)


# --- openai ----------------------------------------------------------------------------------


def test_openai_chat_prompt_includes_cached_and_completion_includes_reasoning() -> None:
    usage = {
        "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }
    assert openai_chat.normalize(usage) == Buckets(input=176, cache_read=1024, output=300, reasoning=256)


def test_openai_chat_without_details() -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21,
             "prompt_tokens_details": None, "completion_tokens_details": None}
    assert normalize("openai-chat", usage) == Buckets(input=9, output=12)


def test_openai_chat_cached_above_prompt_is_rejected() -> None:
    usage = {"prompt_tokens": 100, "prompt_tokens_details": {"cached_tokens": 128}}
    assert reason("openai-chat", usage) == "usage.prompt_tokens_details.cached_tokens exceeds usage.prompt_tokens"


def test_openai_chat_reasoning_above_completion_is_rejected() -> None:
    usage = {"completion_tokens": 1, "completion_tokens_details": {"reasoning_tokens": 2}}
    assert reason("openai-chat", usage) == (
        "usage.completion_tokens_details.reasoning_tokens exceeds usage.completion_tokens"
    )


def test_openai_responses_input_includes_cached_and_output_includes_reasoning() -> None:
    usage = {"input_tokens": 5000, "output_tokens": 900, "total_tokens": 5900,
             "input_tokens_details": {"cached_tokens": 4096},
             "output_tokens_details": {"reasoning_tokens": 640}}
    assert openai_responses.normalize(usage) == Buckets(input=904, cache_read=4096, output=900, reasoning=640)


# --- gemini ----------------------------------------------------------------------------------


GEMINI = {"promptTokenCount": 9000, "cachedContentTokenCount": 8000, "candidatesTokenCount": 300,
          "thoughtsTokenCount": 1200, "toolUsePromptTokenCount": 150, "totalTokenCount": 10650,
          "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9000}]}


def test_gemini_thoughts_are_added_to_candidates_and_tool_prompts_to_input() -> None:
    assert gemini.normalize(GEMINI) == Buckets(input=1150, cache_read=8000, output=1500, reasoning=1200)


def test_gemini_buckets_sum_to_the_reported_total() -> None:
    assert normalize("gemini", GEMINI).total_tokens == GEMINI["totalTokenCount"]


def test_gemini_python_sdk_snake_case_gives_the_same_buckets() -> None:
    snake = {"prompt_token_count": 9000, "cached_content_token_count": 8000, "candidates_token_count": 300,
             "thoughts_token_count": 1200, "tool_use_prompt_token_count": 150, "total_token_count": 10650}
    assert normalize("gemini", snake) == normalize("gemini", GEMINI)


def test_gemini_cached_above_prompt_is_rejected() -> None:
    assert reason("gemini", {"promptTokenCount": 10, "cachedContentTokenCount": 11}) == (
        "usage.cachedContentTokenCount exceeds usage.promptTokenCount"
    )


# --- otel ------------------------------------------------------------------------------------


def test_otel_input_includes_cache_reads_and_writes_output_includes_reasoning() -> None:
    usage = {"gen_ai.usage.input_tokens": 1500, "gen_ai.usage.cache_read.input_tokens": 1000,
             "gen_ai.usage.cache_creation.input_tokens": 200, "gen_ai.usage.output_tokens": 400,
             "gen_ai.usage.reasoning.output_tokens": 150, "gen_ai.request.model": "gpt-5"}
    assert otel.normalize(usage) == Buckets(input=300, cache_read=1000, cache_write_5m=200, output=400,
                                            reasoning=150)


def test_otel_cache_above_input_is_rejected_naming_dotted_keys() -> None:
    usage = {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 8,
             "gen_ai.usage.cache_creation.input_tokens": 3}
    assert reason("otel", usage) == (
        'usage["gen_ai.usage.cache_read.input_tokens"] + usage["gen_ai.usage.cache_creation.input_tokens"]'
        ' exceeds usage["gen_ai.usage.input_tokens"]'
    )


# --- buckets ---------------------------------------------------------------------------------


def test_buckets_are_copied_as_given() -> None:
    usage = {"input": 120, "cache_read": 4000, "cache_write_5m": 1, "cache_write_1h": 2,
             "output": 800, "reasoning": 300, "web_search": 1}
    assert direct.normalize(usage) == Buckets(**usage)


def test_buckets_reject_unknown_keys_and_name_the_key() -> None:
    with pytest.raises(InvalidUsage) as err:
        normalize("buckets", {"input": 1, "cache_reads": 5})
    assert "not a bucket name" in err.value.message
    assert err.value.where == "usage.cache_reads"


def test_buckets_reasoning_above_output_is_rejected() -> None:
    assert reason("buckets", {"output": 1, "reasoning": 2}) == "usage.reasoning exceeds usage.output"


# --- what a count is -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (-1, "is negative"),
        (3.0, "is not an integer"),
        (2.5, "is not an integer"),
        ("12", "is not an integer"),
        (True, "is not an integer"),
        ([1], "is not an integer"),
        ({"n": 1}, "is not an integer"),
        (2**53, "is too large (over 9007199254740991)"),
    ],
)
def test_bad_counts_are_rejected_naming_the_field(value: object, why: str) -> None:
    usage = {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": value}}
    assert reason("openai-chat", usage) == f"usage.prompt_tokens_details.cached_tokens {why}"


def test_largest_count_is_accepted() -> None:
    assert normalize("openai-chat", {"prompt_tokens": 2**53 - 1}).input == 2**53 - 1


@pytest.mark.parametrize("details", [5, "x", [], True])
def test_enclosing_key_that_is_not_an_object_is_rejected(details: object) -> None:
    usage = {"prompt_tokens": 10, "prompt_tokens_details": details}
    assert reason("openai-chat", usage) == "usage.prompt_tokens_details is not an object"


@pytest.mark.parametrize("usage", [None, [], "usage", 7])
def test_usage_that_is_not_an_object_is_rejected(usage: object) -> None:
    for fmt in ("anthropic", "openai-chat", "buckets"):
        assert reason(fmt, usage) == "usage is not an object"


def test_missing_counts_are_zero() -> None:
    for fmt in ("anthropic", "openai-chat", "openai-responses", "gemini", "otel", "buckets"):
        assert normalize(fmt, {}) == Buckets()


def test_first_problem_in_order_is_reported() -> None:
    usage = {"prompt_tokens": -1, "prompt_tokens_details": "x", "completion_tokens": 1.5}
    assert reason("openai-chat", usage) == "usage.prompt_tokens_details is not an object"


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "given", "expected"),
    [
        ("anthropic", None, "anthropic"),
        ("openai", None, "openai-chat"),
        ("google", None, "gemini"),
        ("openai", "openai-responses", "openai-responses"),
        ("mistral", "otel", "otel"),
        (None, "buckets", "buckets"),
        ("Anthropic", None, "anthropic"),
        ("OpenAI", None, "openai-chat"),
        ("GOOGLE", None, "gemini"),
    ],
)
def test_resolve_format(provider: str | None, given: str | None, expected: str) -> None:
    assert resolve_format(provider, given) == expected


def test_resolve_format_refuses_unknown_and_missing() -> None:
    with pytest.raises(InvalidUsage, match="unknown usage_format 'openai'"):
        resolve_format("openai", "openai")
    with pytest.raises(InvalidUsage, match="usage_format is missing"):
        resolve_format("mistral", None)
    with pytest.raises(InvalidUsage, match="usage_format is missing"):
        resolve_format(None, None)
    with pytest.raises(InvalidUsage, match="usage_format is missing"):   # not ASCII: never a Unicode case rule
        resolve_format("OpenAİ", None)


def test_normalize_refuses_unknown_format() -> None:
    assert reason("cohere", {"input_tokens": 1}).startswith("unknown usage_format 'cohere'")
