"""The catalog in the SQLite file the jobs are in: one `products` table.

The columns the list filters on sit beside the JSON document, each with an index
`(tenant, column, created_at, id)` that yields a filter's rows already newest first,
so a page reads `limit` rows and stops (as the jobs table does). A batch of upserts
is one transaction of `INSERT ... ON CONFLICT (tenant, product_key) DO UPDATE`, which
keeps the id and `created_at`, a thousand rows to a statement (a key twice in one
statement: the second row updates the row the first one wrote), each statement
`RETURNING` the id of every row it wrote.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

import orjson

from jobs_shared.store.catalog_documents import data_to_json, product_from, search_text
from jobs_shared.store.catalog_port import (
    Product,
    ProductCursor,
    ProductData,
    ProductQuery,
    new_product_id,
)
from jobs_shared.store.documents import iso
from jobs_shared.store.sqlite_file import SqliteFile, many_row_statements

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    product_key TEXT NOT NULL,
    brand TEXT,
    category TEXT,
    source_job TEXT NOT NULL,
    search TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS products_by_key ON products (tenant, product_key);
CREATE INDEX IF NOT EXISTS products_by_created ON products (tenant, created_at, id);
CREATE INDEX IF NOT EXISTS products_by_brand ON products (tenant, brand, created_at, id);
CREATE INDEX IF NOT EXISTS products_by_category ON products (tenant, category, created_at, id);
CREATE INDEX IF NOT EXISTS products_by_source ON products (tenant, source_job, created_at, id);
"""

PRODUCTS_PER_UPSERT = 1000
"""Product rows per INSERT (see `many_row_statements`): an ingestion chunk's batch in one
statement, 10,000 bound values (SQLite allows 32,766). The writing thread then needs the
interpreter lock back twice a batch rather than twice every hundred rows (`bench.ingestion`,
two runs each against a hundred rows to a statement: CSV ratio 2.95 and 2.76 against 3.05
and 3.02, XLSX 2.06 and 2.04 against 2.16 and 2.16)."""


@cache
def _upsert(rows: int) -> str:
    return f"""
INSERT INTO products
    (id, tenant, product_key, brand, category, source_job, search, created_at, updated_at, doc)
VALUES {", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)}
ON CONFLICT (tenant, product_key) DO UPDATE SET
    brand = excluded.brand, category = excluded.category, source_job = excluded.source_job,
    search = excluded.search, updated_at = excluded.updated_at, doc = excluded.doc
RETURNING product_key, id
"""


_COLUMNS = "id, tenant, created_at, updated_at, doc"
_FILTER_INDEXES = (
    ("source_job", "products_by_source"),
    ("brand", "products_by_brand"),
    ("category", "products_by_category"),
)
"""Equality filters, most selective first: the first one given picks the index walked."""


class SqliteCatalogStore(SqliteFile):
    """The CatalogStore port over the jobs' SQLite file (a connection of its own)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)

    async def upsert_products(
        self, tenant: str, products: Sequence[ProductData], at: datetime
    ) -> list[str]:
        moment = iso(at)
        rows = [
            (
                new_product_id(),
                tenant,
                product["product_key"],
                product["brand"],
                product["category"],
                product["source"]["job_id"],
                search_text(product),
                moment,
                moment,
                data_to_json(product),
            )
            for product in products
        ]
        written = await self.write(*many_row_statements(_upsert, rows, PRODUCTS_PER_UPSERT))
        ids = {str(key): str(id_) for key, id_ in written}
        return [ids[product["product_key"]] for product in products]

    async def get_product(self, tenant: str, product_id: str) -> Product | None:
        rows = await self.db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM products WHERE id = ? AND tenant = ?", (product_id, tenant)
        )
        return next((_product(row) for row in rows), None)

    async def list_products(
        self, tenant: str, query: ProductQuery, limit: int, after: ProductCursor | None
    ) -> list[Product]:
        index, terms, params = _where(tenant, query)
        if after is not None:
            terms.append("(created_at, id) < (?, ?)")
            params.extend((iso(after.created_at), after.product_id))
        sql = (
            f"SELECT {_COLUMNS} FROM products INDEXED BY {index} WHERE {' AND '.join(terms)}"
            " ORDER BY created_at DESC, id DESC LIMIT ?"
        )
        rows = await self.db.execute_fetchall(sql, (*params, limit))
        return [_product(row) for row in rows]

    async def count_products(self, tenant: str, query: ProductQuery) -> int:
        index, terms, params = _where(tenant, query)
        sql = f"SELECT COUNT(*) FROM products INDEXED BY {index} WHERE {' AND '.join(terms)}"
        [(count,)] = await self.db.execute_fetchall(sql, params)
        return int(count)


def _where(tenant: str, query: ProductQuery) -> tuple[str, list[str], list[object]]:
    """The index to walk, and the WHERE terms with their parameters."""
    index = "products_by_created"
    terms: list[str] = ["tenant = ?"]
    params: list[object] = [tenant]
    for column, column_index in _FILTER_INDEXES:
        value = getattr(query, column)
        if value is not None:
            if index == "products_by_created":
                index = column_index
            terms.append(f"{column} = ?")
            params.append(value)
    if query.text:
        terms.append("instr(search, ?) > 0")
        params.append(query.text.casefold())
    return index, terms, params


def _product(row: Sequence[object]) -> Product:
    id_, tenant, created_at, updated_at, doc = row
    return product_from(
        orjson.loads(str(doc)),
        id=str(id_),
        tenant=str(tenant),
        created_at=str(created_at),
        updated_at=str(updated_at),
    )
