"""The reader process: the same items as reading in place, its errors, and no reader left over."""

import fcntl
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from ingestion import read_document
from ingestion.reading import PIPE_BYTES, READER_DIED, enlarge, read_items
from jobs_shared.contracts import WorkItem
from jobs_shared.documents import DocumentError
from jobs_shared.errors import ErrorCategory
from tests.unit.ingestion.builders import decoded, row_item

JOB = "job-reader"
ROWS_PER_BATCH = 100
MORE_THAN_THE_PIPE_HOLDS = 6_000
"""Rows whose items (about 400 bytes each) fill the reader's pipe twice over, so that the
reader is still writing when a test looks at it."""


def catalog(path: Path, rows: int) -> Path:
    lines = ["SKU,Title,Price"] + [f"S-{n},Mug {n},{n}.50" for n in range(rows)]
    lines.append(",,not a price")  # a row error travels as an item like the others
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def all_items(path: Path) -> tuple[list[WorkItem], int]:
    items: list[WorkItem] = []
    batches = 0
    async for batch in read_items(path, path.name, JOB, ROWS_PER_BATCH):
        items.extend(decoded(batch))  # valid items, as a chunk needs
        batches += 1
    return items, batches


def readers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "document-reader"]


async def test_the_reader_yields_what_reading_in_place_does_in_batches(tmp_path: Path) -> None:
    path = catalog(tmp_path / "products.csv", ROWS_PER_BATCH * 2 + 7)

    items, batches = await all_items(path)

    expected = [row_item(result, JOB, path.name) for result in read_document(path)]
    assert items == expected
    assert batches == 3
    assert "error" in items[-1].payload
    assert readers() == []


async def test_a_file_the_reader_refuses_fails_with_its_message_and_category(
    tmp_path: Path,
) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))

    with pytest.raises(DocumentError) as raised:
        await all_items(path)

    with pytest.raises(DocumentError) as in_place:
        list(read_document(path))
    assert raised.value.message == in_place.value.message
    assert raised.value.category == in_place.value.category == ErrorCategory.PARSE_ERROR
    assert readers() == []


async def test_a_reader_that_dies_fails_the_file_with_a_message(tmp_path: Path) -> None:
    path = catalog(tmp_path / "products.csv", MORE_THAN_THE_PIPE_HOLDS)
    batches = read_items(path, path.name, JOB, ROWS_PER_BATCH)
    await anext(batches)  # the reader now waits on the pipe with the next batch
    [reader] = readers()
    assert reader.pid is not None
    os.kill(reader.pid, signal.SIGKILL)

    with pytest.raises(DocumentError) as raised:
        async for _ in batches:
            pass

    assert raised.value.message == READER_DIED
    assert readers() == []


async def test_stopping_early_stops_the_reader(tmp_path: Path) -> None:
    path = catalog(tmp_path / "products.csv", MORE_THAN_THE_PIPE_HOLDS)
    batches = read_items(path, path.name, JOB, ROWS_PER_BATCH)
    first = await anext(batches)
    assert len(first) == ROWS_PER_BATCH
    assert len(readers()) == 1

    await batches.aclose()

    assert readers() == []


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_the_readers_pipe_holds_a_few_batches() -> None:
    receiving, sending = multiprocessing.Pipe(duplex=False)
    try:
        enlarge(sending)
        assert fcntl.fcntl(sending.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
    finally:
        receiving.close()
        sending.close()
