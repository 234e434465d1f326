"""Events: what workers report on `jobs.events`, and what the tracker announces on `jobs.updates`.

Workers report item outcomes in batches (`ItemOutcomes`, many per message), because
one message per item would cap the system at the broker's per-message rate. Every
event names its job, tenant and type, so the tracker can fold it even if it arrives
before the job's submit command.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobs_shared.contracts.commands import CancelJob, SubmitJob
from jobs_shared.contracts.views import JobView
from jobs_shared.contracts.vocabulary import ItemStatus, JobType, utc_now
from jobs_shared.contracts.writing import message_json, object_with_array
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


def outcome_json(outcome: ItemOutcome) -> bytes:
    """One outcome as JSON, as a worker writes it into an `ItemOutcomes` message."""
    return message_json(outcome)


class SucceededOutcomes:
    """Writes the `succeeded` outcomes of items that ended together (a batch's items: same
    attempt, start and end) as JSON, each from its item's id, label and result JSON plus
    a tail written once for them all. A batch's outcomes otherwise cost a batch worker
    more than its items' own work: an `ItemOutcome` built, its result written once to
    check its size and again into the message (`bench.ingestion`'s CSV, by py-spy: a
    quarter of the worker's event loop). A test holds what it writes equal to
    `outcome_json` of the same `ItemOutcome`."""

    __slots__ = ("_tail",)

    def __init__(self, *, attempt: int, at: datetime, started_at: datetime) -> None:
        if attempt < 1:
            raise ValueError("attempts count from 1")
        fields = {
            "status": ItemStatus.SUCCEEDED,
            "attempt": attempt,
            "at": at,
            "started_at": started_at,
            "error": None,
        }
        self._tail = orjson.dumps(fields)[1:]  # `"status":...}`: the object's end

    def outcome_json(self, item_id: str, label: str, result_json: bytes) -> bytes:
        """The outcome of the item `item_id`; `result_json` is its result as JSON (`null`
        for none)."""
        return b'{"item_id":%b,"label":%b,"result":%b,%b' % (
            orjson.dumps(item_id),
            orjson.dumps(label),
            result_json,
            self._tail,
        )


def item_outcomes_json(
    job_id: str, tenant: str, job_type: JobType, outcomes_json: Sequence[bytes]
) -> bytes:
    """An `ItemOutcomes` message as JSON, around outcomes already written as JSON
    (`outcome_json`, `SucceededOutcomes`); the tracker validates it when it arrives, and a
    test holds it equal to the message pydantic writes."""
    header = {"job_id": job_id, "tenant": tenant, "job_type": job_type, "at": utc_now()}
    return object_with_array(header, "outcomes", outcomes_json)


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
