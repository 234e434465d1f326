"""What the tracker keeps per job and per item, between batches of events."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobs_shared.contracts import ItemStatus, JobStatus, JobType
from jobs_shared.errors import ErrorCategory

ItemKey = tuple[str, str]
"""(job_id, item_id)"""


@dataclass(slots=True)
class JobState:
    id: str
    type: JobType
    tenant: str
    created_at: datetime
    updated_at: datetime
    status: JobStatus = JobStatus.PENDING
    submitted: bool = False
    """False while only worker events have been seen (they can overtake the submit)."""
    user_email: str = ""
    user_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    retry_of: str | None = None
    retried_by: list[str] = field(default_factory=list)
    """Jobs retrying this one's failed items, oldest first."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    total_items: int = 0
    total_final: bool = False
    processed_items: int = 0
    failed_items: int = 0
    skipped_items: int = 0
    error: str | None = None
    error_category: ErrorCategory | None = None
    error_counts: dict[ErrorCategory, int] = field(default_factory=dict)
    recent_ends: dict[int, int] = field(default_factory=dict)
    """Items that ended per 10-second bucket (epoch seconds // 10), for the recent rate."""
    last_item_at: datetime | None = None

    @property
    def ended_items(self) -> int:
        return self.processed_items + self.failed_items + self.skipped_items


@dataclass(slots=True)
class ItemState:
    job_id: str
    item_id: str
    status: ItemStatus
    outcome_at: datetime
    """When the outcome that decided `status` happened."""
    label: str = ""
    attempts: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_category: ErrorCategory | None = None
    error_message: str | None = None
    result: dict[str, Any] | None = None
    outcome_attempt: int = 1
    """The attempt of the outcome that decided `status` (the join's tie-breaker)."""

    @property
    def key(self) -> ItemKey:
        return (self.job_id, self.item_id)


@dataclass(frozen=True, slots=True)
class ItemTally:
    """Terminal items of one job counted from the item records (used to repair counters)."""

    processed: int
    failed: int
    skipped: int
    failed_by_category: dict[ErrorCategory, int]
