"""Blob storage for uploaded documents: a port and two adapters (a directory, MongoDB GridFS)."""

from jobs_shared.blobs.factory import open_blob_store
from jobs_shared.blobs.port import (
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    StoredBlob,
)

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "BlobTooLargeError",
    "StoredBlob",
    "open_blob_store",
]
