"""Accepting an upload: refuse what can never become a job, keep the file, start the job.

Everything a merchant could fix before waiting for a job is answered at once: an empty
file (400), a file over the limit (413, refused while it streams in, before anything is
kept), and a file that is not a CSV, XLSX or PDF document whatever its name says (415,
judged from its content with the very sniffing the worker uses). Only then is the file
stored, under a random id, and the job submitted; if the submit cannot be published the
stored file is deleted again, so no upload is kept without a job to read it.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import PureWindowsPath
from typing import BinaryIO, cast

from faststream.rabbit import RabbitBroker
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, HTTPException

from gateway.auth import Principal
from gateway.domain.jobs.submission import submit_job
from jobs_shared.blobs import BlobStore, BlobTooLargeError
from jobs_shared.blobs.port import CHUNK_BYTES
from jobs_shared.contracts import JobType, JobView
from jobs_shared.documents import DocumentError, Kind, sniff
from jobs_shared.store import JobStore

EMPTY = "The file is empty."
MAX_FILE_NAME = 255

MEDIA_TYPES = {
    Kind.CSV: "text/csv",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Kind.PDF: "application/pdf",
}
"""What the content turned out to be, as a media type (the client's own claim is not kept)."""

logger = logging.getLogger(__name__)


class UnsupportedDocumentError(HTTPException):
    status_code = 415


class DocumentTooLargeError(HTTPException):
    status_code = 413


def too_large(max_bytes: int) -> DocumentTooLargeError:
    return DocumentTooLargeError(
        f"The file is larger than the upload limit of {_amount(max_bytes)}. "
        "Split it into smaller files and upload them one by one."
    )


async def accept_document(
    upload: UploadFile,
    *,
    max_bytes: int,
    blobs: BlobStore,
    broker: RabbitBroker,
    store: JobStore,
    principal: Principal,
) -> JobView:
    """Check the uploaded file, store it, and submit the job that will read it."""
    file_name = _file_name(upload.filename)
    size = await asyncio.to_thread(_size, upload)
    if size == 0:
        raise ClientException(EMPTY)
    if size > max_bytes:
        raise too_large(max_bytes)
    try:
        kind = await asyncio.to_thread(sniff, cast(BinaryIO, upload.file), file_name)
    except DocumentError as error:
        raise UnsupportedDocumentError(error.message) from None
    await upload.seek(0)
    try:
        stored = await blobs.put(
            principal.tenant, _chunks(upload), max_bytes=max_bytes, file_name=file_name
        )
    except BlobTooLargeError:
        raise too_large(max_bytes) from None
    try:
        return await submit_job(
            broker,
            store,
            principal,
            JobType.DOCUMENT_INGESTION,
            params={"blob_id": stored.blob_id, "file_name": file_name},
            metadata={
                "file_name": file_name,
                "size_bytes": stored.size_bytes,
                "content_type": MEDIA_TYPES[kind],
            },
        )
    except BaseException:
        await blobs.delete(principal.tenant, stored.blob_id)
        raise


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    return upload.file.tell()


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


def _file_name(sent: str | None) -> str:
    """The name the merchant knows the file by, without any folders a browser sent along
    (shown in the job's metadata only; it never names anything on disk)."""
    name = PureWindowsPath(sent or "").name.strip()  # splits on both / and \
    return name[:MAX_FILE_NAME] or "document"


def _amount(size: int) -> str:
    megabyte = 1 << 20
    if size >= megabyte and size % megabyte == 0:
        return f"{size // megabyte} MB"
    return f"{size:,} bytes"
