"""Failures a worker reports, and `classify`: any exception in, one of PRODUCT.md's categories out.

A worker raises a `WorkerError` (or one of its per-category subclasses) when it knows
what went wrong; `classify` also understands the exceptions workers meet without
raising them on purpose: timeouts, pydantic validation, HTTP clients' status and
connection errors. Anything else is our bug: the merchant reads a safe message with a
reference, and the log has the traceback under the same reference.

Transient failures (rate limits, timeouts, 5xx answers) are worth another attempt; the
runtime retries them (`retry.py`) before reporting the item failed.

HTTP clients are recognised by shape, not by import, so that the shared library needs
neither aiohttp nor httpx: a response error is an exception carrying an int `status`
(aiohttp's `ClientResponseError`) or a `response.status_code` (httpx's
`HTTPStatusError`); a transport error is an `OSError` or a class named like theirs.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from jobs_shared.dead_letters import explain
from jobs_shared.errors import ErrorCategory

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
"""The contracts' limit on an error message (`ItemError`, `JobFailed`)."""
_TIMEOUT_CLASS_NAMES = frozenset({"TimeoutException"})  # httpx
_TRANSPORT_CLASS_NAMES = frozenset({"ClientConnectionError", "TransportError"})  # aiohttp, httpx


class WorkerError(Exception):
    """A failure the worker understood: what it means to the merchant, and whether to retry.

    `message` is shown to the merchant as is; `retry_after` (seconds) is how long the
    other side asked us to wait, for rate limits.
    """

    default_category: ClassVar[ErrorCategory] = ErrorCategory.INTERNAL_ERROR
    default_transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        category: ErrorCategory | None = None,
        transient: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category or self.default_category
        self.transient = self.default_transient if transient is None else transient
        self.retry_after = retry_after


class UrlUnreachableError(WorkerError):
    default_category = ErrorCategory.URL_UNREACHABLE


class ParseError(WorkerError):
    default_category = ErrorCategory.PARSE_ERROR


class RateLimitedError(WorkerError):
    default_category = ErrorCategory.RATE_LIMITED
    default_transient = True


class TookTooLongError(WorkerError):
    default_category = ErrorCategory.TIMEOUT
    default_transient = True


class InvalidDataError(WorkerError):
    default_category = ErrorCategory.VALIDATION_ERROR


@dataclass(frozen=True, slots=True)
class Failure:
    """An exception as the runtime acts on it and the merchant reads it."""

    category: ErrorCategory
    message: str
    transient: bool = False
    retry_after: float | None = None


def classify(error: BaseException) -> Failure:
    """What `error` means: its category, a message safe to show, and whether to retry."""
    if isinstance(error, WorkerError):
        return Failure(error.category, _cut(error.message), error.transient, error.retry_after)
    category = getattr(error, "category", None)
    if isinstance(category, ErrorCategory):  # e.g. ingestion's DocumentError
        return Failure(category, _cut(str(error)))
    if isinstance(error, TimeoutError) or _named(error, _TIMEOUT_CLASS_NAMES):
        return Failure(ErrorCategory.TIMEOUT, "The operation timed out.", transient=True)
    if isinstance(error, ValidationError):
        return Failure(ErrorCategory.VALIDATION_ERROR, _cut(explain(error)))
    status = _http_status(error)
    if status is not None:
        return _http_failure(error, status)
    if isinstance(error, OSError) or _named(error, _TRANSPORT_CLASS_NAMES):
        return Failure(ErrorCategory.URL_UNREACHABLE, _cut(_connection_message(error)))
    return internal_failure(error)


def internal_failure(error: BaseException) -> Failure:
    """Our own bug: log the traceback under a reference the merchant can quote to support."""
    reference = uuid.uuid4().hex[:12]
    log.error("internal error %s", reference, exc_info=error)
    return Failure(
        ErrorCategory.INTERNAL_ERROR,
        f"An unexpected error happened on our side (reference {reference}).",
    )


def _http_failure(error: BaseException, status: int) -> Failure:
    where = _where(error)
    message = f"The site answered HTTP {status}{where}."
    if status == 429:
        return Failure(ErrorCategory.RATE_LIMITED, message, True, _retry_after(error))
    if status == 408:
        return Failure(ErrorCategory.TIMEOUT, message, transient=True)
    return Failure(ErrorCategory.URL_UNREACHABLE, message, transient=status >= 500)


def _http_status(error: BaseException) -> int | None:
    status = getattr(error, "status", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) and 100 <= status <= 599 else None


def _retry_after(error: BaseException) -> float | None:
    headers: Any = getattr(error, "headers", None) or getattr(
        getattr(error, "response", None), "headers", None
    )
    try:
        return max(0.0, float(headers["Retry-After"])) if headers else None
    except (KeyError, TypeError, ValueError):
        return None  # absent, or an HTTP date: the backoff decides


def _where(error: BaseException) -> str:
    """` from https://host/path` (no query: it may hold tokens), if the error names a URL."""
    url = getattr(getattr(error, "request_info", None), "real_url", None) or getattr(
        getattr(error, "request", None), "url", None
    )
    if url is None:
        return ""
    parts = urlsplit(str(url))
    return f" from {parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else ""


def _connection_message(error: BaseException) -> str:
    detail = str(error) or type(error).__name__
    return f"Could not connect: {detail}"


def _named(error: BaseException, names: frozenset[str]) -> bool:
    return any(cls.__name__ in names for cls in type(error).__mro__)


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"
