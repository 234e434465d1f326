"""The Job and Item documents as the public API returns them (PRODUCT.md §3)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from jobs_shared.contracts.vocabulary import ItemStatus, JobStatus, JobType
from jobs_shared.errors import ErrorCategory


class ItemErrorView(BaseModel):
    category: ErrorCategory
    message: str


class ItemView(BaseModel):
    item_id: str
    label: str
    status: ItemStatus
    error: ItemErrorView | None
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None


class JobView(BaseModel):
    id: str
    type: JobType
    status: JobStatus
    tenant: str
    user_email: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    total_items: int
    processed_items: int = Field(description="Items that succeeded.")
    failed_items: int
    skipped_items: int
    progress_pct: float
    success_rate: float | None
    items_per_minute: float | None
    eta_seconds: float | None
    duration_seconds: float | None
    error: str | None
    error_counts: dict[ErrorCategory, int]
    params: dict[str, Any]
    metadata: dict[str, Any]
    retry_of: str | None
    retried_by: list[str] = Field(
        default_factory=list, description="Jobs retrying this one's failed items, oldest first."
    )
    cancel_requested_at: datetime | None
