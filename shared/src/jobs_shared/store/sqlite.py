"""SQLite adapter: the embedded default, one file shared by the tracker and the gateway.

Why it is set up this way:

- The tracker writes and the gateway reads from separate processes. WAL lets readers
  go on while a writer commits; `busy_timeout` makes a second writer wait for the lock
  instead of failing; `synchronous=NORMAL` is still crash-safe in WAL mode (a power cut
  may lose the last commits, never tear one) and saves an fsync per commit.
- `save_fold` is one transaction, so a job's counters and its item records change
  together or not at all: that alone keeps the port's crash promise.
- Each job row keeps the columns the list filters on beside its JSON document. Every
  filter column has an index `(tenant, column, created_at, id, ...)`: one equality on
  it yields rows already newest first, so a page reads `limit` rows and stops. The
  trailing columns let the other filters be checked inside the index, without
  touching the row. `IN (a, b)` would make SQLite read every matching row and sort
  them, so each value gets its own ordered, limited branch and the branches are
  merged (`_merged`). The index is named (`INDEXED BY`) so the plan does not depend
  on the planner's guesses or on `ANALYZE` having run.
- Items are keyed `(job_id, item_id)` in a WITHOUT ROWID table: the key is how they
  are loaded, listed and upserted, so one b-tree serves all three.
"""

from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import cache
from itertools import chain
from pathlib import Path

import orjson

