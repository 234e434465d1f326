"""The store contract: what every JobStore adapter must do, run against each of them.

States come from the real fold (`fold_batch` over contract messages) wherever that is
natural, so the suite stores what the tracker will store. List queries are checked
against a plain-Python reference (`_reference`) over a seeded, tie-heavy data set.
"""

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from jobs_shared.contracts import (
    CancelJob,
    ItemError,
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobStarted,
    JobStatus,
    JobSubmitted,
    JobType,
    SubmitJob,
    TrackerMessage,
)
from jobs_shared.contracts.events import ReportedItemStatus
from jobs_shared.domain.fold import FoldResult, fold_batch, keys_to_load
from jobs_shared.domain.state import ItemState, JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store import JobCursor, JobQuery, JobStore
from jobs_shared.store.documents import Document, item_to_doc, job_to_doc
from jobs_shared.store.keys import KEYS_PER_QUERY
from jobs_shared.store.mongo import MongoJobStore
from jobs_shared.store.port import ActiveCount
from jobs_shared.store.sqlite import SqliteJobStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ACME, GLOBEX = "acme", "globex"
ANN, BOB, CAT = "ann@acme.test", "bob@acme.test", "cat@acme.test"


# --- building states the way the tracker does ------------------------------------------


def submit(
    job_id: str,
    *,
    tenant: str = ACME,
    job_type: JobType = JobType.ENRICHMENT,
    user: str = ANN,
    at: datetime = T0,
) -> JobSubmitted:
    command = SubmitJob(
        job_id=job_id,
        tenant=tenant,
        user_email=user,
        user_id=f"sub-{user}",
        params={"product_ids": ["p1", "p2"], "options": {"deep": True}},
        metadata={"source": "contract test"},
        submitted_at=at,
    )
    return JobSubmitted(job_id=job_id, job_type=job_type, command=command)


def started(job_id: str, total: int, at: datetime = T0) -> JobStarted:
    return JobStarted(
        job_id=job_id, tenant=ACME, job_type=JobType.ENRICHMENT, at=at, total_items=total
    )


def outcomes(job_id: str, *reported: ItemOutcome) -> ItemOutcomes:
    return ItemOutcomes(
        job_id=job_id, tenant=ACME, job_type=JobType.ENRICHMENT, outcomes=list(reported)
    )


def succeeded(item_id: str, seconds: int = 1) -> ItemOutcome:
    return ItemOutcome(
        item_id=item_id,
        label=f"Product {item_id}",
        status=ItemStatus.SUCCEEDED,
        at=T0 + timedelta(seconds=seconds),
        started_at=T0,
        result={"product_id": item_id, "fields": 3},
    )


def failed(item_id: str, category: ErrorCategory, seconds: int = 1) -> ItemOutcome:
    return ItemOutcome(
        item_id=item_id,
        label=f"Product {item_id}",
        status=ItemStatus.FAILED,
        at=T0 + timedelta(seconds=seconds),
        error=ItemError(category=category, message=f"{category.value} on {item_id}"),
    )


def reported(item_id: str, status: ReportedItemStatus, seconds: int = 1) -> ItemOutcome:
    return ItemOutcome(item_id=item_id, status=status, at=T0 + timedelta(seconds=seconds))


async def fold_into(
    store: JobStore, messages: Sequence[TrackerMessage], now: datetime = T0
) -> FoldResult:
    """One tracker step: load what the batch touches, fold it, save it."""
    job_ids, item_keys = keys_to_load(messages)
    jobs = await store.load_jobs(job_ids)
    items = await store.load_items(item_keys)
    result = fold_batch(messages, jobs, items, now)
    await store.save_fold(list(result.jobs.values()), list(result.items.values()))
    return result


def mixed_outcomes(job_id: str) -> ItemOutcomes:
    return outcomes(
        job_id,
        succeeded("i01"),
        succeeded("i02"),
        failed("i03", ErrorCategory.TIMEOUT),
        failed("i04", ErrorCategory.TIMEOUT),
        failed("i05", ErrorCategory.PARSE_ERROR),
        reported("i06", ItemStatus.SKIPPED),
        reported("i07", ItemStatus.IN_PROGRESS),
        succeeded("i08"),
    )


def two_jobs_with_mixed_items() -> list[TrackerMessage]:
    return [
        submit("job-1"),
        started("job-1", 8),
        mixed_outcomes("job-1"),
        submit("job-2"),
        mixed_outcomes("job-2"),
    ]


def item_ids(items: Sequence[ItemState]) -> list[str]:
    return [item.item_id for item in items]


