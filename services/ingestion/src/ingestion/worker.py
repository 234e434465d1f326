"""The `document_ingestion` worker: an uploaded file's rows into the catalog, one item per row.

`plan` reads the upload named in the job (`params.blob_id`) with `read_document` and
yields one item per data row, in file order. A `DocumentError` (an unreadable file,
found before the first row or deep inside it) fails the whole job with the parser's
own message; the runtime reports it as `JobFailed`. Processing writes each row's
product to the catalog (keyed by product key, so a redelivered row is harmless) or
fails the item with the row's error, which names the row and the field in the
parser's words.

It is a `BatchWorker`: a row costs microseconds, far less than the runtime's per-item
machinery (a task, a time limit, a start report) and a store commit each, so a chunk's
rows are processed together and written in one `upsert_products` call.

Parsing is CPU work, so the file is read in a process of its own (`reading.py`): the
worker's own process stays free to publish chunks, process them, report outcomes and
answer heartbeats while a large file is read. The reader writes each chunk's items as
JSON (`EncodedItems`, a chunk's size at a time), so the plan hands them on untouched.
"""

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import ValidationError

from ingestion.items import ERROR, PRODUCT, WARNINGS
from ingestion.reading import read_items, start_reader_server
from jobs_shared.blobs import BlobNotFoundError, BlobStore, open_blob_store
from jobs_shared.blobs.port import is_blob_id
from jobs_shared.contracts import JobType, RunJob, WorkItem, utc_now
from jobs_shared.store import PRODUCT_DATA, CatalogStore, ProductData, open_catalog
from jobs_shared.worker import (
    BatchResult,
    BatchWorker,
    EncodedItems,
    InvalidDataError,
    ItemContext,
    ParseError,
    WorkerSettings,
)

NO_UPLOAD = "This job names no uploaded file: upload the document again."
UPLOAD_GONE = "The uploaded file is no longer available: upload the document again."


class IngestionWorker(BatchWorker):
    job_type = JobType.DOCUMENT_INGESTION

    def __init__(
        self,
        settings: WorkerSettings,
        blobs: BlobStore | None = None,
        catalog: CatalogStore | None = None,
    ) -> None:
        """Blobs and catalog come from `settings` unless given (tests hand in their own)."""
        self._blobs = blobs or open_blob_store(settings)
        self._catalog = catalog or open_catalog(settings.store_url)
        self._rows_per_batch = settings.worker_chunk_size

    async def open(self) -> None:
        await start_reader_server()
        await self._blobs.open()
        await self._catalog.open()

    async def close(self) -> None:
        await self._catalog.close()
        await self._blobs.close()

    async def plan(self, job: RunJob) -> AsyncIterator[EncodedItems]:
        blob_id = job.params.get("blob_id")
        if not isinstance(blob_id, str) or not is_blob_id(blob_id):
            raise InvalidDataError(NO_UPLOAD)
        file_name = _text(job.params.get("file_name")) or _text(job.metadata.get("file_name"))
        try:
            async with self._blobs.local_file(job.tenant, blob_id) as path:
                batches = read_items(path, file_name, job.job_id, self._rows_per_batch)
                try:
                    async for batch in batches:
                        yield batch
                finally:
                    await batches.aclose()  # stops the reader if the plan ends early
        except BlobNotFoundError:
            raise ParseError(UPLOAD_GONE) from None

    async def process_batch(
        self, items: Sequence[WorkItem], context: ItemContext
    ) -> list[BatchResult]:
        taken = [_product_or_error(item) for item in items]
        products = [product for product in taken if not isinstance(product, Exception)]
        ids = iter(await self._catalog.upsert_products(context.job.tenant, products, utc_now()))
        return [
            product
            if isinstance(product, Exception)
            else _summary(next(ids), item.payload.get(WARNINGS))
            for item, product in zip(items, taken, strict=True)
        ]


def _product_or_error(item: WorkItem) -> ProductData | Exception:
    """The item's product, or why the row is not one (the item fails alone with it)."""
    try:
        return _product_of(item)
    except (InvalidDataError, ValidationError) as error:
        return error


def _product_of(item: WorkItem) -> ProductData:
    if (error := item.payload.get(ERROR)) is not None:
        raise InvalidDataError(str(error))
    return PRODUCT_DATA.validate_json(item.payload[PRODUCT])


def _summary(product_id: str, warnings: object) -> dict[str, Any]:
    """What the Items page shows for a row: the product it became, and the parser's warnings."""
    summary: dict[str, Any] = {"product_id": product_id}
    if warnings:
        summary["warnings"] = warnings
    return summary


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
