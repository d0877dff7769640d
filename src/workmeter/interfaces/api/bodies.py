"""Request bodies of the write and quote routes: one pydantic model each.

The same model validates the body and writes its OpenAPI schema, so the
document and the server never disagree. Models are strict (no type
coercion: ``"3"`` is not an integer) and ignore unknown fields; ``null``
means "absent" for every optional field, as on the command line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.body import read_body
from workmeter.interfaces.api.params import INSTANT_SCHEMA, MONTH_PATTERN, TIMEZONES, TZ_SCHEMA
from workmeter.normalize.buckets import USAGE_FORMATS

#: A positive decimal amount with at most 2 decimals (the minor unit of most currencies).
POSITIVE_AMOUNT = r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$"

DATE_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Id = Annotated[str, Field(min_length=1, max_length=200)]
Instant = Annotated[str, Field(json_schema_extra=INSTANT_SCHEMA)]
Amount = Annotated[str, Field(pattern=POSITIVE_AMOUNT)]
Tier = Literal["standard", "batch", "flex", "priority"]
Format = Literal["anthropic", "openai-chat", "openai-responses", "gemini", "otel", "buckets"]
assert set(Format.__args__) == set(USAGE_FORMATS)  # type: ignore[attr-defined]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class CustomerFields(Body):
    """What describes a customer besides its id (absent or null: the default, or unchanged)."""

    name: Annotated[str, Field(max_length=200)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    timezone: Annotated[str, Field(json_schema_extra=TZ_SCHEMA)] | None = None
    issuer: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in TIMEZONES:
            raise ValueError("unknown timezone (use an IANA name like Europe/Paris)")
        return value


class CustomerIn(CustomerFields):
    id: Id


class CustomerEditIn(CustomerFields):
    """The fields to change; absent or null fields keep their value."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class SubscribeIn(Body):
    customer: Id
    plan: Id
    start: Annotated[str, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})]
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


class MigrateIn(Body):
    plan: Id
    to_version: Annotated[int, Field(ge=1, le=2**31)] | None = None
    customer: Id | None = None
    at: Annotated[str, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})] | None = None


class UnsubscribeIn(Body):
    customer: Id
    end: Annotated[str, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})]


class GrantIn(Body):
    amount: Amount
    expires: Instant | None = None
    effective: Instant | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class FinalizeIn(Body):
    customer: Id
    period: Annotated[str, Field(pattern=MONTH_PATTERN)]
    early: bool = False


class VoidIn(Body):
    reason: Annotated[str, Field(max_length=500)] | None = None


class CreditNoteIn(Body):
    amount: Amount
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class EventVoidIn(Body):
    source: Id
    id: Id
    reason: Reason


class EventAmendIn(Body):
    """The replacement event (same ``source`` and ``id`` as the original) and why."""

    event: dict[str, Any]
    reason: Reason


class RerateIn(Body):
    from_: Instant | None = Field(None, alias="from")
    to: Instant | None = None
    catalog_version: Id | None = None
    note: Annotated[str, Field(max_length=500)] | None = None


class PlanText(Body):
    """A plan file: its name (the label when two plans share a key) and its TOML text."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")]
    toml: Annotated[str, Field(min_length=1, max_length=256 * 1024)]


class SimulateIn(Body):
    plans: Annotated[list[PlanText], Field(min_length=1, max_length=20)]
    period: Annotated[str, Field(pattern=MONTH_PATTERN)]
    customers: Annotated[list[Id], Field(max_length=10_000)] | None = None


class QuoteIn(Body):
    """One usage object to price; ``usage_format`` may be omitted for anthropic, openai and google."""

    model_config = ConfigDict(strict=True, extra="ignore", json_schema_extra={"anyOf": [
        {"required": ["usage_format"], "properties": {"usage_format": {"type": "string"}}},
        {"required": ["provider"], "properties": {"provider": {"type": "string",
                                                               "enum": ["anthropic", "openai", "google"]}}}]})
    provider: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    model: Id
    at: Instant | None = None
    usage: dict[str, Any]
    usage_format: Format | None = None
    service_tier: Tier | None = None


M = TypeVar("M", bound=Body)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``#/$defs/…`` reference replaced by its definition (models nest, never recurse)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a JSON body validated by ``model`` (nested models inlined)."""
    body = model.model_json_schema()
    body = _inline(body, body.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


async def parse(request: Request, model: type[M], limit: int = 1024 * 1024) -> M:
    """The body as ``model``; 400 with the first problem and where it is."""
    try:
        return model.model_validate(orjson.loads(await read_body(request, limit)))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", where="body") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}", where=where) from None
