"""The embedded SQLite file as every SQLite adapter uses it: reads, writes and checkpoints.

The job store and the catalog live in the same file, each with connections of its own;
how they are opened (WAL and the pragmas below), closed, pinged, and how a batch of
writes becomes one transaction is the same for both, so it is written once here. Each
`SqliteFile` reads on an aiosqlite connection, writes whole transactions on a second
connection in a thread of its own (`_Writer`), and leaves checkpoints to a third.

Checkpoints (copying the write-ahead log into the database, with an fsync of each) do
not run in the writing connection, where SQLite runs them by default: the commit that
crosses the log's limit would do it and wait for the disk, and every write queued behind
it with it. A connection of its own does it instead, in its own thread, at most every
`CHECKPOINT_SECONDS` while there are writes (`_Checkpointer`). Measured in the ingestion
worker, whose 1,000-row catalog batches then logged about 4 MB each (product ids were
still random, see `new_product_id`): its writing thread spent 30 to 38 ms a batch with
checkpoints in it, 16 to 21 without (`docs/benchmarks.md`).
"""

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import TypeVar

import aiosqlite

from jobs_shared.store.keys import chunks

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA busy_timeout=10000",  # first: switching to WAL needs a lock another process may hold
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",  # 64 MiB: list pages walk indexes of a million-row table
    # A many-row INSERT (`many_row_statements`) stages its rows in a temporary b-tree,
    # which would otherwise be a temporary file: twice the system time of the rows.
    "PRAGMA temp_store=MEMORY",
    "PRAGMA wal_autocheckpoint=0",  # the checkpointer's connection does it (see above)
    # The log is reused from its start once all of it was copied; beyond this size its
    # file is then cut back (a large ingestion job may log a few hundred MB meanwhile).
    "PRAGMA journal_size_limit=67108864",
)

CHECKPOINT_SECONDS = 0.5
"""How often the log is copied into the database at most, while there are writes."""

Row = Sequence[object]
Statement = tuple[str, Iterable[Row]]
"""An SQL statement and the row sets to run it with."""
T = TypeVar("T")


def many_row_statements(
    statement: Callable[[int], str], rows: Iterable[Row], rows_per_statement: int
) -> list[Statement]:
    """`rows` as `write` takes them, `rows_per_statement` rows to a statement (the rest in
    one of fewer), where `statement(n)` is the SQL for n rows (cache it: sqlite3 keeps
    prepared statements by their text).

    Each run of a statement opens its cursors on the table and its indexes afresh, and
    sqlite3 takes the interpreter lock back after each run: a thread writing row by row
    waits for it once a row while the event loop is busy. Timed in the writing thread of
    the ingestion worker, a 1,000-row catalog batch took 38 ms (14 of them CPU) row by
    row and 26 ms (12 CPU) a hundred rows to a statement.
    """
    params_by_count: dict[int, list[Row]] = {}
    for batch in chunks(rows, rows_per_statement):
        params_by_count.setdefault(len(batch), []).append(tuple(chain.from_iterable(batch)))
    return [(statement(count), params) for count, params in params_by_count.items()]


async def _connect(path: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        await connection.execute(pragma)
    return connection


class _Checkpointer:
    """Copies the log into the database on a connection of its own, `interval` seconds after
    the first write since its last copy: never in a writer's way, and once for all the
    writes of an interval. PASSIVE: it takes no lock a writer or reader waits for, and
    copies what no reader still needs (the rest on its next run)."""

    def __init__(self, path: Path, interval: float) -> None:
        self._path = path
        self._interval = interval
        self._connection: aiosqlite.Connection | None = None
        self._due: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None

    def wrote(self) -> None:
        if self._due is None:
            self._due = asyncio.get_running_loop().call_later(self._interval, self._start)

    async def close(self) -> None:
        """Call off a checkpoint that is due; let one that runs finish (it is short)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if self._running is not None:
            await self._running
            self._running = None
        if self._connection is not None:
            await self._connection.close()  # the file's last connection to close checkpoints
            self._connection = None

    def _start(self) -> None:
        self._due = None
        if self._running is None or self._running.done():  # else the next write asks again
            self._running = asyncio.get_running_loop().create_task(
                self._checkpoint(), name=f"checkpoint {self._path.name}"
            )

    async def _checkpoint(self) -> None:
        try:
            if self._connection is None:
                self._connection = await _connect(self._path)
            await self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as error:  # the next write schedules another; the log only grows
            log.warning("could not checkpoint %s: %r", self._path, error)


class _Writer:
    """Runs whole transactions on a connection of its own, in a thread of its own.

    A transaction is one call into the thread, and transactions queued meanwhile run
    back to back in it: the event loop is not needed between a transaction's statements,
    nor between one transaction and the next. Over aiosqlite each statement was a trip
    through the event loop, which in the ingestion worker is often busy for milliseconds
    validating a batch; the writer waited for it at every step."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix=f"sqlite-writer-{self._path.name}"
        )
        await self._in_thread(self._connect)

    async def close(self) -> None:
        if self._executor is not None:
            await self._in_thread(self._close)
            self._executor.shutdown()
            self._executor = None

    async def transaction(self, statements: Sequence[Statement]) -> list[Row]:
        return await self._in_thread(self._transaction, statements)

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        if self._executor is None:
            raise _not_open(self._path)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)

    def _connect(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None)  # in the writer's thread
        for pragma in PRAGMAS:
            connection.execute(pragma)
        self._connection = connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _transaction(self, statements: Sequence[Statement]) -> list[Row]:
        connection = self._connection
        if connection is None:  # closed while this transaction waited for the thread
            raise _not_open(self._path)
        returned: list[Row] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in statements:
                for params in rows:  # not executemany, which refuses RETURNING
                    returned.extend(connection.execute(sql, params).fetchall())
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # some errors end the transaction themselves
                connection.execute("ROLLBACK")
            raise
        return returned


def _not_open(path: Path) -> RuntimeError:
    return RuntimeError(f"the SQLite store {path} is not open: call open() first")


class SqliteFile:
    def __init__(self, path: str | Path, schema: str) -> None:
        self._path = Path(path)
        self._schema = schema
        self._connection: aiosqlite.Connection | None = None
        self._writer = _Writer(self._path)
        self._checkpointer = _Checkpointer(self._path, CHECKPOINT_SECONDS)

    async def open(self) -> None:
        """Connect and create the schema if missing. Idempotent."""
        if self._connection is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = await _connect(self._path)
        try:
            await connection.executescript(self._schema)
            await self._writer.open()
        except BaseException:
            await connection.close()  # its thread would keep the process from exiting
            raise
        self._connection = connection

    async def close(self) -> None:
        await self._writer.close()
        await self._checkpointer.close()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def ping(self) -> None:
        await self.db.execute_fetchall("SELECT 1")

    @property
    def db(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise _not_open(self._path)
        return self._connection

    async def write(self, *statements: Statement) -> list[Row]:
        """Run each `(sql, rows)` once for each of its rows, all in one transaction
        (`_Writer`). Returns the rows the statements returned (`RETURNING`), in order."""
        returned = await self._writer.transaction(statements)
        self._checkpointer.wrote()
        return returned
