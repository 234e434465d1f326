"""The ingestion worker's settings: the runtime's `JOBS_WORKER_*` knobs with defaults for rows.

The worker is a `BatchWorker`: a chunk's rows are processed together and written in one
catalog call, so big chunks (the most a `WorkChunk` holds) and big outcome messages
amortise every per-message cost over a thousand rows. Every default can still be
overridden per deployment.
"""

from pydantic import Field

from jobs_shared.contracts.work import MAX_CHUNK_ITEMS
from jobs_shared.worker import WorkerSettings

DEFAULT_HTTP_PORT = 8002
"""8000 is the gateway's, 8001 the tracker's; the worker serves health checks only."""


class IngestionSettings(WorkerSettings):
    http_port: int = DEFAULT_HTTP_PORT
    worker_chunk_size: int = Field(default=MAX_CHUNK_ITEMS, ge=1, le=MAX_CHUNK_ITEMS)
    worker_outcome_batch: int = Field(default=MAX_CHUNK_ITEMS, ge=1, le=10_000)
