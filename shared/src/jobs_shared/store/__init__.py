"""The store ports (what the services need from storage: jobs, the catalog) and their adapters."""

from jobs_shared.store.catalog_port import (
    PRODUCT_DATA,
    CatalogStore,
    Product,
    ProductCursor,
    ProductData,
    ProductQuery,
    ProductSource,
)
from jobs_shared.store.factory import is_mongo_url, open_catalog, open_store
from jobs_shared.store.port import JobCursor, JobQuery, JobStore

__all__ = [
    "PRODUCT_DATA",
    "CatalogStore",
    "JobCursor",
    "JobQuery",
    "JobStore",
    "Product",
    "ProductCursor",
    "ProductData",
    "ProductQuery",
    "ProductSource",
    "is_mongo_url",
    "open_catalog",
    "open_store",
]
