"""One mapping between products and stored documents, shared by both catalog adapters.

The times and identity live beside the document, not in it, so an upsert can replace
the document wholesale while the creation time stays what the first write set.
Text search matches a case-folded copy of the title and SKU (`search_text`), the same
in both stores, so "Ü" finds "ü" in SQLite too (whose LIKE folds ASCII only).
"""

from datetime import datetime
from typing import Any

import orjson

from jobs_shared.store.catalog_port import Product, ProductData


def data_to_json(product: ProductData) -> str:
    """The product as the JSON text SQLite stores (MongoDB stores the dict itself)."""
    return orjson.dumps(product).decode()


def search_text(product: ProductData) -> str:
    return f"{product['title']}\n{product['sku'] or ''}".casefold()


def product_from(
    doc: dict[str, Any], *, id: str, tenant: str, created_at: str, updated_at: str
) -> Product:
    return Product.model_validate(
        {
            **doc,
            "id": id,
            "tenant": tenant,
            "created_at": datetime.fromisoformat(created_at),
            "updated_at": datetime.fromisoformat(updated_at),
        }
    )
