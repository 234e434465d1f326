"""One aiosqlite connection to the embedded SQLite file, as every SQLite adapter needs it.

The job store and the catalog live in the same file, each on a connection of its own;
how that connection is opened (WAL and the pragmas below), closed, pinged, and how a
batch of writes becomes one transaction is the same for both, so it is written once here.
"""

import asyncio
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from pathlib import Path

import aiosqlite

PRAGMAS = (
    "PRAGMA busy_timeout=10000",  # first: switching to WAL needs a lock another process may hold
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",  # 64 MiB: list pages walk indexes of a million-row table
    # A many-row INSERT (`many_row_statements`) stages its rows in a temporary b-tree,
    # which would otherwise be a temporary file: twice the system time of the rows.
    "PRAGMA temp_store=MEMORY",
    # Copy the log into the database every 40 MB of it rather than every 4 MB: a 1,000-row
    # catalog batch logs about 4 MB (its random product-id index dirties most of its
    # pages), so the default checkpointed on nearly every commit.
    "PRAGMA wal_autocheckpoint=10000",
)

Row = Sequence[object]


def many_row_statements(
    statement: Callable[[int], str], rows: Iterable[Row], rows_per_statement: int
) -> list[tuple[str, list[Row]]]:
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
    iterator = iter(rows)
    while batch := tuple(islice(iterator, rows_per_statement)):
        params_by_count.setdefault(len(batch), []).append(tuple(chain.from_iterable(batch)))
    return [(statement(count), params) for count, params in params_by_count.items()]


class SqliteFile:
    def __init__(self, path: str | Path, schema: str) -> None:
        self._path = Path(path)
        self._schema = schema
        self._connection: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        """One connection, shared by concurrent tasks: only one may hold a transaction."""

    async def open(self) -> None:
        """Connect and create the schema if missing. Idempotent."""
        if self._connection is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(self._path, isolation_level=None)
        for pragma in PRAGMAS:
            await connection.execute(pragma)
        await connection.executescript(self._schema)
        self._connection = connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def ping(self) -> None:
        await self.db.execute_fetchall("SELECT 1")

    @property
    def db(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError(f"the SQLite store {self._path} is not open: call open() first")
        return self._connection

    async def write(self, *statements: tuple[str, Iterable[Row]]) -> None:
        """Run each `(sql, rows)` with executemany, all in one transaction."""
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    await self.db.executemany(sql, rows)
            except BaseException:
                if self.db.in_transaction:  # some errors end the transaction themselves
                    await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")
