"""Tenant isolation (PRODUCT.md §3): another tenant's job is a 404 on every endpoint, and
lists, queue counts and stats only ever show the caller's own tenant."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from jobs_shared.store import JobStore
from tests.support.gateway import Client, bearer, gateway_client, seed_scenario, token

ACME_JOBS = ["job-a", "job-b", "job-c", "job-d", "job-e"]
GLOBEX_JOBS = ["job-x", "job-y"]
STATS_RANGE = {"from": "2025-03-01", "to": "2025-03-06"}


@pytest.fixture
async def client(sqlite_store: JobStore) -> AsyncIterator[Client]:
    await seed_scenario(sqlite_store)
    async with gateway_client(sqlite_store, tenant=None) as client:
        yield client


def _as(tenant: str, **claims: Any) -> dict[str, str]:
    return bearer(token(tenant=tenant, **claims))


@pytest.mark.parametrize("suffix", ["", "/items", "/errors"])
@pytest.mark.parametrize(
    ("tenant", "job_id"),
    [("globex", job) for job in ACME_JOBS] + [("acme", job) for job in GLOBEX_JOBS],
)
async def test_another_tenants_job_is_404_like_a_missing_one(
    client: Client, tenant: str, job_id: str, suffix: str
) -> None:
    foreign = await client.get(f"/api/v1/jobs/{job_id}{suffix}", headers=_as(tenant))
    missing = await client.get(f"/api/v1/jobs/no-such-job{suffix}", headers=_as(tenant))

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert "tenant" not in foreign.text


async def test_an_admin_of_another_tenant_gets_404_too(client: Client) -> None:
    response = await client.get("/api/v1/jobs/job-a", headers=_as("globex", roles=["jobs:admin"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("tenant", "expected"), [("acme", ACME_JOBS[::-1]), ("globex", GLOBEX_JOBS), ("initech", [])]
)
async def test_the_list_shows_only_the_callers_tenant(
    client: Client, tenant: str, expected: list[str]
) -> None:
    page = (await client.get("/api/v1/jobs", headers=_as(tenant))).json()
    assert [job["id"] for job in page["jobs"]] == expected
    assert {job["tenant"] for job in page["jobs"]} <= {tenant}


async def test_list_filters_never_reach_across_tenants(client: Client) -> None:
    by_user = await client.get(
        "/api/v1/jobs", params={"user": "eve@globex.test"}, headers=_as("acme")
    )
    assert by_user.json()["jobs"] == []


async def test_a_cursor_from_another_tenant_pages_only_the_callers_jobs(client: Client) -> None:
    acme_page = (await client.get("/api/v1/jobs", params={"limit": 1}, headers=_as("acme"))).json()
    globex = await client.get(
        "/api/v1/jobs", params={"cursor": acme_page["next_cursor"]}, headers=_as("globex")
    )
    assert {job["tenant"] for job in globex.json()["jobs"]} == {"globex"}


async def test_queue_counts_only_the_callers_tenant(client: Client) -> None:
    acme = (await client.get("/api/v1/queue", headers=_as("acme"))).json()
    globex = (await client.get("/api/v1/queue", headers=_as("globex"))).json()

    def counts(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
        return {line["type"]: (line["pending"], line["in_progress"]) for line in body["types"]}

    assert counts(acme) == {
        "document_ingestion": (0, 0),
        "enrichment": (0, 1),
        "crawl": (0, 0),
        "export": (1, 0),
    }
    assert counts(globex) == {
        "document_ingestion": (0, 0),
        "enrichment": (1, 1),
        "crawl": (0, 0),
        "export": (0, 0),
    }


async def test_stats_count_only_the_callers_tenant(client: Client) -> None:
    def created(body: dict[str, Any]) -> list[int]:
        return [sum(bucket["created"].values()) for bucket in body["buckets"]]

    acme = await client.get("/api/v1/stats", params=STATS_RANGE, headers=_as("acme"))
    globex = await client.get("/api/v1/stats", params=STATS_RANGE, headers=_as("globex"))
    initech = await client.get("/api/v1/stats", params=STATS_RANGE, headers=_as("initech"))

    assert created(acme.json()) == [1, 1, 1, 1, 1]
    assert created(globex.json()) == [1, 1, 0, 0, 0]
    assert created(initech.json()) == [0, 0, 0, 0, 0]
    assert globex.json()["buckets"][0]["success_rate"] == 0.0
