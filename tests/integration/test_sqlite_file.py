"""The SQLite file's writes: whole transactions in the writer's thread, checkpoints apart."""

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs_shared.store import ProductData, sqlite_file
from jobs_shared.store.catalog_sqlite import SqliteCatalogStore
from tests.support.products import product_data, product_source
from tests.support.tracker import wait_until

AT = datetime(2030, 1, 1, tzinfo=UTC)


def products(count: int) -> list[ProductData]:
    return [
        product_data(
            f"SKU-{n}",
            title=f"Mug {n}",
            description="A mug. " * 20,
            source=product_source("job-1", row=n),
        )
        for n in range(count)
    ]


async def test_writes_are_copied_into_the_database_after_the_interval_not_by_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_file, "CHECKPOINT_SECONDS", 0.2)
    database = tmp_path / "jobs.db"
    store = SqliteCatalogStore(database)
    await store.open()
    try:
        [(limit,)] = await store.db.execute_fetchall("PRAGMA wal_autocheckpoint")
        assert limit == 0  # the writer never copies the log itself
        before = database.stat().st_size
        await store.upsert_products("acme", products(2000), AT)
        assert database.stat().st_size == before  # the rows are in the log only
        await wait_until(
            lambda: database.stat().st_size > before, "the log is copied into the file", 5
        )
    finally:
        await store.close()
    with sqlite3.connect(database) as reader:
        [(count,)] = reader.execute("SELECT COUNT(*) FROM products").fetchall()
    assert count == 2000


async def test_closing_with_a_checkpoint_due_leaves_nothing_running(tmp_path: Path) -> None:
    store = SqliteCatalogStore(tmp_path / "jobs.db")
    await store.open()
    await store.upsert_products("acme", products(10), AT)
    await store.close()  # the checkpoint due in CHECKPOINT_SECONDS is called off
    pending = [t for t in asyncio.all_tasks() if t.get_name().startswith("checkpoint")]
    assert pending == []
    with sqlite3.connect(tmp_path / "jobs.db") as reader:
        [(count,)] = reader.execute("SELECT COUNT(*) FROM products").fetchall()
    assert count == 10


SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
INSERT = "INSERT INTO notes (id, text) VALUES (?, ?)"


async def test_a_failing_statement_undoes_its_whole_transaction_and_writing_goes_on(
    tmp_path: Path,
) -> None:
    store = sqlite_file.SqliteFile(tmp_path / "notes.db", SCHEMA)
    await store.open()
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await store.write((INSERT, [(1, "kept?")]), (INSERT, [(2, "x"), (2, "twice")]))
        await store.write((INSERT, [(3, "after")]))
        assert list(await store.db.execute_fetchall("SELECT id FROM notes")) == [(3,)]
    finally:
        await store.close()


async def test_concurrent_writes_each_land_whole(tmp_path: Path) -> None:
    store = sqlite_file.SqliteFile(tmp_path / "notes.db", SCHEMA)
    await store.open()
    try:
        await asyncio.gather(
            *(
                store.write((INSERT, [(n * 10 + k, f"note {n}") for k in range(10)]))
                for n in range(20)
            )
        )
        [(count,)] = await store.db.execute_fetchall("SELECT COUNT(*) FROM notes")
        assert count == 200
    finally:
        await store.close()
    with pytest.raises(RuntimeError, match="is not open"):
        await store.write((INSERT, [(999, "too late")]))


async def test_a_write_returns_what_its_statements_return(tmp_path: Path) -> None:
    store = sqlite_file.SqliteFile(tmp_path / "notes.db", SCHEMA)
    await store.open()
    try:
        returned = await store.write(
            (INSERT, [(1, "one")]),
            (f"{INSERT} RETURNING id, text", [(2, "two"), (3, "three")]),
        )
    finally:
        await store.close()
    assert returned == [(2, "two"), (3, "three")]


async def test_two_stores_writing_one_new_product_at_once_make_one(tmp_path: Path) -> None:
    """Two replicas' catalogs over one file: the key is unique, so the second write
    updates the product the first made, and both report its id."""
    first, second = (
        SqliteCatalogStore(tmp_path / "jobs.db"),
        SqliteCatalogStore(tmp_path / "jobs.db"),
    )
    await first.open()
    await second.open()
    try:
        ids = await asyncio.gather(
            first.upsert_products("acme", products(50), AT),
            second.upsert_products("acme", products(50), AT),
        )
        [(count,)] = await first.db.execute_fetchall("SELECT COUNT(*) FROM products")
    finally:
        await first.close()
        await second.close()
    assert ids[0] == ids[1]
    assert count == 50


async def test_a_failed_open_leaves_no_connection_behind(tmp_path: Path) -> None:
    # Threads by identity, not by count: an earlier test's executor may still be winding
    # down its threads (a closed event loop does not wait for them).
    before = set(threading.enumerate())
    store = sqlite_file.SqliteFile(tmp_path / "notes.db", "CREATE TABLE broken (")
    with pytest.raises(sqlite3.OperationalError):
        await store.open()
    await wait_until(
        lambda: not set(threading.enumerate()) - before, "the connection's thread ends"
    )
