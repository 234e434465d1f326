"""The `/queue` response."""

from pydantic import BaseModel, Field

from jobs_shared.contracts import JobType


class QueueLine(BaseModel):
    type: JobType
    pending: int = Field(description="The caller's tenant's jobs waiting to start.")
    in_progress: int = Field(description="The caller's tenant's jobs running.")
    queue_depth: int | None = Field(
        description="Jobs waiting in this type's worker queue, all tenants together "
        "(the broker's backlog); null when the broker cannot be asked."
    )


class QueueSnapshot(BaseModel):
    types: list[QueueLine] = Field(description="One line per job type.")