from jobs_shared.contracts import ItemStatus, JobStatus, JobType
from jobs_shared.domain.state import ItemKey, ItemState, JobState
from jobs_shared.errors import ErrorCategory
from jobs_shared.store.documents import (
    Document,
    iso,
    item_doc_json,
    item_from_doc,
    job_from_doc,
    job_to_doc,
)
from jobs_shared.store.keys import chunks, item_ids_by_job
from jobs_shared.store.port import ActiveCount, JobCursor, JobQuery
from jobs_shared.store.sqlite_file import SqliteFile, Statement, many_row_statements

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    user_email TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (tenant, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_by_type ON jobs (tenant, type, created_at, id, status);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (tenant, status, created_at, id, type);
CREATE INDEX IF NOT EXISTS jobs_by_user
    ON jobs (tenant, user_email, created_at, id, type, status);

CREATE TABLE IF NOT EXISTS items (
    job_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error_category TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (job_id, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_status ON items (job_id, status, item_id);
CREATE INDEX IF NOT EXISTS items_failed_by_category
    ON items (job_id, error_category, item_id) WHERE status = 'failed';
"""

_UPSERT_JOB = """
INSERT INTO jobs (id, tenant, type, status, user_email, created_at, doc)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    tenant = excluded.tenant, type = excluded.type, status = excluded.status,
    user_email = excluded.user_email, created_at = excluded.created_at, doc = excluded.doc
"""

ITEMS_PER_UPSERT = 50
"""Item rows per INSERT (see `many_row_statements`): 50 rows to a statement halve the
instructions SQLite spends per item saved."""

_ITEM_VALUES = "(?, ?, ?, NULLIF(?, ''), ?)"
"""An item row; `''` stands for no error category. Binding None instead costs sqlite3 (on
Python 3.11) a failed adapter lookup, with an AttributeError formatted, per row."""

_JOB_INDEX_BY_FILTER = {
    "user_email": "jobs_by_user",
    "status": "jobs_by_status",
    "type": "jobs_by_type",
}
"""Also the tie-break when two filters have as many values: a user's jobs are fewest."""

ITEM_IDS_PER_LOAD = 2_000
"""Item ids per `load_items` query (with one job id per branch: far below SQLite's 32,766
bound parameters)."""
MAX_BRANCHES_PER_LOAD = 400
"""Below SQLite's limit of 500 terms in one compound SELECT."""

_JOB_ORDER = "created_at DESC, id DESC"
_ITEM_ORDER = "item_id"
_ACTIVE = (JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)

Row = tuple[object, ...]


class SqliteJobStore(SqliteFile):
    """The JobStore port over one SQLite file (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)

    # --- the tracker's side ---------------------------------------------------------

    async def load_jobs(self, job_ids: Collection[str]) -> dict[str, JobState]:
        jobs: dict[str, JobState] = {}
        for chunk in chunks(job_ids):
            sql = f"SELECT doc FROM jobs WHERE id IN ({_marks(len(chunk))})"
            for job in map(job_from_doc, await self._docs(sql, chunk)):
                jobs[job.id] = job
        return jobs

    async def load_items(self, keys: Collection[ItemKey]) -> dict[ItemKey, ItemState]:
        """One primary-key branch per job and chunk of its item ids, many branches per query.

        A batch of many small jobs would otherwise cost a query (a thread hop) per job;
        the branches are joined with UNION ALL, each a search of the primary key (a row
        value `(job_id, item_id) IN (...)` would make SQLite scan the table instead).
        """
        branches = [
            (job_id, chunk)
            for job_id, item_ids in item_ids_by_job(keys).items()
            for chunk in chunks(item_ids)
        ]
        items: dict[ItemKey, ItemState] = {}
        for sql, params in _item_loads(branches):
            for item in map(item_from_doc, await self._docs(sql, params)):
                items[item.key] = item
        return items

    async def save_fold(self, jobs: Sequence[JobState], items: Sequence[ItemState]) -> None:
        job_rows = [_job_row(job) for job in jobs]
        await self.write((_UPSERT_JOB, job_rows), *_item_upserts(items))

    # --- the read side ----------------------------------------------------------------

    async def get_job(self, tenant: str, job_id: str) -> JobState | None:
        docs = await self._docs(
            "SELECT doc FROM jobs WHERE id = ? AND tenant = ?", (job_id, tenant)
        )
        return job_from_doc(docs[0]) if docs else None

    async def list_jobs(
        self, tenant: str, query: JobQuery, limit: int, after: JobCursor | None
    ) -> list[JobState]:
        sql, params = _list_jobs_sql(tenant, query, limit, after)
        return [job_from_doc(doc) for doc in await self._docs(sql, params)]

    async def list_items(
        self,
        job_id: str,
        statuses: Collection[ItemStatus],
        limit: int,
        after_item_id: str | None,
    ) -> list[ItemState]:
        sql, params = _list_items_sql(job_id, statuses, limit, after_item_id)
        return [item_from_doc(doc) for doc in await self._docs(sql, params)]

    async def failed_examples(
        self, job_id: str, category: ErrorCategory, limit: int
    ) -> list[ItemState]:
        sql = (
            "SELECT doc FROM items INDEXED BY items_failed_by_category"
            " WHERE job_id = ? AND status = 'failed' AND error_category = ?"
            " ORDER BY item_id LIMIT ?"
        )
        docs = await self._docs(sql, (job_id, category.value, limit))
        return [item_from_doc(doc) for doc in docs]

    async def count_active(self, tenant: str) -> list[ActiveCount]:
        sql = (
            "SELECT type, status, COUNT(*) FROM jobs INDEXED BY jobs_by_status"
            " WHERE tenant = ? AND status IN (?, ?) GROUP BY type, status ORDER BY type, status"
        )
        rows = await self.db.execute_fetchall(sql, (tenant, *_ACTIVE))
        return [ActiveCount(JobType(t), JobStatus(s), n) for t, s, n in rows]

    async def _docs(self, sql: str, params: Sequence[object]) -> list[Document]:
        """The JSON documents in the first column of the rows `sql` returns."""
        rows = await self.db.execute_fetchall(sql, params)
        return [orjson.loads(row[0]) for row in rows]


def _job_row(job: JobState) -> Row:
    doc = job_to_doc(job)
    return (
        job.id,
        job.tenant,
        doc["type"],
        doc["status"],
        job.user_email,
        doc["created_at"],
        orjson.dumps(doc).decode(),
    )


def _item_upserts(items: Iterable[ItemState]) -> list[Statement]:
    return many_row_statements(_upsert_items, map(_item_row, items), ITEMS_PER_UPSERT)


@cache
def _upsert_items(rows: int) -> str:
    return f"""
INSERT INTO items (job_id, item_id, status, error_category, doc)
VALUES {", ".join([_ITEM_VALUES] * rows)}
ON CONFLICT (job_id, item_id) DO UPDATE SET
    status = excluded.status, error_category = excluded.error_category, doc = excluded.doc
"""


def _item_row(item: ItemState) -> Row:
    """The values of `_ITEM_VALUES`. `str` of a StrEnum is its value, 4x cheaper than
    `.value` on Python 3.11: the tracker builds a row per item."""
    category = item.error_category
    return (
        item.job_id,
        item.item_id,
        str(item.status),
        "" if category is None else str(category),
        item_doc_json(item),
    )


def _item_loads(
    branches: Sequence[tuple[str, tuple[str, ...]]],
) -> Iterator[tuple[str, list[object]]]:
    """Queries loading the items of `branches` (a job id and some of its item ids each),
    as many branches to a query as `ITEM_IDS_PER_LOAD` and SQLite's compound limit allow."""
    start = 0
    while start < len(branches):
        end, ids = start, 0
        while end < len(branches) and end - start < MAX_BRANCHES_PER_LOAD:
            ids += len(branches[end][1])
            if ids > ITEM_IDS_PER_LOAD and end > start:
                break
            end += 1
        taken = branches[start:end]
        sql = " UNION ALL ".join(
            f"SELECT doc FROM items WHERE job_id = ? AND item_id IN ({_marks(len(ids_))})"
            for _, ids_ in taken
        )
        yield sql, [value for job_id, ids_ in taken for value in (job_id, *ids_)]
        start = end


def _list_jobs_sql(
    tenant: str, query: JobQuery, limit: int, after: JobCursor | None
) -> tuple[str, list[object]]:
    filters = _job_filters(query)
    driver = min(filters, key=_narrowness, default=None)
    terms: list[str] = ["tenant = ?"]
    params: list[object] = [tenant]
    for column, values in (f for f in filters if f is not driver):
        terms.append(f"{column} IN ({_marks(len(values))})")
        params.extend(values)
    for term, bound in _time_bounds(query, after):
        terms.append(term)
        params.extend(bound)
    if driver is None:
        return _merged("jobs INDEXED BY jobs_by_created", terms, [params], _JOB_ORDER, limit)
    column, values = driver
    source = f"jobs INDEXED BY {_JOB_INDEX_BY_FILTER[column]}"
    branches = [[value, *params] for value in values]
    return _merged(source, [f"{column} = ?", *terms], branches, _JOB_ORDER, limit)


def _time_bounds(query: JobQuery, after: JobCursor | None) -> list[tuple[str, list[object]]]:
    """The created range and the cursor as WHERE terms.

    SQLite seeks a descending scan to one upper bound only: when the cursor lies
    inside the range, `created_to` adds nothing and is left out, so a deep page
    starts at the cursor instead of reading every row above it.
    """
    bounds: list[tuple[str, list[object]]] = []
    if query.created_from is not None:
        bounds.append(("created_at >= ?", [iso(query.created_from)]))
    if query.created_to is not None and (after is None or after.created_at >= query.created_to):
        bounds.append(("created_at < ?", [iso(query.created_to)]))
    if after is not None:
        bounds.append(("(created_at, id) < (?, ?)", [iso(after.created_at), after.job_id]))
    return bounds


_Filter = tuple[str, list[str]]


def _job_filters(query: JobQuery) -> list[_Filter]:
    """The equality filters of `query` as (column, values), empty ones left out."""
    user = [query.user_email] if query.user_email is not None else []
    candidates = (("user_email", user), ("status", query.statuses), ("type", query.types))
    return [(column, sorted(values)) for column, values in candidates if values]


def _narrowness(job_filter: _Filter) -> tuple[int, int]:
    """Fewest values first (fewest branches), then the column whose rows are fewest."""
    column, values = job_filter
    return len(values), list(_JOB_INDEX_BY_FILTER).index(column)


def _list_items_sql(
    job_id: str, statuses: Collection[ItemStatus], limit: int, after_item_id: str | None
) -> tuple[str, list[object]]:
    terms: list[str] = ["job_id = ?"]
    params: list[object] = [job_id]
    if after_item_id is not None:
        terms.append("item_id > ?")
        params.append(after_item_id)
    if not statuses:
        return _merged("items", terms, [params], _ITEM_ORDER, limit)
    branches = [[status, *params] for status in sorted(statuses)]
    source = "items INDEXED BY items_by_status"
    return _merged(source, ["status = ?", *terms], branches, _ITEM_ORDER, limit)


def _merged(
    source: str, terms: list[str], branches: Sequence[Sequence[object]], order: str, limit: int
) -> tuple[str, list[object]]:
    """One query reading `source` once per parameter list in `branches`, merged in `order`.

    Each branch is an equality walk down an index that already yields `order`, so
    it stops after `limit` rows; the merge sorts at most `limit` rows per branch.
    """
    columns = order.replace(" DESC", "")
    branch = (
        f"SELECT {columns}, doc FROM {source} WHERE {' AND '.join(terms)} ORDER BY {order} LIMIT ?"
    )
    union = " UNION ALL ".join([f"SELECT * FROM ({branch})"] * len(branches))
    sql = f"SELECT doc FROM ({union}) ORDER BY {order} LIMIT ?"
    params = [*chain.from_iterable([*values, limit] for values in branches), limit]
    return sql, params


def _marks(count: int) -> str:
    return ", ".join("?" * count)
