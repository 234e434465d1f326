"""The workers the browser tests run: the real ingestion worker, slowed down so a job's
progress can be watched moving on screen, and the sleepy test worker for a job that is
still running when the test cancels it."""

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ingestion.settings import IngestionSettings
from ingestion.worker import IngestionWorker
from jobs_shared.contracts import WorkItem
from jobs_shared.worker import BatchResult, ItemContext, WorkerRuntime, WorkerSettings
from tests.support.sleepy_worker import SleepyWorker

ROWS_PER_CHUNK = 4
CHUNK_SECONDS = 0.3
"""A 40-row upload takes about 3 s: several progress updates, and a short test."""


class SlowIngestionWorker(IngestionWorker):
    """The real ingestion worker (parsing, catalog writes, row errors), slowed down."""

    async def process_batch(
        self, items: Sequence[WorkItem], context: ItemContext
    ) -> list[BatchResult]:
        await asyncio.sleep(CHUNK_SECONDS)
        return await super().process_batch(items, context)


def ingestion_runtime(amqp_url: str, store_url: str, blob_dir: Path) -> WorkerRuntime:
    settings = IngestionSettings(
        amqp_url=amqp_url,
        store_url=store_url,
        blob_dir=blob_dir,
        worker_chunk_size=ROWS_PER_CHUNK,
        worker_outcome_batch=ROWS_PER_CHUNK,
        worker_outcome_linger_ms=0,
        worker_concurrency=1,
        worker_chunk_prefetch=1,
        worker_grace_seconds=0.5,
    )
    return WorkerRuntime(SlowIngestionWorker(settings), settings)


def sleepy_runtime(amqp_url: str, store_url: str) -> WorkerRuntime:
    """`export` jobs of `{"items": n, "item_ms": ms}`, submitted over AMQP (the API's export
    params are a real export's)."""
    settings = WorkerSettings(
        amqp_url=amqp_url,
        store_url=store_url,
        worker_chunk_size=5,
        worker_concurrency=2,
        worker_outcome_linger_ms=50,
        worker_grace_seconds=0.5,
    )
    return WorkerRuntime(SleepyWorker("browser-tests"), settings)
