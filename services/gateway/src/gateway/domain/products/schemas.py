"""Response bodies of the product endpoints."""

from pydantic import BaseModel, Field

from jobs_shared.store import Product


class ProductPage(BaseModel):
    products: list[Product]
    total: int = Field(description="Products matching the filters, over all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )
