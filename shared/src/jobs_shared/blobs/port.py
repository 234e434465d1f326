"""The blob store port: uploaded documents (and, later, export files) kept by id.

A blob belongs to one tenant: every call names the tenant, and a blob of another
tenant is "not found", like a job of another tenant. Ids are random (never derived
from the user's file name), so they cannot be guessed, cannot collide, and cannot
carry a path into the file system. `put` takes a stream and a size cap and keeps
nothing when the cap is passed, so an upload is refused while it arrives rather than
after it filled a disk.
"""

import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 1 << 20
"""What `read` yields at a time, and how uploads are copied."""

_BLOB_ID = re.compile(r"[0-9a-f]{32}")


class BlobNotFoundError(LookupError):
    """No such blob for this tenant (or an id this store could never have made)."""


class BlobTooLargeError(ValueError):
    """The stream went past the size cap; nothing was kept."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the blob is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True, slots=True)
class StoredBlob:
    blob_id: str
    size_bytes: int


def new_blob_id() -> str:
    return secrets.token_hex(16)


def is_blob_id(text: str) -> bool:
    """Whether `text` has the shape of an id `new_blob_id` makes (checked before any lookup,
    because ids arrive in job params that any publisher of `SubmitJob` may write)."""
    return _BLOB_ID.fullmatch(text) is not None


class BlobStore(Protocol):
    async def open(self) -> None:
        """Create what is missing (directories, indexes). Idempotent."""

    async def close(self) -> None: ...

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], *, max_bytes: int, file_name: str = ""
    ) -> StoredBlob:
        """Store the stream; `BlobTooLargeError` (and nothing kept) past `max_bytes`.
        `file_name` is kept for operators only; it never becomes part of a path or id."""

    def read(self, tenant: str, blob_id: str) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks; `BlobNotFoundError` on the first iteration if absent."""

    def local_file(self, tenant: str, blob_id: str) -> AbstractAsyncContextManager[Path]:
        """A file on local disk with the blob's bytes, for parsers that need random access;
        valid inside the block only, and never to be written to."""

    async def delete(self, tenant: str, blob_id: str) -> None:
        """Remove the blob; deleting one that is not there is not an error."""

    async def delete_stored_before(self, cutoff: datetime) -> int:
        """Remove every blob, of every tenant, stored before `cutoff` (and uploads left
        unfinished since then); how many blobs went. For the retention sweep."""
