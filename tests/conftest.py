"""Fixtures every test layer shares: a private RabbitMQ vhost and a fresh SQLite store."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jobs_shared.store import JobStore, open_store
from tests.support.rabbit import temporary_vhost


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A RabbitMQ vhost of this test session's own, removed at the end."""
    with temporary_vhost() as url:
        yield url


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[JobStore]:
    store = open_store(f"sqlite:///{tmp_path / 'jobs.db'}")
    await store.open()
    try:
        yield store
    finally:
        await store.close()
