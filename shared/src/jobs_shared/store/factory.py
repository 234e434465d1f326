"""Pick the store adapters from `JOBS_STORE_URL`: jobs and catalog share one file or database."""

from jobs_shared.store.catalog_port import CatalogStore
from jobs_shared.store.port import JobStore

_SQLITE = "sqlite:///"
_MONGO = ("mongodb://", "mongodb+srv://")


def is_mongo_url(url: str) -> bool:
    return url.startswith(_MONGO)


def open_store(url: str) -> JobStore:
    """An unopened store for `url` (`sqlite:///path` or `mongodb://...`); call `open()`."""
    if url.startswith(_SQLITE):
        from jobs_shared.store.sqlite import SqliteJobStore

        return SqliteJobStore(url.removeprefix(_SQLITE))
    if is_mongo_url(url):
        from jobs_shared.store.mongo import MongoJobStore

        return MongoJobStore.from_url(url)
    raise _unsupported(url)


def open_catalog(url: str) -> CatalogStore:
    """An unopened catalog for `url`, beside the jobs; call `open()`."""
    if url.startswith(_SQLITE):
        from jobs_shared.store.catalog_sqlite import SqliteCatalogStore

        return SqliteCatalogStore(url.removeprefix(_SQLITE))
    if is_mongo_url(url):
        from jobs_shared.store.catalog_mongo import MongoCatalogStore

        return MongoCatalogStore.from_url(url)
    raise _unsupported(url)


def _unsupported(url: str) -> ValueError:
    return ValueError(f"JOBS_STORE_URL must start with sqlite:/// or mongodb://, got {url!r}")
