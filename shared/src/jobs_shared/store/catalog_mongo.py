"""The catalog in the jobs' MongoDB database: one `products` collection, `_id` = product id.

An upsert is one `UpdateOne` per product, found by its key (unique per tenant): `$set`
for the values and `$setOnInsert` for the id and the creation time, so no product is
read before it is written; one query then reads the batch's ids back. Indexes mirror
the SQLite adapter's: the key, and `(tenant, filter, created_at, _id)` per list filter.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from jobs_shared.store.catalog_documents import product_from, search_text
from jobs_shared.store.catalog_port import (
    Product,
    ProductCursor,
    ProductData,
    ProductQuery,
    new_product_id,
)
from jobs_shared.store.documents import Document, iso
from jobs_shared.store.mongo import DEFAULT_DATABASE

_NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
_FILTERS = {"source_job": "source.job_id", "brand": "brand", "category": "category"}
"""ProductQuery field → stored field."""
_STORE_ONLY = ("_id", "tenant", "created_at", "updated_at", "search")


class MongoCatalogStore:
    """The CatalogStore port over one MongoDB database."""

    def __init__(
        self, database: AsyncDatabase[Document], client: AsyncMongoClient[Document] | None = None
    ) -> None:
        """`client`, if given, is closed with the store; a bare `database` stays the caller's."""
        self._client = client
        self._products: AsyncCollection[Document] = database["products"]

    @classmethod
    def from_url(cls, url: str) -> Self:
        client: AsyncMongoClient[Document] = AsyncMongoClient(url)
        return cls(client.get_default_database(DEFAULT_DATABASE), client)

    async def open(self) -> None:
        await self._products.create_index(
            [("tenant", ASCENDING), ("product_key", ASCENDING)], unique=True
        )
        await self._products.create_index([("tenant", ASCENDING), *_NEWEST_FIRST])
        for field in _FILTERS.values():
            await self._products.create_index(
                [("tenant", ASCENDING), (field, ASCENDING), *_NEWEST_FIRST]
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def upsert_products(
        self, tenant: str, products: Sequence[ProductData], at: datetime
    ) -> list[str]:
        if not products:
            return []
        moment = iso(at)
        writes = [
            UpdateOne(
                {"tenant": tenant, "product_key": product["product_key"]},
                {
                    "$set": {
                        **product,
                        "tenant": tenant,
                        "search": search_text(product),
                        "updated_at": moment,
                    },
                    "$setOnInsert": {"_id": new_product_id(), "created_at": moment},
                },
                upsert=True,
            )
            for product in products
        ]
        await self._products.bulk_write(writes, ordered=True)
        keys = list({product["product_key"] for product in products})
        written = self._products.find(
            {"tenant": tenant, "product_key": {"$in": keys}}, {"product_key": True}
        )
        ids = {doc["product_key"]: doc["_id"] async for doc in written}
        return [ids[product["product_key"]] for product in products]

    async def get_product(self, tenant: str, product_id: str) -> Product | None:
        doc = await self._products.find_one({"_id": product_id, "tenant": tenant})
        return None if doc is None else _product(doc)

    async def list_products(
        self, tenant: str, query: ProductQuery, limit: int, after: ProductCursor | None
    ) -> list[Product]:
        selector = _selector(tenant, query)
        if after is not None:
            cursor_at = iso(after.created_at)
            selector["created_at"] = {"$lte": cursor_at}
            selector["$and"] = [
                {"$or": [{"created_at": {"$lt": cursor_at}}, {"_id": {"$lt": after.product_id}}]}
            ]
        docs = await self._products.find(selector).sort(_NEWEST_FIRST).limit(limit).to_list()
        return [_product(doc) for doc in docs]

    async def count_products(self, tenant: str, query: ProductQuery) -> int:
        return await self._products.count_documents(_selector(tenant, query))


def _selector(tenant: str, query: ProductQuery) -> Document:
    selector: Document = {"tenant": tenant}
    for name, field in _FILTERS.items():
        value = getattr(query, name)
        if value is not None:
            selector[field] = value
    if query.text:
        selector["search"] = {"$regex": re.escape(query.text.casefold())}
    return selector


def _product(doc: dict[str, Any]) -> Product:
    return product_from(
        {key: value for key, value in doc.items() if key not in _STORE_ONLY},
        id=doc["_id"],
        tenant=doc["tenant"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )
