"""A document's rows as a job's items: stable ids, labels in the merchant's words, payloads.

Item ids come from where the row is (`row-0000042`, `Orders!row-0000042`,
`page-00002-line-00003`), so planning the same file twice yields the same ids and the
tracker counts each row once; they are zero-padded because a job's items are listed
in id order, which is then the file's order. The label is how the parser names the
row in its messages ("Row 42", "Sheet 'Orders', row 42", "Page 2, line 3").

The payload is what processing needs without the file: the product as the catalog
takes it, or the row's error as the parser worded it. The product travels as one JSON
string rather than as a nested object: pydantic then reads it straight into a
`ProductData` on the other side, instead of building a dict of every field when the
chunk is decoded and validating that dict again (measured: about a third of the
worker's time per row).
"""

from collections.abc import Sequence
from typing import Any

import orjson

from ingestion.products import ProductRow, ProductRowResult, RowError
from ingestion.tables import where
from jobs_shared.contracts.work import EncodedItems
from jobs_shared.store.catalog_port import MAX_PRODUCT_KEY, ProductData

MAX_SHEET_NAME = 100
"""Characters of a sheet's name kept in item ids and labels (Excel allows 31; a crafted
file may hold any, and an item id has a length limit)."""

ERROR = "error"
PRODUCT = "product"
WARNINGS = "warnings"


ItemFields = tuple[str, str, dict[str, Any]]
"""A row's item as plain values: its id, label and payload."""


def row_fields(result: ProductRowResult, job_id: str, file_name: str | None) -> ItemFields:
    """A row's item as plain values. The id and the label stay within `WorkItem`'s limits
    (the sheet's name is cut to `MAX_SHEET_NAME`): `encoded_items` writes them without a
    model, and nothing checks them until a worker takes their chunk."""
    sheet = None if result.sheet is None else result.sheet[:MAX_SHEET_NAME]
    label = where(result.row, sheet, result.page)
    payload: dict[str, Any]
    if isinstance(result, RowError):
        payload = {ERROR: result.message}
    elif len(result.product_key) > MAX_PRODUCT_KEY:
        payload = {ERROR: f"{label}: the SKU is longer than {MAX_PRODUCT_KEY} characters"}
    else:
        payload = {PRODUCT: product_json(result, job_id, file_name)}
        if result.warnings:
            payload[WARNINGS] = list(result.warnings)
    return item_id(result.row, sheet, result.page), label, payload


def encoded_items(rows: Sequence[ItemFields]) -> EncodedItems:
    """Rows' items written as JSON in the document reader's process, which the worker's
    planner publishes as they are (see `EncodedItems`)."""
    return EncodedItems(
        item_ids=[item_id for item_id, _, _ in rows],
        items_json=orjson.dumps(
            [
                {"item_id": item_id, "label": label, "payload": payload}
                for item_id, label, payload in rows
            ]
        ),
    )


def item_id(row: int, sheet: str | None, page: int | None) -> str:
    if page is not None:
        return f"page-{page:05d}-line-{row:05d}"
    if sheet is not None:
        return f"{sheet}!row-{row:07d}"
    return f"row-{row:07d}"


def product_json(row: ProductRow, job_id: str, file_name: str | None) -> str:
    """The catalog's product (a `ProductData`) for a parsed row, as JSON. Not validated
    here: the row is valid already, and the worker validates the product when it takes it.
    The quantity (invoices have one) is not a product field, so it is kept with the
    attributes."""
    attributes = row.attributes
    if row.quantity is not None and "quantity" not in attributes:
        attributes = {**attributes, "quantity": str(row.quantity)}
    product: ProductData = {
        "product_key": row.product_key,
        "sku": row.sku,
        "title": row.title,
        "description": row.description,
        "price": None if row.price is None else str(row.price),
        "currency": row.currency,
        "gtin": row.gtin,
        "brand": row.brand,
        "image_url": row.image_url,
        "url": row.url,
        "category": row.category,
        "attributes": attributes,
        "source": {
            "job_id": job_id,
            "file": file_name,
            "row": row.row,
            "sheet": row.sheet,
            "page": row.page,
        },
    }
    return orjson.dumps(product).decode()
