"""Commands on the `jobs.commands` topic exchange.

`SubmitJob` is the public contract (routing key `<type>.submit`); other MerchantOps
services publish it. `CancelJob` (`<type>.cancel`) comes from the gateway. `RunJob`
(`<type>.run`) is what the tracker hands to the workers once a job exists.
"""

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobs_shared.contracts.vocabulary import JobType, utc_now


class SubmitJob(BaseModel):
    """Start a job. A second submit with the same `job_id` creates nothing new."""

    model_config = ConfigDict(extra="ignore")

    job_id: str | None = Field(default=None, min_length=1, max_length=128)
    tenant: str = Field(min_length=1, max_length=128)
    user_email: str = Field(min_length=1, max_length=320)
    params: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = Field(default=None, description="The submitter's `sub` claim.")
    retry_of: str | None = Field(
        default=None, description="The job whose failed items this retries."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="What the job works on: file name, size, URL."
    )
    submitted_at: AwareDatetime = Field(default_factory=utc_now)


class CancelJob(BaseModel):
    """Ask for a job to stop: no new item starts, items already processed are kept."""

    job_id: str
    tenant: str
    job_type: JobType
    requested_by: str = Field(description="Email of the user who cancelled.")
    at: AwareDatetime = Field(default_factory=utc_now)


class RunJob(BaseModel):
    """The tracker's hand-off to a worker: the job exists, go and do it."""

    job_id: str
    tenant: str
    job_type: JobType
    user_email: str
    params: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    retry_of: str | None = None
    created_at: datetime
