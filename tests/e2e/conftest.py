"""One ingestion stack (gateway, tracker, worker over real RabbitMQ and one SQLite file) per
test module, on a vhost of its own: its jobs never meet another suite's workers."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.ingestion_stack import IngestionStack, running_ingestion_stack
from tests.support.rabbit import temporary_vhost


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[IngestionStack]:
    root: Path = tmp_path_factory.mktemp("ingestion")
    with temporary_vhost("jobs-test-ingestion") as amqp_url:
        async with running_ingestion_stack(amqp_url, root) as running:
            yield running
