"""Commands on the `jobs.commands` topic exchange.

`SubmitJob` is the public contract (routing key `<type>.submit`); other MerchantOps
services publish it. `CancelJob` (`<type>.cancel`) comes from the gateway. `RunJob`
(`<type>.run`) is what the tracker hands to the workers once a job exists.
"""

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobs_shared.contracts.vocabulary import JobType, utc_now

RETRY_ITEMS_PARAM = "retry_items"
"""The param of a retry job that lists the item ids to redo (the original's failed items).

The gateway's retry copies the original's params and adds this; the worker runtime's
planner then keeps only the listed items of whatever the worker's plan yields.
"""


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


CANCEL_FENCE_SECONDS = 0.5
"""The cancel protocol's one timing promise, shared by both of its ends.

A worker replica starts an item of a job only while its latest store read of that job,
begun at most this long before the item's start, showed it not cancelled; the gateway
answers a cancel this long after it saw the store show the job `cancelled`. Together:
no item starts after the answer, however late a replica hears the `CancelJob` itself.
"""


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
