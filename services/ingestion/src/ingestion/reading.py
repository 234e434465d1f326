"""An upload's rows read in a process of its own, handed to the worker as items in batches.

Parsing is CPU work in Python. In the worker's own process it held the interpreter
lock for a third of the worker's time, time the same process needed to process chunks,
report outcomes and answer heartbeats, while the machine's other core sat mostly idle
(measured on a 100,000-row CSV: 10.4 s end to end with the parse in a thread, 8.3 s
with it in a child process; docs/benchmarks.md). A child process reads the file with
`read_document`, turns each row into its item and sends them through a pipe in batches of
a chunk's size, already written as JSON (`encoded_items`): the worker's planner then
publishes each batch as it is. The pipe's buffer is the back-pressure: the child waits while
the planner is behind, so a large file is still read in bounded memory. A file
that kills its reader (out of memory, a crash in a C library) fails its job with a
message instead of taking the worker down.

Readers are forked from a server process started once with the parsing modules
imported (`start_reader_server`), so a reader starts in milliseconds instead of
importing the parser afresh (about a second), and inherits nothing of the worker's
connections or threads.
"""

import asyncio
import contextlib
import fcntl
import multiprocessing
from collections.abc import AsyncGenerator
from multiprocessing.connection import Connection
from pathlib import Path

from ingestion.document import read_document
from ingestion.items import ItemFields, encoded_items, row_fields
from jobs_shared.contracts.work import EncodedItems
from jobs_shared.documents import DocumentError
from jobs_shared.errors import ErrorCategory

PIPE_BYTES = 1 << 20
"""The pipe's buffer: room for a batch (about 600 KB for 1,000 CSV rows). With Linux's
default of 64 KB a batch went through in pieces, and the thread receiving it needed the
interpreter lock back for each piece while the event loop held it, so the reader spent
half its time waiting on a full pipe (measured: the reader busy 55 % of the time, the
100,000-row CSV's plan taking 4.7 s instead of 3.2 s)."""

READER_DIED = (
    "We could not finish reading this file: the reader stopped part way through. "
    "Check that the file opens in a spreadsheet program, or split it into smaller files."
)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["ingestion.reading"])

ReaderMessage = EncodedItems | tuple[str, str] | None
"""A batch of items; the file's error as `(message, category)`; None at the end."""


async def start_reader_server() -> None:
    """Start the process readers are forked from, and return once it has the parser imported
    (about a second): it answers its first fork only then, so without this the first upload
    after a start would wait for it."""
    first = _CONTEXT.Process(target=_nothing, name="document-reader-warm-up")
    first.start()
    await asyncio.to_thread(first.join)


def _nothing() -> None:
    """The warm-up fork's work: being forked is the point."""


async def read_items(
    path: Path, file_name: str | None, job_id: str, rows_per_batch: int
) -> AsyncGenerator[EncodedItems, None]:
    """The file's items, in file order, `rows_per_batch` at a time; raises `DocumentError`
    for a file that cannot be read. Closing the iterator early stops the reader."""
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    enlarge(sending)
    reader = _CONTEXT.Process(
        target=_read,
        args=(sending, path, file_name, job_id, rows_per_batch),
        name="document-reader",
    )
    reader.start()
    sending.close()  # the child holds its own end; EOF then means it is gone
    receiving_task: asyncio.Future[ReaderMessage] | None = None
    try:
        while True:
            # Shielded: if the plan is cancelled, the thread still owns the pipe until the
            # reader is gone (closing it under a blocked recv could hand its descriptor on).
            receiving_task = asyncio.ensure_future(asyncio.to_thread(receiving.recv))
            try:
                message = await asyncio.shield(receiving_task)
            except EOFError:
                raise DocumentError(READER_DIED) from None
            if message is None:
                return
            if isinstance(message, tuple):
                text, category = message
                raise DocumentError(text, ErrorCategory(category))
            yield message
    finally:
        if reader.is_alive():
            reader.terminate()
        await asyncio.to_thread(reader.join)
        if receiving_task is not None:  # ends with EOF at the latest, now the reader is gone
            await asyncio.wait({receiving_task})
            if not receiving_task.cancelled():
                receiving_task.exception()  # retrieved: an EOF here is expected
        receiving.close()


def enlarge(pipe: Connection) -> None:
    """Give `pipe` a `PIPE_BYTES` buffer where the system allows it (Linux; up to its
    `fs.pipe-max-size`); elsewhere it keeps its own, which only costs speed."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if resize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), resize, PIPE_BYTES)


def _read(
    sending: Connection, path: Path, file_name: str | None, job_id: str, rows_per_batch: int
) -> None:
    """The reader process: batches of items, then None; or the file's error as
    `(message, category)`. Any other failure ends the process, which the worker reads as
    a file it could not finish."""
    try:
        batch: list[ItemFields] = []
        for result in read_document(path, file_name):
            batch.append(row_fields(result, job_id, file_name))
            if len(batch) == rows_per_batch:
                sending.send(encoded_items(batch))
                batch = []
        if batch:
            sending.send(encoded_items(batch))
        sending.send(None)
    except DocumentError as error:
        sending.send((error.message, error.category.value))
    except BrokenPipeError:
        pass  # the worker stopped listening: its job was cancelled or the worker is stopping
    finally:
        sending.close()
