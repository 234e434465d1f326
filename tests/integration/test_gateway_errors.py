"""Every error is `{"error": {"code", "message"}}`: a bad query parameter is a 400 that names
it, and an unexpected failure is a bare 500 whose trace stays in the server log."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from jobs_shared.store import JobStore
from tests.support.gateway import Client, gateway_client, seed_scenario

BAD_PARAMETERS = [
    ("/api/v1/jobs", {"limit": "0"}, "limit"),
    ("/api/v1/jobs", {"limit": "201"}, "limit"),
    ("/api/v1/jobs", {"limit": "ten"}, "limit"),
    ("/api/v1/jobs", {"status": "done"}, "status"),
    ("/api/v1/jobs", {"status": ["pending", "done"]}, "status"),
    ("/api/v1/jobs", {"type": "upload"}, "type"),
    ("/api/v1/jobs", {"created_from": "yesterday"}, "created_from"),
    ("/api/v1/jobs", {"created_to": "2025-13-01"}, "created_to"),
    ("/api/v1/jobs", {"created_from": "2025-03-05", "created_to": "2025-03-01"}, "created_from"),
    ("/api/v1/jobs", {"cursor": "not-a-cursor"}, "cursor"),
    ("/api/v1/jobs", {"cursor": "am9iLWE"}, "cursor"),  # base64url, but no time in it
    ("/api/v1/jobs/job-a/items", {"status": "done"}, "status"),
    ("/api/v1/jobs/job-a/items", {"limit": "-1"}, "limit"),
    ("/api/v1/jobs/job-a/items", {"cursor": "***"}, "cursor"),
    ("/api/v1/stats", {"bucket": "week"}, "bucket"),
    ("/api/v1/stats", {"from": "soon"}, "from"),
    ("/api/v1/stats", {"to": "later"}, "to"),
    ("/api/v1/stats", {"type": "upload"}, "type"),
    ("/api/v1/stats", {"from": "2025-03-02", "to": "2025-03-01"}, "from"),
    ("/api/v1/stats", {"from": "2024-01-01", "to": "2025-03-01"}, "from"),  # > 400 days
    ("/api/v1/stats", {"from": "2025-01-01", "to": "2025-03-01", "bucket": "hour"}, "from"),
]


@pytest.fixture
async def client(sqlite_store: JobStore) -> AsyncIterator[Client]:
    await seed_scenario(sqlite_store)
    async with gateway_client(sqlite_store) as client:
        yield client


def _assert_error_shape(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body == {"error": {"code": code, "message": body["error"]["message"]}}
    assert "Traceback" not in response.text
    message: str = body["error"]["message"]
    return message


@pytest.mark.parametrize(("path", "params", "name"), BAD_PARAMETERS)
async def test_a_bad_query_parameter_is_a_400_naming_it(
    client: Client, path: str, params: dict[str, Any], name: str
) -> None:
    response = await client.get(path, params=params)
    message = _assert_error_shape(response, 400, "invalid_request")
    assert f"Invalid query parameter '{name}'" in message


async def test_limits_at_the_bounds_are_fine(client: Client) -> None:
    for limit in ("1", "200"):
        assert (await client.get("/api/v1/jobs", params={"limit": limit})).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-route", 404, "not_found"),
        ("GET", "/api/v1/jobs/no-such-job", 404, "not_found"),
        ("DELETE", "/api/v1/jobs/job-a", 405, "method_not_allowed"),
        ("GET", "/readyz", 503, "service_unavailable"),
    ],
)
async def test_other_errors_have_the_same_shape(
    client: Client, method: str, path: str, status: int, code: str
) -> None:
    _assert_error_shape(await client.request(method, path), status, code)


async def test_an_unexpected_failure_is_a_bare_500_logged_with_its_trace(
    sqlite_store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with gateway_client(sqlite_store) as client:
        await sqlite_store.close()  # every store call now raises
        with caplog.at_level(logging.ERROR, logger="gateway.errors"):
            response = await client.get("/api/v1/jobs")

    message = _assert_error_shape(response, 500, "internal_error")
    assert message == "An unexpected error occurred."
    assert "not open" not in response.text
    assert any(record.exc_info for record in caplog.records), "the trace must reach the log"
