"""A test-only worker service on the real runtime, for fault tests: `export` jobs of sleepy items.

A job's params say how many items it has and how long each takes: `{"items": 10000,
"item_ms": 10}`. Each item's result names the replica that processed it
(`{"worker": <its replica name>}`), so a test can tell which replica did what from
the store. `export` because no real exporter exists yet to compete for its queues (and
fault tests run on a vhost of their own anyway).

Run it as a real service: `python -m tests.support.sleepy_worker`, configured like any
worker through `JOBS_*` (and named by `tests.support.processes.REPLICA_VARIABLE`).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

from jobs_shared.contracts import JobType, RunJob, WorkItem
from jobs_shared.worker import ItemContext, Worker, WorkerSettings, run_worker
from tests.support.processes import REPLICA_VARIABLE


class SleepyWorker(Worker):
    job_type = JobType.EXPORT

    def __init__(self, name: str) -> None:
        self.name = name

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem]:
        seconds = job.params["item_ms"] / 1000
        for number in range(job.params["items"]):
            yield WorkItem(item_id=f"item-{number:06d}", payload={"seconds": seconds})

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        await asyncio.sleep(item.payload["seconds"])
        return {"worker": self.name}


def main() -> None:
    run_worker(SleepyWorker(os.environ.get(REPLICA_VARIABLE, str(os.getpid()))), WorkerSettings())


if __name__ == "__main__":
    main()
