"""The worker runtime: a worker service writes `plan` and `process`; this does the rest.

```python
class Enrichment(Worker):
    job_type = JobType.ENRICHMENT

    async def plan(self, job: RunJob) -> AsyncIterator[WorkItem]:
        for product_id in job.params["product_ids"]:
            yield WorkItem(item_id=product_id, label=product_id)

    async def process(self, item: WorkItem, context: ItemContext) -> dict[str, Any] | None:
        ...  # raise WorkerError subclasses for failures you understand


run_worker(Enrichment(), WorkerSettings())
```

How it runs a job: `runtime.py` (wiring), `planning.py`, `chunks.py`, `outcomes.py`,
`cancellation.py`, `drain.py`, `heartbeat.py`; how it judges failures: `errors.py`,
`retry.py`.
"""

from jobs_shared.contracts.work import EncodedItems
from jobs_shared.worker.base import BatchResult, BatchWorker, ItemContext, JobRef, Worker
from jobs_shared.worker.errors import (
    InvalidDataError,
    ParseError,
    RateLimitedError,
    TookTooLongError,
    UrlUnreachableError,
    WorkerError,
    classify,
)
from jobs_shared.worker.runtime import WorkerRuntime
from jobs_shared.worker.service import run_worker
from jobs_shared.worker.settings import WorkerSettings

__all__ = [
    "BatchResult",
    "BatchWorker",
    "EncodedItems",
    "InvalidDataError",
    "ItemContext",
    "JobRef",
    "ParseError",
    "RateLimitedError",
    "TookTooLongError",
    "UrlUnreachableError",
    "Worker",
    "WorkerError",
    "WorkerRuntime",
    "WorkerSettings",
    "classify",
    "run_worker",
]
