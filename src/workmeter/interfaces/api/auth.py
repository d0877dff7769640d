"""Who is calling: API keys from ``Authorization: Bearer`` or ``X-Api-Key``.

* no key, or an unknown / revoked one → 401 ``unauthorized``;
* a key without the route's scope → 403 ``forbidden``;
* a customer-bound key asking for another customer → 403 ``forbidden``
  (never a silently empty result). :func:`subjects_for` and
  :func:`check_customer` are the two tenancy gates every route uses.

With ``serve --no-auth`` every request acts as an unbound admin.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from workmeter.core.errors import Forbidden, Unauthorized

bearer = HTTPBearer(auto_error=False, description="A workmeter API key (wm_…) as a bearer token.")
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A workmeter API key (wm_…).")


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str | None
    scope: str
    customer: str | None

    def allows(self, scope: str) -> bool:
        return self.scope == "admin" or self.scope == scope


LOCAL = Principal(key_id=None, scope="admin", customer=None)


async def authenticate(
    request: Request,
    cred: HTTPAuthorizationCredentials | None = Security(bearer),
    x_api_key: str | None = Security(api_key_header),
) -> Principal:
    if not request.app.state.settings.auth:
        return LOCAL
    raw = cred.credentials if cred is not None else x_api_key
    if not raw:
        raise Unauthorized("missing API key: send 'Authorization: Bearer wm_…' or 'X-Api-Key: wm_…'",
                           where="authorization")
    key = request.app.state.wm.keys.verify(raw)
    if key is None:
        raise Unauthorized("invalid or revoked API key", where="authorization")
    request.app.state.wm.keys.touch(key.id)
    request.state.key_id = key.id
    return Principal(key.id, key.scope, key.customer)


def require(scope: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the caller, who must hold ``scope`` (admin holds every scope)."""

    async def dependency(request: Request, principal: Principal = Security(authenticate)) -> Principal:
        if not principal.allows(scope):
            raise Forbidden(f"this key has scope {principal.scope!r}; this endpoint needs {scope!r}",
                            where="scope")
        return principal

    return dependency


def subjects_for(principal: Principal, requested: list[str] | None) -> list[str] | None:
    """The customers a query may see: a bound key sees only its own customer."""
    if principal.customer is None:
        return requested or None
    if requested and any(s != principal.customer for s in requested):
        raise Forbidden("this key is bound to another customer", where="customer")
    return [principal.customer]


def check_customer(principal: Principal, customer: str | None) -> None:
    """Refuse a bound key access to anything of another customer."""
    if principal.customer is not None and customer != principal.customer:
        raise Forbidden("this key is bound to another customer", where="customer")


INGEST = require("ingest")
READ = require("read")
ADMIN = require("admin")
