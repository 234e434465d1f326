"""The blob store contract, held against each adapter: the directory (embedded mode) and GridFS.

GridFS runs only against a real MongoDB (`JOBS_TEST_MONGODB_URL`): PyMongo's async
GridFS needs far more of a database than the mongomock stand-in offers (sessions,
`with_options`, codec options, chunked cursors), and a stand-in grown that far would
test itself rather than the adapter.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gateway.domain.documents.retention import sweep_forever
from jobs_shared.blobs import BlobNotFoundError, BlobStore, BlobTooLargeError, open_blob_store
from jobs_shared.blobs.directory import DirectoryBlobStore
from jobs_shared.blobs.gridfs import BUCKET, GridFsBlobStore
from jobs_shared.contracts import utc_now
from jobs_shared.settings import Settings
from tests.integration.conftest import MONGODB_URL_ENV

ACME, GLOBEX = "acme", "globex"
DATA = bytes(range(256)) * 5000  # 1.28 MB: more than one read chunk and one GridFS chunk


@dataclass
class Subject:
    store: BlobStore
    stored_count: Callable[[], Coroutine[Any, Any, int]]
    """Blobs and partial uploads physically present, to show a refused upload left nothing."""


async def _stream(data: bytes, piece: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


async def _read_all(store: BlobStore, tenant: str, blob_id: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(tenant, blob_id)])


@pytest.fixture(params=["directory", "gridfs"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    if request.param == "directory":
        root = tmp_path / "blobs"
        store = DirectoryBlobStore(root)
        await store.open()

        async def files() -> int:
            return sum(1 for path in root.rglob("*") if path.is_file())

        yield Subject(store, files)
        return
    url = os.environ.get(MONGODB_URL_ENV)
    if not url:
        pytest.skip(f"{MONGODB_URL_ENV} is not set: GridFS needs a real MongoDB")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    name = f"jobs_test_{uuid.uuid4().hex[:12]}"
    database = client[name]
    gridfs_store = GridFsBlobStore(database)
    await gridfs_store.open()

    async def documents() -> int:
        files = await database[f"{BUCKET}.files"].count_documents({})
        chunks = await database[f"{BUCKET}.chunks"].count_documents({})
        return files + chunks

    try:
        yield Subject(gridfs_store, documents)
    finally:
        await gridfs_store.close()
        await client.drop_database(name)
        await client.close()


async def test_a_stored_blob_reads_back_whole(subject: Subject) -> None:
    stored = await subject.store.put(ACME, _stream(DATA), max_bytes=len(DATA), file_name="a.csv")

    assert stored.size_bytes == len(DATA)
    assert await _read_all(subject.store, ACME, stored.blob_id) == DATA
    async with subject.store.local_file(ACME, stored.blob_id) as path:
        assert path.read_bytes() == DATA


async def test_ids_are_random_and_never_carry_the_file_name(subject: Subject) -> None:
    first = await subject.store.put(ACME, _stream(b"x"), max_bytes=10, file_name="../../etc/x")
    second = await subject.store.put(ACME, _stream(b"x"), max_bytes=10, file_name="../../etc/x")

    assert first.blob_id != second.blob_id
    assert all(len(b.blob_id) == 32 and b.blob_id.isalnum() for b in (first, second))


async def test_a_blob_of_another_tenant_is_not_found(subject: Subject) -> None:
    stored = await subject.store.put(ACME, _stream(b"secret"), max_bytes=10)

    with pytest.raises(BlobNotFoundError):
        await _read_all(subject.store, GLOBEX, stored.blob_id)
    with pytest.raises(BlobNotFoundError):
        async with subject.store.local_file(GLOBEX, stored.blob_id):
            pass
    await subject.store.delete(GLOBEX, stored.blob_id)
    assert await _read_all(subject.store, ACME, stored.blob_id) == b"secret"


async def test_an_upload_past_the_cap_is_refused_and_leaves_nothing(subject: Subject) -> None:
    with pytest.raises(BlobTooLargeError):
        await subject.store.put(ACME, _stream(DATA), max_bytes=len(DATA) - 1)

    assert await subject.stored_count() == 0


async def test_an_upload_broken_midway_leaves_nothing(subject: Subject) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"part"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await subject.store.put(ACME, broken(), max_bytes=100)

    assert await subject.stored_count() == 0


async def test_an_empty_stream_is_an_empty_blob(subject: Subject) -> None:
    stored = await subject.store.put(ACME, _stream(b""), max_bytes=10)

    assert stored.size_bytes == 0
    assert await _read_all(subject.store, ACME, stored.blob_id) == b""


async def test_deleted_blobs_are_gone_and_deleting_twice_is_fine(subject: Subject) -> None:
    stored = await subject.store.put(ACME, _stream(b"x"), max_bytes=10)

    await subject.store.delete(ACME, stored.blob_id)
    await subject.store.delete(ACME, stored.blob_id)

    with pytest.raises(BlobNotFoundError):
        await _read_all(subject.store, ACME, stored.blob_id)
    assert await subject.stored_count() == 0


async def test_the_retention_sweep_deletes_every_tenants_older_blobs_only(
    subject: Subject,
) -> None:
    old_ones = [
        await subject.store.put(tenant, _stream(b"old"), max_bytes=10) for tenant in (ACME, GLOBEX)
    ]
    await asyncio.sleep(0.05)  # GridFS keeps upload times to the millisecond
    cutoff = utc_now()
    await asyncio.sleep(0.05)
    kept = await subject.store.put(ACME, _stream(b"new"), max_bytes=10)

    assert await subject.store.delete_stored_before(cutoff) == 2
    assert await subject.store.delete_stored_before(cutoff) == 0

    for tenant, stored in zip((ACME, GLOBEX), old_ones, strict=True):
        with pytest.raises(BlobNotFoundError):
            await _read_all(subject.store, tenant, stored.blob_id)
    assert await _read_all(subject.store, ACME, kept.blob_id) == b"new"
    assert await subject.stored_count() == 1


async def test_the_gateway_sweeps_uploads_past_their_retention(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    await store.open()
    stored = await store.put(ACME, _stream(b"x"), max_bytes=10)
    sweeping = asyncio.create_task(sweep_forever(store, timedelta(milliseconds=100), every=0.05))
    try:
        async with asyncio.timeout(5):
            while True:
                try:
                    await _read_all(store, ACME, stored.blob_id)
                except BlobNotFoundError:
                    break
                await asyncio.sleep(0.05)
        assert not sweeping.done()  # it goes on sweeping
    finally:
        sweeping.cancel()


@pytest.mark.parametrize("blob_id", ["../../../etc/passwd", "", "0" * 31, "A" * 32, "0" * 33])
async def test_ids_it_could_not_have_made_are_not_found(subject: Subject, blob_id: str) -> None:
    with pytest.raises(BlobNotFoundError):
        await _read_all(subject.store, ACME, blob_id)
    await subject.store.delete(ACME, blob_id)


@pytest.mark.parametrize("tenant", ["..", ".", "a/../../b", "x" * 128, "ümlaut tenant"])
async def test_any_tenant_name_stays_inside_the_blob_directory(tmp_path: Path, tenant: str) -> None:
    root = tmp_path / "blobs"
    store = DirectoryBlobStore(root)
    await store.open()

    stored = await store.put(tenant, _stream(b"x"), max_bytes=10)

    [path] = [p for p in tmp_path.rglob("*") if p.is_file()]  # noqa: ASYNC240 - a test's look
    assert path.resolve().is_relative_to(root.resolve())
    assert path.name == stored.blob_id
    with pytest.raises(BlobNotFoundError):
        await _read_all(store, "other", stored.blob_id)


def test_the_store_url_picks_the_adapter(tmp_path: Path) -> None:
    embedded = open_blob_store(Settings(store_url="sqlite:///x.db", blob_dir=tmp_path))
    mongo = open_blob_store(Settings(store_url="mongodb://127.0.0.1:1/jobs"))

    assert isinstance(embedded, DirectoryBlobStore)
    assert isinstance(mongo, GridFsBlobStore)
