"""Pick the store adapter from `JOBS_STORE_URL`."""

from jobs_shared.store.port import JobStore


def open_store(url: str) -> JobStore:
    """An unopened store for `url` (`sqlite:///path` or `mongodb://...`); call `open()`."""
    if url.startswith("sqlite:///"):
        from jobs_shared.store.sqlite import SqliteJobStore

        return SqliteJobStore(url.removeprefix("sqlite:///"))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from jobs_shared.store.mongo import MongoJobStore

        return MongoJobStore.from_url(url)
    raise ValueError(f"JOBS_STORE_URL must start with sqlite:/// or mongodb://, got {url!r}")