def counters(job: JobState) -> tuple[int, int, int, dict[ErrorCategory, int]]:
    return job.processed_items, job.failed_items, job.skipped_items, job.error_counts


def full_job() -> JobState:
    """A job with every field set to something other than its default."""
    return JobState(
        id="job-full",
        type=JobType.CRAWL,
        tenant=ACME,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=5),
        status=JobStatus.FAILED,
        submitted=True,
        user_email=ANN,
        user_id="user-1",
        params={"start_url": "https://shop.example/", "max_pages": 50, "nested": {"a": [1, 2]}},
        metadata={"file": "products.csv", "size": 1234},
        retry_of="job-older",
        started_at=T0 + timedelta(seconds=1),
        finished_at=T0 + timedelta(minutes=4, microseconds=123456),
        cancel_requested_at=T0 + timedelta(minutes=3),
        total_items=10,
        total_final=True,
        processed_items=4,
        failed_items=3,
        skipped_items=2,
        error="The site stopped answering.",
        error_category=ErrorCategory.URL_UNREACHABLE,
        error_counts={ErrorCategory.TIMEOUT: 2, ErrorCategory.RATE_LIMITED: 1},
        recent_ends={174083040: 3, 174083041: 6},
        last_item_at=T0 + timedelta(minutes=4),
    )


def full_item() -> ItemState:
    return ItemState(
        job_id="job-full",
        item_id="page-001",
        status=ItemStatus.FAILED,
        outcome_at=T0 + timedelta(seconds=30),
        label="https://shop.example/a",
        attempts=3,
        started_at=T0 + timedelta(seconds=2),
        finished_at=T0 + timedelta(seconds=30),
        error_category=ErrorCategory.RATE_LIMITED,
        error_message="429 Too Many Requests",
        result={"links": 12, "title": "Ünïcode ✓"},
        outcome_attempt=3,
    )


# --- round trips and overwrites ---------------------------------------------------------


async def test_fold_output_round_trips(store: JobStore) -> None:
    messages: list[TrackerMessage] = [
        submit("job-1"),
        started("job-1", 10),
        mixed_outcomes("job-1"),
        submit("job-2"),
    ]
    result = await fold_into(store, messages)

    assert await store.load_jobs(["job-1", "job-2", "job-missing"]) == result.jobs
    keys = [*result.items, ("job-1", "missing"), ("job-missing", "i01")]
    assert await store.load_items(keys) == result.items
    assert result.jobs["job-1"].processed_items == 3  # the fold really counted


async def test_every_field_round_trips(store: JobStore) -> None:
    job, item = full_job(), full_item()
    await store.save_fold([job], [item])

    assert await store.load_jobs([job.id]) == {job.id: job}
    assert await store.get_job(ACME, job.id) == job
    assert await store.load_items([item.key]) == {item.key: item}
    assert await store.list_items(job.id, [], 10, None) == [item]


async def test_loads_of_nothing_find_nothing(store: JobStore) -> None:
    await store.save_fold([], [])
    assert await store.load_jobs([]) == {}
    assert await store.load_items([]) == {}
    await store.ping()
    await store.open()  # idempotent


async def test_a_second_save_overwrites_the_first(store: JobStore) -> None:
    await fold_into(
        store,
        [
            submit("job-1"),
            started("job-1", 3),
            outcomes("job-1", failed("i1", ErrorCategory.TIMEOUT)),
        ],
    )
    second = await fold_into(
        store,
        [
            outcomes("job-1", succeeded("i1", seconds=5)),
            CancelJob(
                job_id="job-1",
                tenant=ACME,
                job_type=JobType.ENRICHMENT,
                requested_by=ANN,
                at=T0 + timedelta(seconds=9),
            ),
        ],
    )

    job = (await store.load_jobs(["job-1"]))["job-1"]
    assert job == second.jobs["job-1"]
    assert job.status == JobStatus.CANCELLED
    assert counters(job) == (1, 0, 0, {})
    assert await store.list_items("job-1", [ItemStatus.FAILED], 10, None) == []
    assert await store.failed_examples("job-1", ErrorCategory.TIMEOUT, 10) == []
    assert item_ids(await store.list_items("job-1", [ItemStatus.SUCCEEDED], 10, None)) == ["i1"]


