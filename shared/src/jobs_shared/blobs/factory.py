"""Pick the blob store that goes with the job store: files beside SQLite, GridFS beside MongoDB."""

from jobs_shared.blobs.port import BlobStore
from jobs_shared.settings import Settings
from jobs_shared.store.factory import is_mongo_url


def open_blob_store(settings: Settings) -> BlobStore:
    """An unopened blob store for `settings.store_url`; call `open()`."""
    if is_mongo_url(settings.store_url):
        from jobs_shared.blobs.gridfs import GridFsBlobStore

        return GridFsBlobStore.from_url(settings.store_url)
    from jobs_shared.blobs.directory import DirectoryBlobStore

    return DirectoryBlobStore(settings.blob_dir)
