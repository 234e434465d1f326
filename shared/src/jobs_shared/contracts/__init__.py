"""Message contracts: every command and event that crosses RabbitMQ, as pydantic models.

The public part (`SubmitJob` on `jobs.commands` with key `<type>.submit`) is fixed by
PRODUCT.md; the rest is this system's own catalogue, published as AsyncAPI in
`docs/asyncapi.yaml`.
"""

from jobs_shared.contracts.commands import CancelJob, RunJob, SubmitJob
from jobs_shared.contracts.events import (
    ItemError,
    ItemOutcome,
    ItemOutcomes,
    JobFailed,
    JobStarted,
    JobSubmitted,
    JobsUpdated,
    JobTotalGrew,
    TrackerMessage,
)
from jobs_shared.contracts.routing import parse_tracker_message
from jobs_shared.contracts.views import ItemView, JobView
from jobs_shared.contracts.vocabulary import (
    TERMINAL_ITEM_STATUSES,
    TERMINAL_JOB_STATUSES,
    ItemStatus,
    JobStatus,
    JobType,
    utc_now,
)
from jobs_shared.contracts.work import WorkChunk, WorkerHeartbeat, WorkItem

__all__ = [
    "TERMINAL_ITEM_STATUSES",
    "TERMINAL_JOB_STATUSES",
    "CancelJob",
    "ItemError",
    "ItemOutcome",
    "ItemOutcomes",
    "ItemStatus",
    "ItemView",
    "JobFailed",
    "JobStarted",
    "JobStatus",
    "JobSubmitted",
    "JobTotalGrew",
    "JobType",
    "JobView",
    "JobsUpdated",
    "RunJob",
    "SubmitJob",
    "TrackerMessage",
    "WorkChunk",
    "WorkItem",
    "WorkerHeartbeat",
    "parse_tracker_message",
    "utc_now",
]
