"""Blobs as files under `JOBS_BLOB_DIR`: the embedded mode's store, beside the SQLite file.

Layout: `<root>/<tenant>/<first two hex digits of the id>/<id>`. The tenant is in the
path so that a tenant's blobs can be listed, backed up or deleted together, and so
that reading a blob under the wrong tenant finds nothing. The tenant name is
percent-encoded (it comes from a token, and could hold `/` or be `..`), and hashed if
it would make an overlong file name. An upload is written to `<root>/<tenant>/.incoming`
and renamed into place only once it is complete and flushed to disk: a reader never
sees half a file, and a refused or broken upload leaves nothing behind.
"""

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from jobs_shared.blobs.port import (
    CHUNK_BYTES,
    BlobNotFoundError,
    BlobTooLargeError,
    StoredBlob,
    is_blob_id,
    new_blob_id,
)

_INCOMING = ".incoming"
_MAX_SEGMENT = 200


class DirectoryBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def open(self) -> None:
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        pass

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], *, max_bytes: int, file_name: str = ""
    ) -> StoredBlob:
        blob_id = new_blob_id()
        incoming = self._tenant_dir(tenant) / _INCOMING / f"{blob_id}.part"
        final = self._path(tenant, blob_id)
        await asyncio.to_thread(incoming.parent.mkdir, parents=True, exist_ok=True)
        size = 0
        try:
            with open(incoming, "wb") as f:  # noqa: ASYNC230 - each write goes to a thread
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLargeError(max_bytes)
                    await asyncio.to_thread(f.write, chunk)
                await asyncio.to_thread(_flush, f)
            await asyncio.to_thread(_move, incoming, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                incoming.unlink()
            raise
        return StoredBlob(blob_id, size)

    async def read(self, tenant: str, blob_id: str) -> AsyncIterator[bytes]:
        path = self._existing(tenant, blob_id)
        try:
            f = open(path, "rb")  # noqa: ASYNC230, SIM115 - each read goes to a thread
        except FileNotFoundError:  # deleted since the check (the retention sweep)
            raise BlobNotFoundError(blob_id) from None
        with f:
            while chunk := await asyncio.to_thread(f.read, CHUNK_BYTES):
                yield chunk

    @asynccontextmanager
    async def local_file(self, tenant: str, blob_id: str) -> AsyncIterator[Path]:
        yield self._existing(tenant, blob_id)

    async def delete(self, tenant: str, blob_id: str) -> None:
        if is_blob_id(blob_id):
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(self._path(tenant, blob_id).unlink)

    async def delete_stored_before(self, cutoff: datetime) -> int:
        return await asyncio.to_thread(self._delete_stored_before, cutoff.timestamp())

    def _delete_stored_before(self, cutoff: float) -> int:
        """Files under `<root>/<tenant>/<xx>/` (blobs) and `<root>/<tenant>/.incoming/`
        (unfinished uploads) whose modification time is before `cutoff`: a blob is
        written once, so its mtime is when it was stored."""
        deleted = 0
        for path in self._root.glob("*/*/*"):
            with contextlib.suppress(FileNotFoundError):  # another sweep got there first
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += path.parent.name != _INCOMING
        return deleted

    def _existing(self, tenant: str, blob_id: str) -> Path:
        if not is_blob_id(blob_id):
            raise BlobNotFoundError(blob_id)
        path = self._path(tenant, blob_id)
        if not path.is_file():
            raise BlobNotFoundError(blob_id)
        return path

    def _path(self, tenant: str, blob_id: str) -> Path:
        return self._tenant_dir(tenant) / blob_id[:2] / blob_id

    def _tenant_dir(self, tenant: str) -> Path:
        return self._root / tenant_segment(tenant)


def tenant_segment(tenant: str) -> str:
    """`tenant` as one safe directory name: percent-encoded (dots too, so never `.` or `..`),
    or a hash when that would be too long for a file name."""
    segment = quote(tenant, safe="").replace(".", "%2E")
    if len(segment) > _MAX_SEGMENT:
        return "sha256-" + hashlib.sha256(tenant.encode()).hexdigest()
    return segment


def _flush(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
