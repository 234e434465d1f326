"""Events: what workers report on `jobs.events`, and what the tracker announces on `jobs.updates`.

Workers report item outcomes in batches (`ItemOutcomes`, many per message), because
one message per item would cap the system at the broker's per-message rate. Every
event names its job, tenant and type, so the tracker can fold it even if it arrives
before the job's submit command.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from jobs_shared.contracts.commands import CancelJob, SubmitJob
from jobs_shared.contracts.views import JobView
from jobs_shared.contracts.vocabulary import ItemStatus, JobType, utc_now
from jobs_shared.errors import ErrorCategory


class JobEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    job_id: str = Field(min_length=1, max_length=128)
    tenant: str = Field(min_length=1, max_length=128)
    job_type: JobType
    at: AwareDatetime = Field(default_factory=utc_now)


class JobStarted(JobEvent):
    """The worker began the job and knows how many items it has (so far)."""

    total_items: int = Field(ge=0)
    total_final: bool = Field(
        default=True,
        description="False while the worker may still discover items (crawls).",
    )


class JobTotalGrew(JobEvent):
    """The worker discovered more items: `total_items` is the new total, not an increment."""

    total_items: int = Field(ge=0)
    total_final: bool = True


class JobFailed(JobEvent):
    """A job-level error: the job cannot go on (unreadable file, no items...)."""

    error: str = Field(min_length=1, max_length=2000)
    category: ErrorCategory


class ItemError(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: ErrorCategory
    message: str = Field(max_length=2000)


ReportedItemStatus = Literal[
    ItemStatus.IN_PROGRESS, ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED
]


_FAILED = ItemStatus.FAILED
"""Looked up once: every outcome is checked, and on Python 3.11 reading a member off its
enum class costs as much as the rest of the check."""


# A standard dataclass with pydantic's constraints in its annotations: pydantic validates
# it wherever it arrives inside a message (`ItemOutcomes`), exactly as a pydantic class,
# while a worker, which builds one per item from values it already checked, builds it
# without validating it again (measured: 1.9 against 3.9 µs an outcome). Its docstring
# is public: it describes the message in the AsyncAPI document.
@dataclass(frozen=True, slots=True, kw_only=True)
class ItemOutcome:
    """One thing that happened to one item: it started, succeeded, failed or was skipped."""

    item_id: Annotated[str, Field(min_length=1, max_length=512)]
    label: Annotated[str, Field(max_length=1000)] = ""
    status: ReportedItemStatus
    attempt: Annotated[int, Field(ge=1)] = 1
    at: AwareDatetime
    started_at: Annotated[
        AwareDatetime | None,
        Field(
            description="When the item started, on a final outcome sent without a separate start."
        ),
    ] = None
    error: ItemError | None = None
    result: Annotated[dict[str, Any] | None, Field(description="A small summary.")] = None

    def __post_init__(self) -> None:
        if self.status == _FAILED and self.error is None:
            raise ValueError("a failed item outcome needs an error")


MAX_JOBS_PER_UPDATE = 200
"""Jobs per `JobsUpdated` message at most: a batch that wrote more sends several."""


class ItemOutcomes(JobEvent):
    outcomes: list[ItemOutcome] = Field(min_length=1, max_length=10_000)


def item_outcomes_json(
    job_id: str, tenant: str, job_type: JobType, outcomes: Sequence[ItemOutcome]
) -> bytes:
    """An `ItemOutcomes` message as JSON, as a worker sends it: written by orjson straight
    from the outcomes, at a third of the cost of building the model and having pydantic
    write it (the tracker validates it when it arrives; a test holds the two equal).
    What orjson cannot write itself (an `ItemError`, a Decimal in a result) pydantic does."""
    return orjson.dumps(
        {
            "job_id": job_id,
            "tenant": tenant,
            "job_type": job_type,
            "at": utc_now(),
            "outcomes": outcomes,
        },
        default=to_jsonable_python,
        option=orjson.OPT_NON_STR_KEYS,
    )


class JobsUpdated(BaseModel):
    """The tracker's notification after it committed a batch: the jobs it wrote, each once,
    as the API shows them; the gateway pushes each to the browsers watching it.

    Several jobs travel in one message because a batch of many small jobs changes hundreds
    of them at once, and a message per job then cost the tracker more than folding them.
    """

    jobs: list[JobView] = Field(min_length=1, max_length=MAX_JOBS_PER_UPDATE)


@dataclass(frozen=True, slots=True)
class JobSubmitted:
    """A `SubmitJob` as the tracker folds it: its type (from the routing key) and id settled."""

    job_id: str
    job_type: JobType
    command: SubmitJob


TrackerMessage = JobSubmitted | CancelJob | JobStarted | JobTotalGrew | JobFailed | ItemOutcomes