async def test_loads_many_keys_across_query_chunks(store: JobStore) -> None:
    count = KEYS_PER_QUERY * 2 + 7
    items = [
        replace(full_item(), job_id=f"job-{n % 3}", item_id=f"item-{n:05d}") for n in range(count)
    ]
    jobs = [replace(full_job(), id=f"job-{n}") for n in range(3)]
    await store.save_fold(jobs, items)

    loaded = await store.load_items([item.key for item in items])
    assert loaded == {item.key: item for item in items}
    assert set(await store.load_jobs([job.id for job in jobs])) == {"job-0", "job-1", "job-2"}


async def test_get_job_is_scoped_by_tenant(store: JobStore) -> None:
    await fold_into(store, [submit("job-1", tenant=ACME)])

    job = await store.get_job(ACME, "job-1")
    assert job is not None
    assert job.tenant == ACME
    assert await store.get_job(GLOBEX, "job-1") is None
    assert await store.get_job(ACME, "job-unknown") is None


# --- listing jobs -----------------------------------------------------------------------


def seeded_jobs() -> list[JobState]:
    """Two tenants, every type and status, three users, many created_at ties.

    Ids are shuffled against creation order, so only a real id tie-break sorts them.
    """
    rng = random.Random(7)
    ids = [f"job-{n:03d}" for n in range(120)]
    rng.shuffle(ids)
    jobs = []
    for n, job_id in enumerate(ids):
        created = T0 + timedelta(minutes=rng.randrange(40))
        jobs.append(
            JobState(
                id=job_id,
                type=rng.choice(list(JobType)),
                tenant=ACME if n < 90 else GLOBEX,
                created_at=created,
                updated_at=created,
                status=rng.choice(list(JobStatus)),
                submitted=True,
                user_email=rng.choice([ANN, BOB, CAT]),
            )
        )
    return jobs


def _reference(jobs: Sequence[JobState], tenant: str, query: JobQuery) -> list[str]:
    """What `list_jobs` must return, by brute force: ids, newest first. `JobQuery.matches`
    is the reference: the live updates filter pushed jobs with it, so both must agree."""
    matching = [job for job in jobs if job.tenant == tenant and query.matches(job)]
    matching.sort(key=lambda job: (job.created_at, job.id), reverse=True)
    return [job.id for job in matching]


FROM, TO = T0 + timedelta(minutes=10), T0 + timedelta(minutes=30)
CRAWL, EXPORT = JobType.CRAWL, JobType.EXPORT
DONE, FAILED, PENDING = JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.PENDING
QUERIES = {
    "no filter": JobQuery(),
    "one type": JobQuery(types=frozenset({CRAWL})),
    "two types": JobQuery(types=frozenset({CRAWL, EXPORT})),
    "one status": JobQuery(statuses=frozenset({DONE})),
    "three statuses": JobQuery(statuses=frozenset({DONE, FAILED, PENDING})),
    "user": JobQuery(user_email=BOB),
    "created from": JobQuery(created_from=FROM),
    "created to": JobQuery(created_to=TO),
    "created range": JobQuery(created_from=FROM, created_to=TO),
    "type and status": JobQuery(types=frozenset({CRAWL}), statuses=frozenset({DONE, FAILED})),
    "status and user": JobQuery(statuses=frozenset({FAILED}), user_email=ANN),
    "type, status, range": JobQuery(
        types=frozenset({CRAWL, EXPORT}),
        statuses=frozenset({DONE}),
        created_from=FROM,
        created_to=TO,
    ),
    "all four": JobQuery(
        types=frozenset({EXPORT}),
        statuses=frozenset({DONE, FAILED, PENDING}),
        user_email=CAT,
        created_from=FROM,
        created_to=TO,
    ),
    "nothing matches": JobQuery(user_email="nobody@acme.test"),
}


@pytest.fixture
async def listed(store: JobStore) -> tuple[JobStore, list[JobState]]:
    jobs = seeded_jobs()
    await store.save_fold(jobs, [])
    return store, jobs


@pytest.mark.parametrize("name", list(QUERIES))
async def test_list_jobs_filters_and_orders(
    listed: tuple[JobStore, list[JobState]], name: str
) -> None:
    store, jobs = listed
    query = QUERIES[name]
    for tenant in (ACME, GLOBEX):
        page = await store.list_jobs(tenant, query, 200, None)
        assert [job.id for job in page] == _reference(jobs, tenant, query)
        assert all(job.tenant == tenant for job in page)


@pytest.mark.parametrize("name", list(QUERIES))
async def test_cursor_pages_walk_everything_once(
    listed: tuple[JobStore, list[JobState]], name: str
) -> None:
    store, jobs = listed
    query = QUERIES[name]
    walked: list[str] = []
    after: JobCursor | None = None
    while page := await store.list_jobs(ACME, query, 7, after):
        assert len(page) <= 7
        walked.extend(job.id for job in page)
        after = JobCursor(page[-1].created_at, page[-1].id)
    assert walked == _reference(jobs, ACME, query)


