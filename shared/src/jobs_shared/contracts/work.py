"""What workers hand each other on `jobs.work`, and the liveness they report on `jobs.events`.

A worker plans a job once (reads the file, lists the products, crawls the links) and
publishes its items in chunks of many per message (`WorkChunk`, key `<type>.items`) to
one quorum queue per worker service, `<service>.items`. Every replica of the service
competes for those chunks, so one big job spreads over all of them.

`WorkerHeartbeat` (`jobs.events`, key `worker.heartbeat`) says which jobs a replica is
working on right now. Nobody consumes it yet: it is for a stall detector (a job whose
items are pending while no replica reports it), and for operators.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobs_shared.contracts.vocabulary import JobType, utc_now

HEARTBEAT_KEY = "worker.heartbeat"
"""Not in `routing.EVENT_KEYS`: the tracker's inbox is not bound to it (it folds no heartbeats)."""
MAX_CHUNK_ITEMS = 1000


def items_key(job_type: JobType) -> str:
    return f"{job_type.value}.items"


class WorkItem(BaseModel):
    """One unit of a job: a product row, a product to enrich, a page to crawl.

    `item_id` must be the same however often the job is planned (a row number, a
    product id, a URL): the tracker counts each item id once, which is what keeps the
    counts exact when a plan or a chunk is run twice.
    """

    model_config = ConfigDict(frozen=True)

    item_id: str = Field(min_length=1, max_length=512)
    label: str = Field(default="", max_length=1000, description="What the user sees in Items.")
    payload: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EncodedItems:
    """Items a plan has already written as JSON: `items_json` is a JSON array of `WorkItem`
    objects, `item_ids` their ids in the same order.

    A worker's plan may yield these (`jobs_shared.worker.Worker.plan`), for items made
    in another process (the document reader): the runtime then puts the bytes into a
    chunk as they are, instead of building a model per item in the worker's event loop
    and writing it out again (by py-spy, a sixth of that loop's time for a CSV, the
    queueing of single items included). Nothing validates the items before they are
    published: the maker must write valid `WorkItem`s, or the replica that takes the
    chunk dead-letters it whole. The runtime never splits a batch unless it holds more
    items than a chunk does (it then decodes it), so a plan that yields batches of the
    chunk size keeps every batch on the fast path. It lives here, beside `WorkItem`,
    so that the document reader's process need not import the runtime.
    """

    item_ids: Sequence[str]
    items_json: bytes

    def __len__(self) -> int:
        return len(self.item_ids)


class WorkChunk(BaseModel):
    """Items of one job for any replica of its worker service to process."""

    model_config = ConfigDict(frozen=True)

    job_id: str = Field(min_length=1, max_length=128)
    tenant: str = Field(min_length=1, max_length=128)
    job_type: JobType
    user_email: str = ""
    chunk: int = Field(ge=0, description="Its position in the job's plan (for logs).")
    items: list[WorkItem] = Field(min_length=1, max_length=MAX_CHUNK_ITEMS)
    previous_deliveries: int = Field(
        default=0,
        ge=0,
        description="Deliveries of these items in earlier messages: a replica that stops "
        "hands its unfinished items back in a new chunk, whose attempts count on.",
    )


class WorkerHeartbeat(BaseModel):
    """A replica is alive and busy: the jobs it is planning or processing items of."""

    model_config = ConfigDict(frozen=True)

    worker_id: str
    service: str
    job_type: JobType
    jobs: dict[str, int] = Field(
        description="Job id → items in flight on this replica (0 while it plans the job)."
    )
    at: AwareDatetime = Field(default_factory=utc_now)
