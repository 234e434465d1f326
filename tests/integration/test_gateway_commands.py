"""Starting, cancelling and retrying jobs through the gateway, with the real tracker folding
what it publishes (in-process, over the session's RabbitMQ vhost and a SQLite file).

Workers are played by the test: it publishes their events on `jobs.events` to move a
job along, and reads the `RunJob`s the tracker hands to the (absent) workers.
"""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.rabbit import RabbitBroker

from gateway.domain.jobs import commands
from gateway.domain.jobs.requests import MAX_PAGES, MAX_PRODUCTS
from jobs_shared.contracts import JobStatus, JobType, RunJob, SubmitJob
from jobs_shared.contracts.commands import CANCEL_FENCE_SECONDS
from jobs_shared.store import JobStore
from jobs_shared.topology import RUN_QUEUES
from tests.support.gateway import Client, bearer, gateway_client, seed_scenario, token
from tests.support.tracker import TrackerEnv, outcomes, running_tracker, started, tracker_env

pytestmark = pytest.mark.rabbitmq

ALICE = bearer(token(email="alice@acme.test"))
BOB = bearer(token(email="bob@acme.test"))
ADMIN = bearer(token(email="carol@acme.test", roles=["jobs:admin"]))
EVE = bearer(token(tenant="globex", email="eve@globex.test"))
SITE = "https://x.test"
PRODUCTS = ["p0", "p1", "p2", "p3", "p4"]
ENRICH = {"type": "enrichment", "params": {"product_ids": PRODUCTS}}