async def test_created_range_includes_from_and_excludes_to(store: JobStore) -> None:
    def at(job_id: str, moment: datetime) -> JobState:
        return JobState(id=job_id, type=CRAWL, tenant=ACME, created_at=moment, updated_at=moment)

    early = at("early", FROM - timedelta(microseconds=1))
    start = at("start", FROM)
    last = at("last", TO - timedelta(microseconds=1))
    end = at("end", TO)
    await store.save_fold([early, start, last, end], [])

    page = await store.list_jobs(ACME, JobQuery(created_from=FROM, created_to=TO), 10, None)
    assert [job.id for job in page] == ["last", "start"]


async def test_ties_on_created_at_are_broken_by_id(store: JobStore) -> None:
    jobs = [
        JobState(id=job_id, type=CRAWL, tenant=ACME, created_at=T0, updated_at=T0)
        for job_id in ("b", "c", "a")
    ]
    await store.save_fold(jobs, [])

    first = await store.list_jobs(ACME, JobQuery(), 2, None)
    rest = await store.list_jobs(ACME, JobQuery(), 2, JobCursor(T0, first[-1].id))
    assert [job.id for job in first + rest] == ["c", "b", "a"]


async def test_count_active_counts_pending_and_running_per_type(store: JobStore) -> None:
    def job(job_id: str, job_type: JobType, status: JobStatus, tenant: str = ACME) -> JobState:
        return JobState(
            id=job_id, type=job_type, tenant=tenant, created_at=T0, updated_at=T0, status=status
        )

    await store.save_fold(
        [
            job("1", CRAWL, PENDING),
            job("2", CRAWL, PENDING),
            job("3", CRAWL, JobStatus.IN_PROGRESS),
            job("4", EXPORT, JobStatus.IN_PROGRESS),
            job("5", EXPORT, DONE),
            job("6", EXPORT, JobStatus.CANCELLED),
            job("7", JobType.ENRICHMENT, PENDING, tenant=GLOBEX),
        ],
        [],
    )

    assert await store.count_active(ACME) == [
        ActiveCount(CRAWL, JobStatus.IN_PROGRESS, 1),
        ActiveCount(CRAWL, PENDING, 2),
        ActiveCount(EXPORT, JobStatus.IN_PROGRESS, 1),
    ]
    assert await store.count_active("initech") == []


# --- listing items ----------------------------------------------------------------------


async def test_list_items_filters_by_status_and_pages_by_item_id(store: JobStore) -> None:
    await fold_into(store, two_jobs_with_mixed_items())

    everything = await store.list_items("job-1", [], 100, None)
    assert item_ids(everything) == [f"i0{n}" for n in range(1, 9)]
    assert {item.job_id for item in everything} == {"job-1"}

    ended = [ItemStatus.SUCCEEDED, ItemStatus.FAILED]
    walked: list[str] = []
    after: str | None = None
    while page := await store.list_items("job-1", ended, 2, after):
        walked.extend(item.item_id for item in page)
        after = page[-1].item_id
    assert walked == ["i01", "i02", "i03", "i04", "i05", "i08"]

    skipped = await store.list_items("job-1", [ItemStatus.SKIPPED], 10, None)
    assert [(i.item_id, i.status) for i in skipped] == [("i06", ItemStatus.SKIPPED)]
    assert await store.list_items("job-1", [ItemStatus.PENDING], 10, None) == []


async def test_failed_examples_per_category(store: JobStore) -> None:
    result = await fold_into(store, two_jobs_with_mixed_items())

    timeouts = await store.failed_examples("job-1", ErrorCategory.TIMEOUT, 10)
    assert timeouts == [result.items[("job-1", "i03")], result.items[("job-1", "i04")]]
    assert item_ids(await store.failed_examples("job-1", ErrorCategory.TIMEOUT, 1)) == ["i03"]
    assert item_ids(await store.failed_examples("job-1", ErrorCategory.PARSE_ERROR, 10)) == ["i05"]
    assert await store.failed_examples("job-1", ErrorCategory.RATE_LIMITED, 10) == []


# --- crash safety -----------------------------------------------------------------------


