"""Response bodies of the job endpoints that are not a bare Job or Item (PRODUCT.md §3)."""

from pydantic import BaseModel, Field

from jobs_shared.contracts import ItemView, JobView
from jobs_shared.errors import ErrorCategory


class JobPage(BaseModel):
    jobs: list[JobView]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )


class ItemPage(BaseModel):
    items: list[ItemView]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )


class Guidance(BaseModel):
    category: ErrorCategory
    cause: str
    fix: str


class ErrorGroup(Guidance):
    count: int = Field(description="Failed items in this category.")
    examples: list[ItemView] = Field(description="Up to three failed items of this category.")


class JobErrors(BaseModel):
    job_error: str | None = Field(description="Why the job as a whole failed, if it did.")
    job_error_guidance: Guidance | None = Field(
        description="Cause and fix of the job-level error, when it has a category."
    )
    groups: list[ErrorGroup] = Field(description="Failed items by category, most frequent first.")
