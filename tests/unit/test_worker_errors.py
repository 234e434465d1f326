"""`classify`: any exception a worker meets becomes one of PRODUCT.md's categories, safely put."""

import logging
from types import SimpleNamespace

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from ingestion import DocumentError
from jobs_shared.errors import ErrorCategory
from jobs_shared.worker import (
    InvalidDataError,
    ParseError,
    RateLimitedError,
    TookTooLongError,
    UrlUnreachableError,
    WorkerError,
    classify,
)
from jobs_shared.worker.errors import MAX_MESSAGE_CHARS

URL = "https://shop.example/products/42?token=secret"


def httpx_status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", URL)
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError("bad status", request=request, response=response)


class ClientResponseError(Exception):
    """Shaped like aiohttp's (not installed here): `status`, `headers`, `request_info`."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"{status}")
        self.status = status
        self.headers = headers
        self.request_info = SimpleNamespace(real_url=URL)


class ClientConnectionError(Exception):
    """aiohttp's base of transport errors that are not `OSError`s."""


class ServerDisconnectedError(ClientConnectionError):
    pass


class Product(BaseModel):
    sku: str


def validation_error() -> ValidationError:
    try:
        Product.model_validate({})
    except ValidationError as error:
        return error
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    ("error", "category", "transient"),
    [
        (WorkerError("x", category=ErrorCategory.PARSE_ERROR), ErrorCategory.PARSE_ERROR, False),
        (UrlUnreachableError("x"), ErrorCategory.URL_UNREACHABLE, False),
        (ParseError("x"), ErrorCategory.PARSE_ERROR, False),
        (RateLimitedError("x"), ErrorCategory.RATE_LIMITED, True),
        (TookTooLongError("x"), ErrorCategory.TIMEOUT, True),
        (InvalidDataError("x"), ErrorCategory.VALIDATION_ERROR, False),
        (WorkerError("x"), ErrorCategory.INTERNAL_ERROR, False),
        (TimeoutError(), ErrorCategory.TIMEOUT, True),
        (httpx.ReadTimeout("slow"), ErrorCategory.TIMEOUT, True),
        (httpx.ConnectError("refused"), ErrorCategory.URL_UNREACHABLE, False),
        (ConnectionRefusedError(111, "Connection refused"), ErrorCategory.URL_UNREACHABLE, False),
        (ServerDisconnectedError(), ErrorCategory.URL_UNREACHABLE, False),
        (httpx_status_error(429), ErrorCategory.RATE_LIMITED, True),
        (httpx_status_error(503), ErrorCategory.URL_UNREACHABLE, True),
        (httpx_status_error(404), ErrorCategory.URL_UNREACHABLE, False),
        (httpx_status_error(408), ErrorCategory.TIMEOUT, True),
        (ClientResponseError(502, {}), ErrorCategory.URL_UNREACHABLE, True),
        (validation_error(), ErrorCategory.VALIDATION_ERROR, False),
        (DocumentError("Not a spreadsheet."), ErrorCategory.PARSE_ERROR, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_each_failure_gets_its_category_and_retry_decision(
    error: BaseException, category: ErrorCategory, transient: bool
) -> None:
    failure = classify(error)
    assert (failure.category, failure.transient) == (category, transient)
    assert failure.message


def test_a_worker_error_keeps_its_message_and_retry_after() -> None:
    failure = classify(RateLimitedError("Slow down.", retry_after=7))
    assert (failure.message, failure.retry_after) == ("Slow down.", 7)


@pytest.mark.parametrize(
    "error",
    [
        httpx_status_error(429, {"Retry-After": "12"}),
        ClientResponseError(429, {"Retry-After": "12"}),
    ],
    ids=["httpx", "aiohttp"],
)
def test_a_rate_limit_answer_says_how_long_to_wait_and_where(error: Exception) -> None:
    failure = classify(error)
    assert failure.retry_after == 12
    assert failure.message == "The site answered HTTP 429 from https://shop.example/products/42."
    assert "secret" not in failure.message


def test_a_retry_after_date_is_left_to_the_backoff() -> None:
    error = httpx_status_error(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert classify(error).retry_after is None


def test_a_validation_error_names_the_field() -> None:
    assert "sku" in classify(validation_error()).message


def test_a_bug_is_an_internal_error_with_a_safe_message_and_a_logged_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        failure = classify(KeyError("/srv/secret/config.yaml"))
    assert failure.category == ErrorCategory.INTERNAL_ERROR
    assert not failure.transient
    assert "secret" not in failure.message
    assert "Traceback" not in failure.message
    reference = failure.message.split("reference ")[1].rstrip(").")
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_long_message_is_cut_to_what_the_contract_allows() -> None:
    failure = classify(InvalidDataError("x" * 5000))
    assert len(failure.message) == MAX_MESSAGE_CHARS
