"""Request bodies: size limits, gzip, content types — checked before any parsing.

A body larger than ``max_bytes`` (as sent, or once gunzipped) is refused with
413 ``too_large`` without reading the rest; an unknown ``Content-Encoding``
is 415 ``unsupported_media``.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from workmeter.core.errors import InvalidInput
from workmeter.interfaces.api.errors import TooLarge, UnsupportedMedia


def media_type(request: Request) -> str:
    """The content type without parameters, lowercased (``""`` when absent)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"body of {declared} bytes is above the limit of {max_bytes}", where="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"body is above the limit of {max_bytes} bytes", where="body")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _inflate(body, max_bytes, gzip=encoding != "deflate")
    raise UnsupportedMedia(f"content-encoding {encoding!r} is not supported (use gzip or none)",
                           where="content-encoding")


def _inflate(body: bytes, max_bytes: int, *, gzip: bool) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | (16 if gzip else 0))
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidInput(f"body is not valid {'gzip' if gzip else 'deflate'}: {exc}",
                           where="content-encoding") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed body is above the limit of {max_bytes} bytes", where="body")
    return out


async def json_body(request: Request, limit: int = 1024 * 1024) -> dict[str, Any]:
    """A JSON object body (400 when it is not one)."""
    try:
        body = orjson.loads(await read_body(request, limit))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", where="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", where="body")
    return body


def body_doc(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    """``openapi_extra`` documenting a request body read by hand."""
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}
