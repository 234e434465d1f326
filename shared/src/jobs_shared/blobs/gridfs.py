"""Blobs in MongoDB GridFS (bucket `blobs`), for deployments whose store is MongoDB.

Replicas of the gateway and the workers share no disk there, so uploads go where the
jobs are. The blob id is the file's `_id` and the tenant is in its metadata; a blob
read or deleted under another tenant is not found. An upload past the size cap is
aborted, which deletes the chunks already written.
"""

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from gridfs import AsyncGridFSBucket, NoFile
from gridfs.asynchronous.grid_file import AsyncGridOut
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from jobs_shared.blobs.port import (
    CHUNK_BYTES,
    BlobNotFoundError,
    BlobTooLargeError,
    StoredBlob,
    is_blob_id,
    new_blob_id,
)

BUCKET = "blobs"
DEFAULT_DATABASE = "merchantops_jobs"

Document = dict[str, Any]


class GridFsBlobStore:
    def __init__(
        self, database: AsyncDatabase[Document], client: AsyncMongoClient[Document] | None = None
    ) -> None:
        """`client`, if given, is closed with the store; a bare `database` stays the caller's."""
        self._bucket = AsyncGridFSBucket(database, bucket_name=BUCKET)
        self._client = client

    @classmethod
    def from_url(cls, url: str) -> Self:
        client: AsyncMongoClient[Document] = AsyncMongoClient(url)
        return cls(client.get_default_database(DEFAULT_DATABASE), client)

    async def open(self) -> None:
        pass  # GridFS creates its indexes on the first upload

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], *, max_bytes: int, file_name: str = ""
    ) -> StoredBlob:
        blob_id = new_blob_id()
        upload = self._bucket.open_upload_stream_with_id(
            blob_id, file_name or blob_id, metadata={"tenant": tenant}
        )
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLargeError(max_bytes)
                await upload.write(chunk)
        except BaseException:
            await upload.abort()
            raise
        await upload.close()
        return StoredBlob(blob_id, size)

    async def read(self, tenant: str, blob_id: str) -> AsyncIterator[bytes]:
        download = await self._download(tenant, blob_id)
        try:
            while chunk := await download.read(CHUNK_BYTES):
                yield chunk
        finally:
            await download.close()

    @asynccontextmanager
    async def local_file(self, tenant: str, blob_id: str) -> AsyncIterator[Path]:
        download = await self._download(tenant, blob_id)
        handle, name = tempfile.mkstemp(prefix="blob-")
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as f:
                while chunk := await download.read(CHUNK_BYTES):
                    await asyncio.to_thread(f.write, chunk)
            yield path
        finally:
            await download.close()
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def delete(self, tenant: str, blob_id: str) -> None:
        with contextlib.suppress(BlobNotFoundError, NoFile):
            download = await self._download(tenant, blob_id)
            await download.close()
            await self._bucket.delete(blob_id)

    async def delete_stored_before(self, cutoff: datetime) -> int:
        """GridFS stamps each file with `uploadDate` when its upload completes; an aborted
        upload's chunks are deleted by `abort`, so only whole files need sweeping."""
        deleted = 0
        async for file in self._bucket.find({"uploadDate": {"$lt": cutoff}}):
            with contextlib.suppress(NoFile):  # another sweep got there first
                await self._bucket.delete(file._id)
                deleted += 1
        return deleted

    async def _download(self, tenant: str, blob_id: str) -> AsyncGridOut:
        if not is_blob_id(blob_id):
            raise BlobNotFoundError(blob_id)
        try:
            download = await self._bucket.open_download_stream(blob_id)
        except NoFile:
            raise BlobNotFoundError(blob_id) from None
        if (download.metadata or {}).get("tenant") != tenant:
            await download.close()
            raise BlobNotFoundError(blob_id)
        return download