async def test_sqlite_save_is_all_or_nothing(sqlite_store: JobStore) -> None:
    job, item = full_job(), full_item()
    broken = replace(item, item_id=None)  # type: ignore[arg-type]  # violates NOT NULL mid-save

    with pytest.raises(Exception, match="NOT NULL"):
        await sqlite_store.save_fold([job], [item, broken])

    assert await sqlite_store.load_jobs([job.id]) == {}
    assert await sqlite_store.load_items([item.key]) == {}
    await sqlite_store.save_fold([job], [item])  # and the store still works
    assert await sqlite_store.load_jobs([job.id]) == {job.id: job}


async def test_sqlite_a_second_connection_sees_each_commit(tmp_path: Path) -> None:
    """The gateway reads the tracker's file through a store (and a process) of its own."""
    writer, reader = SqliteJobStore(tmp_path / "jobs.db"), SqliteJobStore(tmp_path / "jobs.db")
    await writer.open()
    await reader.open()
    try:
        job = full_job()
        await writer.save_fold([job], [full_item()])
        assert await reader.get_job(ACME, job.id) == job
        await writer.save_fold([replace(job, processed_items=5)], [])
        assert (await reader.load_jobs([job.id]))[job.id].processed_items == 5
    finally:
        await writer.close()
        await reader.close()


def tally(items: Sequence[ItemState]) -> tuple[int, int, int, dict[ErrorCategory, int]]:
    statuses = Counter(item.status for item in items)
    categories = Counter(item.error_category for item in items if item.status == ItemStatus.FAILED)
    return (
        statuses[ItemStatus.SUCCEEDED],
        statuses[ItemStatus.FAILED],
        statuses[ItemStatus.SKIPPED],
        {category: n for category, n in categories.items() if category is not None},
    )


async def crash_after_items(
    database: AsyncDatabase[Document], stale: JobState, items: Sequence[ItemState]
) -> None:
    """What a crash between `save_fold`'s steps 2 and 3 leaves: new items, a stale job, dirty."""
    await database["items"].bulk_write(
        [
            ReplaceOne({"job_id": i.job_id, "item_id": i.item_id}, item_to_doc(i), upsert=True)
            for i in items
        ]
    )
    await database["jobs"].update_many({"_id": stale.id}, {"$set": {"dirty": True}})


async def test_mongo_load_repairs_a_torn_save(
    mongo_store: MongoJobStore, mongo_database: AsyncDatabase[Document]
) -> None:
    before = await fold_into(
        mongo_store, [submit("job-1"), started("job-1", 8), outcomes("job-1", succeeded("i01"))]
    )
    lost = fold_batch([mixed_outcomes("job-1")], before.jobs, before.items, T0)
    await crash_after_items(mongo_database, before.jobs["job-1"], list(lost.items.values()))

    job = (await mongo_store.load_jobs(["job-1"]))["job-1"]

    items = await mongo_store.list_items("job-1", [], 100, None)
    assert counters(job) == tally(items) == counters(lost.jobs["job-1"])
    assert (await mongo_database["jobs"].find_one({"_id": "job-1"}) or {})["dirty"] is False
    assert (await mongo_store.load_jobs(["job-1"]))["job-1"] == job


async def test_mongo_load_repairs_a_job_saved_ahead_of_its_items(
    mongo_store: MongoJobStore, mongo_database: AsyncDatabase[Document]
) -> None:
    before = await fold_into(
        mongo_store, [submit("job-1"), started("job-1", 8), outcomes("job-1", succeeded("i01"))]
    )
    ahead = fold_batch([mixed_outcomes("job-1")], before.jobs, before.items, T0).jobs["job-1"]
    await mongo_database["jobs"].bulk_write(
        [ReplaceOne({"_id": ahead.id}, {**job_to_doc(ahead), "_id": ahead.id, "dirty": True})]
    )  # step 1 done, then the crash: no item of the batch was written

    job = (await mongo_store.load_jobs(["job-1"]))["job-1"]

    assert (
        counters(job)
        == (1, 0, 0, {})
        == tally(await mongo_store.list_items("job-1", [], 100, None))
    )


async def test_mongo_get_job_repairs_without_writing(
    mongo_store: MongoJobStore, mongo_database: AsyncDatabase[Document]
) -> None:
    before = await fold_into(mongo_store, [submit("job-1"), started("job-1", 8)])
    lost = fold_batch([mixed_outcomes("job-1")], before.jobs, before.items, T0)
    await crash_after_items(mongo_database, before.jobs["job-1"], list(lost.items.values()))

    job = await mongo_store.get_job(ACME, "job-1")

    assert job is not None
    assert counters(job) == counters(lost.jobs["job-1"])
    assert (await mongo_database["jobs"].find_one({"_id": "job-1"}) or {})["dirty"] is True
