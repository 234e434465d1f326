"""The catalog port: the products that ingestion and crawls write and the API lists.

A product is keyed by (tenant, product_key) — the SKU, or a stable hash of what names
the product when there is none — so uploading the same catalog twice updates the same
products instead of doubling them, and a redelivered row is harmless (workers run
items at least once). Each store keeps that key unique, so two replicas writing the
same product at once still make one. Its id is made on the first write of the key
(`new_product_id`) and kept by every later one. Every product remembers the job, file
and row that last wrote it.

Both adapters (SQLite in the jobs file, MongoDB in the jobs database) are held to
one contract suite, `tests/integration/test_catalog_contract.py`.
"""

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12


class ProductSource(TypedDict):
    """Where the product's current values come from: the job that last wrote it, and where."""

    job_id: str
    file: str | None
    row: Annotated[int | None, Field(description="Row in the file or sheet, or PDF line.")]
    sheet: str | None
    page: int | None


MAX_PRODUCT_KEY = 512
"""Characters in a product key (a SKU); longer ones are refused, not cut (two could meet)."""


class ProductData(TypedDict):
    """What a writer supplies for one product: every field, None where it is not known.

    A dict rather than a model, because the ingestion worker takes one per row: it
    validates the row's product with `PRODUCT_DATA` into a plain dict, and the catalog
    writes that dict's JSON with orjson, where a pydantic model cost twice as much to
    build and again as much to write out (measured in one process: 7.1 against 3.1 µs
    a row for validating, writing and the catalog row's other values; by py-spy, the
    worker's event loop had spent nearly a third of its time there; docs/benchmarks.md).
    """

    product_key: Annotated[str, Field(min_length=1, max_length=MAX_PRODUCT_KEY)]
    sku: str | None
    title: str
    description: str | None
    price: Annotated[str | None, Field(description="A decimal, as a string: '1299.00'.")]
    currency: Annotated[str | None, Field(description="ISO 4217, when known.")]
    gtin: str | None
    brand: str | None
    image_url: str | None
    url: str | None
    category: str | None
    attributes: dict[str, str]
    source: ProductSource


PRODUCT_DATA = TypeAdapter(ProductData)
"""Validates what a writer supplies (`PRODUCT_DATA.validate_json(text)` for a JSON product)."""


class Product(BaseModel):
    """A catalog product as stored and as `GET /products` returns it: a `ProductData`'s
    fields, then the product's id, tenant and times."""

    model_config = ConfigDict(frozen=True)

    product_key: str = Field(min_length=1, max_length=MAX_PRODUCT_KEY)
    sku: str | None = None
    title: str
    description: str | None = None
    price: str | None = Field(default=None, description="A decimal, as a string: '1299.00'.")
    currency: str | None = Field(default=None, description="ISO 4217, when known.")
    gtin: str | None = None
    brand: str | None = None
    image_url: str | None = None
    url: str | None = None
    category: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    source: ProductSource = Field(
        description="The job, file and place (row in the file or sheet, page, PDF line) "
        "that last wrote the product's values."
    )
    id: str
    tenant: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """The filters of `GET /products`; None means no filter."""

    text: str | None = None
    """Part of the title or the SKU, case-insensitive."""
    brand: str | None = None
    category: str | None = None
    source_job: str | None = None


@dataclass(frozen=True, slots=True)
class ProductCursor:
    """Where the next page starts: just after this (created_at, id), newest first."""

    created_at: datetime
    product_id: str


def new_product_id() -> str:
    """A new product's id: the time in nanoseconds, then 32 random bits, in hex.

    Ids that grow with time are added at one end of a store's id index. Ids derived
    from the key, as they were, landed all over it: a 1,000-product batch then rewrote
    most of that index's pages, and SQLite wrote twice the log and spent one and a half
    to two times the CPU a product (docs/benchmarks.md, "ingestion experiments").

    The random bits only tell apart ids made in the same nanosecond; they need not be
    unguessable (every read is scoped to its tenant), so they come from `random`, which
    Python reseeds in a forked child, not from the system (a system call an id: a
    microsecond, a twentieth of the ingestion worker's event loop by py-spy)."""
    return f"prd_{time.time_ns():016x}{random.getrandbits(32):08x}"


class CatalogStore(Protocol):
    async def open(self) -> None:
        """Connect and create the schema or indexes if missing. Idempotent."""

    async def close(self) -> None: ...

    async def upsert_products(
        self, tenant: str, products: Sequence[ProductData], at: datetime
    ) -> list[str]:
        """Create or update each product of `tenant` by its key, in order (a key written
        twice keeps its last values); `at` is the update time, and the creation time of
        new ones. All of the batch is written or, on error, none of it is promised.
        Returns the products' ids, in the same order: a new product's from
        `new_product_id`, an existing one's as it was."""

    async def get_product(self, tenant: str, product_id: str) -> Product | None: ...

    async def list_products(
        self, tenant: str, query: ProductQuery, limit: int, after: ProductCursor | None
    ) -> list[Product]:
        """Up to `limit` matching products, newest first (created_at, then id)."""

    async def count_products(self, tenant: str, query: ProductQuery) -> int: ...
