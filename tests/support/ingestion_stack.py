"""The whole ingestion path in one process, for end-to-end tests: gateway, tracker, worker.

Everything talks through real RabbitMQ (a vhost of the caller's) and shares one SQLite
file and one blob directory, as the services do when run apart: the gateway app (over
httpx's ASGI transport, in the test's own event loop), the tracker
(`tests.support.tracker.running`) and the ingestion worker's runtime. Every wait is
bounded.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
from faststream.rabbit import RabbitBroker

from gateway.app import create_app
from ingestion.settings import IngestionSettings
from ingestion.worker import IngestionWorker
from jobs_shared.blobs.directory import DirectoryBlobStore
from jobs_shared.contracts import TERMINAL_JOB_STATUSES
from jobs_shared.store import CatalogStore, JobStore, open_catalog, open_store
from jobs_shared.topology import declare_topology
from jobs_shared.worker import WorkerRuntime
from tests.support.gateway import bearer, settings, token
from tests.support.tracker import make_tracker, running, wait_until

JOB_WAIT_SECONDS = 60.0

Json = dict[str, Any]


@dataclass
class IngestionStack:
    store: JobStore
    catalog: CatalogStore
    blobs: DirectoryBlobStore
    blob_dir: Path
    broker: RabbitBroker

    @asynccontextmanager
    async def client(
        self, tenant: str = "acme", email: str = "alice@acme.test", **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        """A client of a gateway over this stack, as `tenant`; `overrides` are settings."""
        app = create_app(
            settings(**overrides),
            store=self.store,
            broker=self.broker,
            blobs=self.blobs,
            catalog=self.catalog,
        )
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway.test",
            headers=bearer(token(tenant=tenant, email=email)),
            timeout=30,
        ) as client:
            yield client


async def upload(
    client: httpx.AsyncClient, name: str, data: bytes, content_type: str = "text/csv"
) -> httpx.Response:
    return await client.post("/api/v1/documents", files={"file": (name, data, content_type)})


async def finished(
    client: httpx.AsyncClient, job_id: str, within: float = JOB_WAIT_SECONDS
) -> Json:
    """The job once it reached a terminal status (fails the test after `within` seconds)."""
    seen: list[Json] = []

    async def ended() -> bool:
        response = await client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        seen[:] = [response.json()]
        return seen[0]["status"] in TERMINAL_JOB_STATUSES

    await wait_until(ended, f"job {job_id} ends", within)
    return seen[0]


async def every_page(client: httpx.AsyncClient, path: str, key: str, **params: Any) -> list[Json]:
    """Every entry of a paged list endpoint, following `next_cursor`."""
    entries: list[Json] = []
    query: dict[str, Any] = {"limit": 200, **params}
    while True:
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        entries.extend(body[key])
        if body["next_cursor"] is None:
            return entries
        query["cursor"] = body["next_cursor"]


@asynccontextmanager
async def running_ingestion_stack(amqp_url: str, root: Path) -> AsyncIterator[IngestionStack]:
    """The tracker and the ingestion worker running on `amqp_url`, their files under `root`."""
    store_url = f"sqlite:///{root / 'jobs.db'}"
    blob_dir = root / "blobs"
    worker_settings = IngestionSettings(
        amqp_url=amqp_url,
        store_url=store_url,
        blob_dir=blob_dir,
        worker_retry_first_delay_seconds=0.05,
        worker_grace_seconds=1.0,
    )
    await declare_topology(amqp_url)
    store = open_store(store_url)
    catalog = open_catalog(store_url)
    blobs = DirectoryBlobStore(blob_dir)
    for opened in (store, catalog, blobs):
        await opened.open()
    broker = RabbitBroker(amqp_url, logger=None)
    await broker.connect()
    runtime = WorkerRuntime(IngestionWorker(worker_settings), worker_settings)
    try:
        async with running(make_tracker(amqp_url, store_url)):
            await runtime.start()
            try:
                yield IngestionStack(store, catalog, blobs, blob_dir, broker)
            finally:
                await runtime.stop()
    finally:
        await broker.stop()
        await catalog.close()
        await store.close()
