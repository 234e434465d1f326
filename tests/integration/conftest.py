"""Every store adapter behind one fixture, so the contract suite holds them all to the port.

`store` (jobs) and `catalog` (products) run a test against SQLite (a real file), MongoDB
through the in-memory
stand-in, and a real MongoDB when `JOBS_TEST_MONGODB_URL` is set (each test gets a
database of its own, dropped afterwards). `mongo_database` gives the Mongo-only tests
the raw database beside the store, to simulate a crash between the adapter's writes.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, TypeVar, cast

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from jobs_shared.store import CatalogStore, JobStore, open_catalog, open_store
from jobs_shared.store.catalog_mongo import MongoCatalogStore
from jobs_shared.store.documents import Document
from jobs_shared.store.mongo import MongoJobStore
from tests.support.mongo_standin import StandinDatabase

MONGODB_URL_ENV = "JOBS_TEST_MONGODB_URL"
MONGO_KINDS = ["mongo-standin", "mongo"]


@asynccontextmanager
async def _mongo_database(kind: str) -> AsyncIterator[AsyncDatabase[Document]]:
    if kind == "mongo-standin":
        yield cast(AsyncDatabase[Document], StandinDatabase())
        return
    url = os.environ.get(MONGODB_URL_ENV)
    if not url:
        pytest.skip(f"{MONGODB_URL_ENV} is not set: no real MongoDB to run the contract against")
    client: AsyncMongoClient[Document] = AsyncMongoClient(url)
    name = f"jobs_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


class _Openable(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...


Opened = TypeVar("Opened", bound=_Openable)


@asynccontextmanager
async def _opened(store: Opened) -> AsyncIterator[Opened]:
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", *MONGO_KINDS])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    kind: str = request.param
    if kind == "sqlite":
        async with _opened(open_store(f"sqlite:///{tmp_path / 'jobs.db'}")) as opened:
            yield opened
        return
    async with _mongo_database(kind) as database, _opened(MongoJobStore(database)) as opened:
        yield opened


@pytest.fixture(params=["sqlite", *MONGO_KINDS])
async def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CatalogStore]:
    kind: str = request.param
    if kind == "sqlite":
        async with _opened(open_catalog(f"sqlite:///{tmp_path / 'jobs.db'}")) as opened:
            yield opened
        return
    async with (
        _mongo_database(kind) as database,
        _opened(MongoCatalogStore(database)) as mongo_catalog,
    ):
        yield mongo_catalog


@pytest.fixture(params=MONGO_KINDS)
async def mongo_database(request: pytest.FixtureRequest) -> AsyncIterator[AsyncDatabase[Document]]:
    async with _mongo_database(request.param) as database:
        yield database


@pytest.fixture
async def mongo_store(mongo_database: AsyncDatabase[Document]) -> AsyncIterator[MongoJobStore]:
    store = MongoJobStore(mongo_database)
    async with _opened(store):
        yield store