@dataclass
class Stack:
    env: TrackerEnv
    http: Client

    async def call(
        self, path: str, who: dict[str, str] = ALICE, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", headers=who, json=body)

    async def read(self, job_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def start(self, body: dict[str, Any] = ENRICH, who: dict[str, str] = ALICE) -> str:
        response = await self.call("/jobs", who, body)
        assert response.status_code == 202, response.text
        job_id: str = response.json()["id"]
        await self.env.wait_for_job(job_id, "is stored", lambda job: True)
        return job_id

    async def work(self, job_id: str, *, total: int, ended: int, fail_every: int = 0) -> None:
        """Play the worker: the job starts with `total` items and the first `ended` end
        (every `fail_every`-th failing, counting from item 0), then wait for the tracker."""
        await self.env.bus.publish_event(started(job_id, total))
        await self.env.bus.publish_event(outcomes(job_id, range(ended), fail_every=fail_every))
        await self.env.wait_for_job(job_id, "folded the work", lambda job: job.ended_items == ended)


@pytest.fixture
async def stack(amqp_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with (
        tracker_env(amqp_url, tmp_path) as env,
        running_tracker(amqp_url, env.store_url),
        RabbitBroker(amqp_url, logger=None) as broker,
        gateway_client(env.store, broker) as http,
    ):
        yield Stack(env, http)
        # No worker of the session may ever run these jobs.
        await env.bus.purge(*(queue.name for queue in RUN_QUEUES.values()))


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    return message


# --- cancel ------------------------------------------------------------------------------


async def test_a_cancel_answers_once_the_job_shows_cancelled(stack: Stack) -> None:
    job_id = await stack.start()
    await stack.work(job_id, total=5, ended=2)

    began = time.monotonic()
    response = await stack.call(f"/jobs/{job_id}/cancel")
    took = time.monotonic() - began

    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["status"], job["processed_items"]) == ("cancelled", 2)
    assert job["cancel_requested_at"] is not None
    assert took >= CANCEL_FENCE_SECONDS  # it waited out the workers' fence
    assert "is cancelled already" in error_of(await stack.call(f"/jobs/{job_id}/cancel"), 409)


async def test_a_pending_job_cancels_and_a_finished_one_is_a_conflict(stack: Stack) -> None:
    pending, finished = await stack.start(), await stack.start()
    await stack.work(finished, total=5, ended=5)

    assert (await stack.call(f"/jobs/{pending}/cancel")).json()["status"] == "cancelled"
    assert "is completed already" in error_of(await stack.call(f"/jobs/{finished}/cancel"), 409)


async def test_only_the_submitter_or_an_admin_of_the_tenant_may_cancel(stack: Stack) -> None:
    job_id = await stack.start()

    assert "submitter" in error_of(await stack.call(f"/jobs/{job_id}/cancel", BOB), 403)
    error_of(await stack.call(f"/jobs/{job_id}/cancel", EVE), 404)
    response = await stack.call(f"/jobs/{job_id}/cancel", ADMIN)
    assert (response.status_code, response.json()["status"]) == (202, "cancelled")


async def test_a_job_another_service_submitted_is_its_users_by_email(stack: Stack) -> None:
    command = SubmitJob(job_id="from-amqp", tenant="acme", user_email="Alice@acme.test")
    await stack.env.bus.submit(JobType.ENRICHMENT, command)
    await stack.env.wait_for_job("from-amqp", "is stored", lambda job: True)

    error_of(await stack.call("/jobs/from-amqp/cancel", BOB), 403)
    assert (await stack.call("/jobs/from-amqp/cancel")).status_code == 202


# --- retry -------------------------------------------------------------------------------


async def test_a_retry_is_a_new_job_over_the_failed_items_linked_both_ways(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "FAILED_ITEMS_PAGE", 2)  # the failed items span pages
    job_id = await stack.start()
    await stack.work(job_id, total=5, ended=5, fail_every=2)  # items 0, 2 and 4 fail
    await stack.env.bus.purge(RUN_QUEUES[JobType.ENRICHMENT].name)

    response = await stack.call(f"/jobs/{job_id}/retry")

    assert response.status_code == 201, response.text
    retry = response.json()
    assert (retry["type"], retry["status"], retry["retry_of"]) == ("enrichment", "pending", job_id)
    assert retry["params"] == {
        "product_ids": PRODUCTS,
        "retry_items": ["item-000000", "item-000002", "item-000004"],
    }
    [run] = await stack.env.bus.take(RUN_QUEUES[JobType.ENRICHMENT].name, 1)
    assert RunJob.model_validate_json(run.body).params == retry["params"]
    await stack.env.wait_for_job(job_id, "lists its retry", lambda job: bool(job.retried_by))
    assert (await stack.read(job_id))["retried_by"] == [retry["id"]]
    assert (await stack.read(retry["id"]))["retried_by"] == []


async def test_a_retry_needs_a_finished_job_with_failed_items(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pending, running, completed, failing = [await stack.start() for _ in range(4)]
    await stack.work(running, total=5, ended=1, fail_every=1)
    await stack.work(completed, total=5, ended=5)
    await stack.work(failing, total=5, ended=5, fail_every=2)
    monkeypatch.setattr(commands, "MAX_RETRY_ITEMS", 2)

    for job_id in (pending, running):
        assert "not finished" in error_of(await stack.call(f"/jobs/{job_id}/retry"), 409)
    assert "no failed items" in error_of(await stack.call(f"/jobs/{completed}/retry"), 409)
    assert "3 failed items" in error_of(await stack.call(f"/jobs/{failing}/retry"), 409)


async def test_only_the_submitter_or_an_admin_of_the_tenant_may_retry(stack: Stack) -> None:
    job_id = await stack.start()
    await stack.work(job_id, total=5, ended=5, fail_every=2)

    assert "submitter" in error_of(await stack.call(f"/jobs/{job_id}/retry", BOB), 403)
    error_of(await stack.call(f"/jobs/{job_id}/retry", EVE), 404)
    assert (await stack.call(f"/jobs/{job_id}/retry", ADMIN)).status_code == 201


# --- start -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "params", "metadata"),
    [
        (
            {"type": "enrichment", "params": {"product_ids": [" p1 ", "p2"]}},
            {"product_ids": ["p1", "p2"]},
            {"products": 2},
        ),
        (
            {"type": "crawl", "params": {"start_url": "https://brand.test", "max_pages": 20}},
            {"start_url": "https://brand.test/", "max_pages": 20},
            {"url": "https://brand.test/"},
        ),
        (
            {"type": "export", "params": {"format": "csv"}},
            {"format": "csv", "filter": {}},
            {"format": "csv"},
        ),
    ],
    ids=["enrichment", "crawl", "export"],
)
async def test_a_started_job_is_pending_and_handed_to_its_worker(
    stack: Stack, body: dict[str, Any], params: dict[str, Any], metadata: dict[str, Any]
) -> None:
    response = await stack.call("/jobs", body=body)

    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["type"], job["status"], job["user_email"]) == (
        body["type"],
        "pending",
        "alice@acme.test",
    )
    assert (job["params"], job["metadata"], job["retry_of"]) == (params, metadata, None)
    stored = await stack.env.wait_for_job(job["id"], "is stored", lambda job: True)
    assert (stored.status, stored.user_id) == (JobStatus.PENDING, "user:alice@acme.test")
    [run] = await stack.env.bus.take(RUN_QUEUES[JobType(body["type"])].name, 1)
    assert RunJob.model_validate_json(run.body).job_id == job["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {}}, "'type'"),
        ({"type": "cleanup"}, "'type'"),
        ({"type": "document_ingestion"}, "POST /api/v1/documents"),
        ({"type": "enrichment"}, "'params.product_ids'"),
        ({"type": "enrichment", "params": {"product_ids": []}}, "'params.product_ids'"),
        ({"type": "enrichment", "params": {"product_ids": [""]}}, "'params.product_ids.0'"),
        (
            {"type": "enrichment", "params": {"product_ids": ["p"] * (MAX_PRODUCTS + 1)}},
            "'params.product_ids'",
        ),
        ({"type": "crawl", "params": {"start_url": "ftp://x.test", "max_pages": 1}}, "start_url"),
        ({"type": "crawl", "params": {"start_url": SITE}}, "'params.max_pages'"),
        (
            {"type": "crawl", "params": {"start_url": SITE, "max_pages": MAX_PAGES + 1}},
            "'params.max_pages'",
        ),
        ({"type": "export", "params": {"format": "pdf"}}, "'params.format'"),
        ({"type": "export", "params": {"format": "csv", "filter": "all"}}, "'params.filter'"),
        ({"type": "export", "params": {"format": "csv", "fields": []}}, "'params.fields'"),
    ],
)
async def test_a_start_with_bad_params_is_a_400_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    assert field in error_of(await stack.call("/jobs", body=body), 400)


async def test_without_the_broker_commands_are_a_503_and_nothing_changes(
    sqlite_store: JobStore,
) -> None:
    await seed_scenario(sqlite_store)
    async with gateway_client(sqlite_store) as http:  # its broker never connects
        for path, body in [("/jobs", ENRICH), ("/jobs/job-e/cancel", None)]:
            response = await http.post(f"/api/v1{path}", json=body)
            assert "try again" in error_of(response, 503)
        assert (await http.get("/api/v1/jobs/job-e")).json()["status"] == "in_progress"
