"""The words every message and document uses: job types and the two status ladders."""

from datetime import UTC, datetime
from enum import StrEnum


class JobType(StrEnum):
    DOCUMENT_INGESTION = "document_ingestion"
    ENRICHMENT = "enrichment"
    CRAWL = "crawl"
    EXPORT = "export"


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL_SUCCESS = "partial_success"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


TERMINAL_JOB_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.PARTIAL_SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED}
)
TERMINAL_ITEM_STATUSES = frozenset({ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED})


def utc_now() -> datetime:
    return datetime.now(UTC)
