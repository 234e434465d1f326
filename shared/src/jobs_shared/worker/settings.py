"""The worker runtime's knobs: the shared `JOBS_*` variables plus `JOBS_WORKER_*`.

The defaults suit I/O-bound items (HTTP fetches, catalog writes) on a small replica:
8 items at a time per replica, chunks of 50 so that a big job spreads over replicas
while a chunk still amortises its message, two chunks prefetched so the next one is
ready when the current one thins out.
"""

from pydantic import Field

from jobs_shared.settings import Settings
from jobs_shared.worker.retry import RetryPolicy


class WorkerSettings(Settings):
    worker_concurrency: int = Field(default=8, ge=1)
    """Items processed at once by one replica, over all its chunks."""
    worker_chunk_size: int = Field(default=50, ge=1, le=1000)
    """Items per `WorkChunk` message."""
    worker_chunk_prefetch: int = Field(default=2, ge=1)
    """Chunks a replica holds at once. Small, so chunks go to idle replicas instead."""
    worker_plan_concurrency: int = Field(default=2, ge=1)
    """Jobs a replica plans at once."""
    worker_plan_linger_seconds: float = Field(default=1.0, gt=0)
    """How long a partly filled chunk waits for a slow planner (a crawl) before it goes."""
    worker_item_timeout_seconds: float = Field(default=60.0, gt=0)
    """Time limit of one attempt at one item."""
    worker_max_attempts: int = Field(default=3, ge=1)
    worker_retry_first_delay_seconds: float = Field(default=1.0, ge=0)
    worker_retry_max_delay_seconds: float = Field(default=15.0, ge=0)
    worker_retry_max_total_seconds: float = Field(default=30.0, ge=0)
    """An item's total waiting between retries; past it, the item fails."""
    worker_outcome_batch: int = Field(default=100, ge=1, le=10_000)
    """Outcomes per `ItemOutcomes` message at most."""
    worker_outcome_linger_ms: float = Field(default=150.0, ge=0)
    """How long an outcome waits for company before it is sent."""
    worker_grace_seconds: float = Field(default=20.0, ge=0)
    """On SIGTERM: how long in-flight items may finish before they are handed back."""
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.worker_max_attempts,
            first_delay=self.worker_retry_first_delay_seconds,
            max_delay=self.worker_retry_max_delay_seconds,
            max_total_delay=self.worker_retry_max_total_seconds,
        )
