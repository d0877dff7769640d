"""The one exception tree for program and storage failures.

Data problems (a bad event, an unpriced model, a duplicate with a different
payload) are *records*, returned in reports; they never raise. Everything that
does raise derives from :class:`WorkmeterError` and carries a stable ``code``::

    WorkmeterError                    code
    ├── InvalidInput                  invalid_input      bad arguments, bad files
    │   ├── InvalidMoney              invalid_money      a float or junk where money goes
    │   ├── InvalidPlan               invalid_plan       plan file errors (file, line, field)
    │   └── InvalidUsage              invalid_usage      a usage object that cannot be normalized
    ├── NotFound                      not_found          unknown customer, plan, invoice, key …
    ├── Conflict                      conflict           state forbids it (finalized invoice, …)
    ├── Unauthorized                  unauthorized       missing or invalid API key
    ├── Forbidden                     forbidden          wrong scope or tenant
    ├── Overloaded                    overloaded         write queue full (retry later)
    └── StorageError                  storage_error      the database failed

Interfaces map these to HTTP statuses / exit codes in exactly one place each.
"""

from __future__ import annotations


class WorkmeterError(Exception):
    code = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.where:
            out["where"] = self.where
        return out


class InvalidInput(WorkmeterError):
    code = "invalid_input"


class InvalidMoney(InvalidInput):
    code = "invalid_money"


class InvalidPlan(InvalidInput):
    code = "invalid_plan"


class InvalidUsage(InvalidInput):
    code = "invalid_usage"


class NotFound(WorkmeterError):
    code = "not_found"


class Conflict(WorkmeterError):
    code = "conflict"


class Unauthorized(WorkmeterError):
    code = "unauthorized"


class Forbidden(WorkmeterError):
    code = "forbidden"


class Overloaded(WorkmeterError):
    code = "overloaded"


class StorageError(WorkmeterError):
    code = "storage_error"
