"""MongoDB adapter: the same port over PyMongo's async API (`AsyncMongoClient`).

Why `save_fold` writes in three steps. The port promises that after a crash the job
counters agree with the item records. One transaction would give that, but multi-document
transactions need a replica set, and a standalone server (and the in-memory stand-in the
tests use) has none. So:

1. the new job documents are upserted with `dirty: true`;
2. the items are upserted;
3. those jobs are marked `dirty: false`.

A crash between 1 and 3 leaves a job marked dirty whose counters may be ahead of its
items. Counters are derived data and the items are the truth, so whoever reads a dirty
job recounts its counters from the items (`with_tally`). The tracker then re-folds the
unacknowledged batch on redelivery; item joins are idempotent, so nothing is counted
twice.

Only `load_jobs`, the tracker's own read before it folds and saves, writes the repair
back. `get_job` repairs the copy it returns but does not write it: a dirty flag seen
from the gateway usually means a save in flight, and writing a recount of
half-written items over it would leave wrong counters behind once the tracker marks the
job clean. `list_jobs` returns stored documents as they are, so a page never costs a
recount per row.

The indexes mirror the SQLite adapter's: one per list filter, `(tenant, filter,
created_at, _id)`, which MongoDB walks in order and merges across `$in` values itself.
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Self

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from jobs_shared.contracts import ItemStatus, JobStatus, JobType
from jobs_shared.domain.fold import with_tally
from jobs_shared.domain.state import ItemKey, ItemState, ItemTally, JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store.documents import (
    Document,
    iso,
    item_from_doc,
    item_to_doc,
    job_from_doc,
    job_to_doc,
)
from jobs_shared.store.keys import chunks, item_ids_by_job
from jobs_shared.store.port import ActiveCount, JobCursor, JobQuery

DEFAULT_DATABASE = "merchantops_jobs"
"""Used when the URL names no database."""

_NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
_JOB_INDEXES = [
    [("tenant", ASCENDING), *_NEWEST_FIRST],
    *(
        [("tenant", ASCENDING), (column, ASCENDING), *_NEWEST_FIRST]
        for column in ("type", "status", "user_email")
    ),
]
_NO_ID = {"_id": False}
_ACTIVE = [JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value]


class MongoJobStore:
    """The JobStore port over one MongoDB database (see the module docstring)."""

    def __init__(
        self, database: AsyncDatabase[Document], client: AsyncMongoClient[Document] | None = None
    ) -> None:
        """`client`, if given, is closed with the store; a bare `database` stays the caller's."""
        self._database = database
        self._client = client
        self._jobs: AsyncCollection[Document] = database["jobs"]
        self._items: AsyncCollection[Document] = database["items"]

    @classmethod
    def from_url(cls, url: str) -> Self:
        client: AsyncMongoClient[Document] = AsyncMongoClient(url)
        return cls(client.get_default_database(DEFAULT_DATABASE), client)

    async def open(self) -> None:
        for keys in _JOB_INDEXES:
            await self._jobs.create_index(keys)
        await self._items.create_index([("job_id", ASCENDING), ("item_id", ASCENDING)], unique=True)
        await self._items.create_index(
            [("job_id", ASCENDING), ("status", ASCENDING), ("item_id", ASCENDING)]
        )
        await self._items.create_index(
            [("job_id", ASCENDING), ("error_category", ASCENDING), ("item_id", ASCENDING)],
            partialFilterExpression={"status": ItemStatus.FAILED.value},
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def ping(self) -> None:
        await self._database.command("ping")

    # --- the tracker's side ---------------------------------------------------------

    async def load_jobs(self, job_ids: Collection[str]) -> dict[str, JobState]:
        jobs: dict[str, JobState] = {}
        repaired: list[JobState] = []
        for chunk in chunks(job_ids):
            async for doc in self._jobs.find({"_id": {"$in": list(chunk)}}):
                job = await self._job_from(doc)
                jobs[job.id] = job
                if doc.get("dirty"):
                    repaired.append(job)
        if repaired:
            await self._jobs.bulk_write([_job_write(job, dirty=False) for job in repaired])
        return jobs

    async def load_items(self, keys: Collection[ItemKey]) -> dict[ItemKey, ItemState]:
        items: dict[ItemKey, ItemState] = {}
        for job_id, item_ids in item_ids_by_job(keys).items():
            for chunk in chunks(item_ids):
                query = {"job_id": job_id, "item_id": {"$in": list(chunk)}}
                async for doc in self._items.find(query, _NO_ID):
                    item = item_from_doc(doc)
                    items[item.key] = item
        return items

    async def save_fold(self, jobs: Sequence[JobState], items: Sequence[ItemState]) -> None:
        if jobs:
            await self._jobs.bulk_write(
                [_job_write(job, dirty=True) for job in jobs], ordered=False
            )
        if items:
            await self._items.bulk_write([_item_write(item) for item in items], ordered=False)
        if jobs:
            ids = [job.id for job in jobs]
            await self._jobs.update_many({"_id": {"$in": ids}}, {"$set": {"dirty": False}})

    # --- the read side ----------------------------------------------------------------

    async def get_job(self, tenant: str, job_id: str) -> JobState | None:
        doc = await self._jobs.find_one({"_id": job_id, "tenant": tenant})
        return None if doc is None else await self._job_from(doc)

    async def list_jobs(
        self, tenant: str, query: JobQuery, limit: int, after: JobCursor | None
    ) -> list[JobState]:
        cursor = self._jobs.find(_job_filter(tenant, query, after))
        docs = await cursor.sort(_NEWEST_FIRST).limit(limit).to_list()
        return [job_from_doc(_stored(doc)) for doc in docs]

    async def list_items(
        self,
        job_id: str,
        statuses: Collection[ItemStatus],
        limit: int,
        after_item_id: str | None,
    ) -> list[ItemState]:
        query: Document = {"job_id": job_id}
        if statuses:
            query["status"] = {"$in": sorted(statuses)}
        if after_item_id is not None:
            query["item_id"] = {"$gt": after_item_id}
        return await self._items_in_order(query, limit)

    async def failed_examples(
        self, job_id: str, category: ErrorCategory, limit: int
    ) -> list[ItemState]:
        query = {
            "job_id": job_id,
            "status": ItemStatus.FAILED.value,
            "error_category": category.value,
        }
        return await self._items_in_order(query, limit)

    async def count_active(self, tenant: str) -> list[ActiveCount]:
        """Grouped on the server: a tenant's backlog of pending jobs may be large."""
        cursor = await self._jobs.aggregate(
            [
                {"$match": {"tenant": tenant, "status": {"$in": _ACTIVE}}},
                {"$group": {"_id": {"type": "$type", "status": "$status"}, "count": {"$sum": 1}}},
            ]
        )
        counts = [
            ActiveCount(JobType(row["_id"]["type"]), JobStatus(row["_id"]["status"]), row["count"])
            for row in await cursor.to_list()
        ]
        return sorted(counts, key=lambda c: (c.type.value, c.status.value))

    async def _items_in_order(self, query: Mapping[str, Any], limit: int) -> list[ItemState]:
        cursor = self._items.find(query, _NO_ID).sort("item_id", ASCENDING).limit(limit)
        return [item_from_doc(doc) async for doc in cursor]

    async def _job_from(self, doc: Document) -> JobState:
        """The job in `doc`, its counters recounted from its items if a save was torn."""
        job = job_from_doc(_stored(doc))
        if not doc.get("dirty"):
            return job
        return with_tally(job, await self._tally(job.id))

    async def _tally(self, job_id: str) -> ItemTally:
        async def count(status: ItemStatus, **extra: str) -> int:
            return await self._items.count_documents(
                {"job_id": job_id, "status": status.value, **extra}
            )

        failed = await count(ItemStatus.FAILED)
        by_category = {
            category: await count(ItemStatus.FAILED, error_category=category.value)
            for category in (ErrorCategory if failed else ())
        }
        return ItemTally(
            processed=await count(ItemStatus.SUCCEEDED),
            failed=failed,
            skipped=await count(ItemStatus.SKIPPED),
            failed_by_category=by_category,
        )


def _job_write(job: JobState, *, dirty: bool) -> ReplaceOne[Document]:
    return ReplaceOne(
        {"_id": job.id}, {**job_to_doc(job), "_id": job.id, "dirty": dirty}, upsert=True
    )


def _item_write(item: ItemState) -> ReplaceOne[Document]:
    return ReplaceOne(
        {"job_id": item.job_id, "item_id": item.item_id}, item_to_doc(item), upsert=True
    )


def _stored(doc: Document) -> Document:
    """`doc` without the fields only this adapter adds."""
    return {key: value for key, value in doc.items() if key not in ("_id", "dirty")}


def _job_filter(tenant: str, query: JobQuery, after: JobCursor | None) -> Document:
    selector: Document = {"tenant": tenant}
    for field, values in (("type", query.types), ("status", query.statuses)):
        if values:
            selector[field] = {"$in": sorted(values)}
    if query.user_email is not None:
        selector["user_email"] = query.user_email
    created: Document = {}
    if query.created_from is not None:
        created["$gte"] = iso(query.created_from)
    if query.created_to is not None:
        created["$lt"] = iso(query.created_to)
    if after is not None:
        # (created_at, id) < cursor, written so the index bounds on created_at alone
        cursor_at = iso(after.created_at)
        created["$lte"] = cursor_at
        selector["$or"] = [{"created_at": {"$lt": cursor_at}}, {"_id": {"$lt": after.job_id}}]
    if created:
        selector["created_at"] = created
    return selector
