"""Authentication: every `/api/v1` endpoint answers 401 without a valid token; probes and
the OpenAPI document need none."""

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from jobs_shared.store import JobStore
from tests.support.gateway import Client, bearer, gateway_client, seed_scenario, token

ENDPOINTS = [
    "/api/v1/jobs",
    "/api/v1/jobs/job-a",
    "/api/v1/jobs/job-a/items",
    "/api/v1/jobs/job-a/errors",
    "/api/v1/queue",
    "/api/v1/stats",
]


def _unsigned(claims: dict[str, object]) -> str:
    """An `alg: none` token: a header and claims with an empty signature."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _expired() -> str:
    return token(exp=datetime.now(UTC) - timedelta(seconds=5))


BAD_CREDENTIALS = {
    "no token": {},
    "forged (wrong secret)": bearer(token(secret="another-secret-just-as-long-0123456789abcdef")),
    "expired": bearer(_expired()),
    "alg none": bearer(_unsigned({"sub": "u", "tenant": "acme", "email": "a@acme.test"})),
    "no tenant claim": bearer(token(tenant=None)),
    "no sub claim": bearer(token(sub=None)),
    "empty tenant": bearer(token(tenant="")),
    "roles not a list": bearer(token(roles="jobs:admin")),
    "not a JWT": bearer("not-a-jwt"),
    "Basic scheme": {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    "empty bearer": {"Authorization": "Bearer "},
    "forged cookie": {"Cookie": f"jobs_token={token(secret='x' * 40)}"},
}


@pytest.fixture
async def anonymous(sqlite_store: JobStore) -> AsyncIterator[Client]:
    await seed_scenario(sqlite_store)
    async with gateway_client(sqlite_store, tenant=None) as client:
        yield client


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
async def test_no_valid_token_is_401_on_every_endpoint(
    anonymous: Client, path: str, headers: dict[str, str]
) -> None:
    response = await anonymous.get(path, headers=headers)

    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_valid_bearer_token_or_cookie_is_accepted(anonymous: Client, path: str) -> None:
    by_header = await anonymous.get(path, headers=bearer(token()))
    by_cookie = await anonymous.get(path, headers={"Cookie": f"jobs_token={token()}"})

    assert (by_header.status_code, by_cookie.status_code) == (200, 200)


async def test_a_token_without_exp_is_accepted_and_the_header_wins_over_the_cookie(
    anonymous: Client,
) -> None:
    headers = {**bearer(token(exp=None)), "Cookie": f"jobs_token={_expired()}"}
    assert (await anonymous.get("/api/v1/jobs/job-a", headers=headers)).status_code == 200


async def test_a_query_token_is_refused_on_plain_http(anonymous: Client) -> None:
    response = await anonymous.get("/api/v1/jobs", params={"token": token()})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "status"),
    # This app's broker is never connected: not ready, yet not unauthorized either.
    [("/healthz", 200), ("/readyz", 503), ("/schema/openapi.json", 200)],
)
async def test_probes_and_the_schema_need_no_token(
    anonymous: Client, path: str, status: int
) -> None:
    assert (await anonymous.get(path)).status_code == status


async def test_the_openapi_document_lists_the_api_and_how_to_authenticate(
    anonymous: Client,
) -> None:
    schema = (await anonymous.get("/schema/openapi.json")).json()

    assert set(schema["paths"]) >= {
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/items",
        "/api/v1/jobs/{job_id}/errors",
        "/api/v1/queue",
        "/api/v1/stats",
        "/healthz",
        "/readyz",
    }
    assert schema["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "cookie": {"type": "apiKey", "name": "jobs_token", "in": "cookie"},
    }
    list_jobs = schema["paths"]["/api/v1/jobs"]["get"]
    assert list_jobs["security"] == [{"bearer": []}, {"cookie": []}]
    assert {p["name"] for p in list_jobs["parameters"]} == {
        "type",
        "status",
        "user",
        "created_from",
        "created_to",
        "limit",
        "cursor",
    }
    assert "security" not in schema["paths"]["/healthz"]["get"]
