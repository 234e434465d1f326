"""What the gateway asks RabbitMQ: queue depth per type (`/queue`) and readiness (`/readyz`),
and the lifespan that builds the store and broker from settings."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from jobs_shared.contracts import JobType
from jobs_shared.contracts.routing import run_key
from jobs_shared.store import JobStore
from jobs_shared.topology import COMMANDS, declare_topology
from tests.support.gateway import (
    UNREACHABLE_AMQP,
    Client,
    bearer,
    gateway_client,
    seed_scenario,
    settings,
    token,
)
from tests.support.rabbit import temporary_vhost

pytestmark = pytest.mark.rabbitmq


@pytest.fixture(scope="module")
def private_amqp_url() -> Iterator[str]:
    """A vhost of this module's own: the depth test leaves messages in the worker queues,
    which must never reach another suite's workers in the session-wide vhost."""
    with temporary_vhost("jobs-test-gateway") as url:
        yield url


@pytest.fixture
async def broker(amqp_url: str) -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker(amqp_url)
    await broker.connect()
    yield broker
    await broker.stop()


def _depths(body: dict[str, Any]) -> dict[str, int | None]:
    return {line["type"]: line["queue_depth"] for line in body["types"]}


async def _queue(client: Client) -> dict[str, Any]:
    response = await client.get("/api/v1/queue")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_queue_reports_each_worker_queue_depth_beside_the_tenants_counts(
    sqlite_store: JobStore, private_amqp_url: str
) -> None:
    await seed_scenario(sqlite_store)
    broker = RabbitBroker(private_amqp_url)
    await broker.connect()
    try:
        async with gateway_client(sqlite_store, broker) as client:
            before_topology = await _queue(client)
            await declare_topology(private_amqp_url)
            empty = await _queue(client)
            for job_type, count in ((JobType.ENRICHMENT, 2), (JobType.CRAWL, 1)):
                for _ in range(count):
                    await broker.publish(b"{}", exchange=COMMANDS, routing_key=run_key(job_type))
            loaded = await _queue(client)
    finally:
        await broker.stop()

    assert set(_depths(before_topology).values()) == {None}  # no queue to ask yet
    assert _depths(empty) == dict.fromkeys(JobType, 0)
    assert loaded["types"] == [
        {"type": "document_ingestion", "pending": 0, "in_progress": 0, "queue_depth": 0},
        {"type": "enrichment", "pending": 0, "in_progress": 1, "queue_depth": 2},
        {"type": "crawl", "pending": 0, "in_progress": 0, "queue_depth": 1},
        {"type": "export", "pending": 1, "in_progress": 0, "queue_depth": 0},
    ]


async def test_queue_depth_is_null_when_the_broker_is_unreachable(sqlite_store: JobStore) -> None:
    async with gateway_client(sqlite_store) as client:
        assert set(_depths(await _queue(client)).values()) == {None}


async def test_ready_when_store_and_broker_answer_and_not_once_the_store_is_gone(
    sqlite_store: JobStore, broker: RabbitBroker
) -> None:
    async with gateway_client(sqlite_store, broker, tenant=None) as client:
        ready = await client.get("/readyz")
        await sqlite_store.close()
        gone = await client.get("/readyz")

    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert gone.status_code == 503
    assert gone.json() == {
        "error": {"code": "service_unavailable", "message": "Not ready: store unreachable."}
    }


async def _wait_ready(client: AsyncTestClient[Litestar]) -> int:
    """/readyz once the broker, connecting in the background, is there (at most ~15 s)."""
    for _ in range(150):
        status = (await client.get("/readyz")).status_code
        if status == 200:
            break
        await asyncio.sleep(0.1)
    return status


async def test_the_lifespan_opens_the_store_and_connects_the_broker_from_settings(
    tmp_path: Path, amqp_url: str
) -> None:
    app = create_app(settings(store_url=f"sqlite:///{tmp_path / 'jobs.db'}", amqp_url=amqp_url))
    async with AsyncTestClient(app=app) as client:
        assert await _wait_ready(client) == 200
        jobs = await client.get("/api/v1/jobs", headers=bearer(token()))
        queue = await client.get("/api/v1/queue", headers=bearer(token()))
    assert jobs.json() == {"jobs": [], "next_cursor": None}
    # The gateway declared the topology once connected, so every worker queue has a depth.
    assert all(isinstance(depth, int) for depth in _depths(queue.json()).values())


async def test_without_rabbitmq_the_gateway_still_serves_reads(tmp_path: Path) -> None:
    app = create_app(
        settings(store_url=f"sqlite:///{tmp_path / 'jobs.db'}", amqp_url=UNREACHABLE_AMQP)
    )
    async with AsyncTestClient(app=app) as client:
        jobs = await client.get("/api/v1/jobs", headers=bearer(token()))
        ready = await client.get("/readyz")
    assert (jobs.status_code, ready.status_code) == (200, 503)
