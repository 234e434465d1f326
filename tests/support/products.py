"""Catalog products as a writer supplies them, for tests that write the catalog directly."""

from typing import Any

from pydantic import TypeAdapter

from jobs_shared.store import PRODUCT_DATA, ProductData, ProductSource

_SOURCE = TypeAdapter(ProductSource)


def product_source(job_id: str, **where: Any) -> ProductSource:
    """A product's source; `file`, `row`, `sheet` and `page` None unless given."""
    return _SOURCE.validate_python(
        dict.fromkeys(ProductSource.__required_keys__) | where | {"job_id": job_id}
    )


def product_data(product_key: str, title: str, source: ProductSource, **fields: Any) -> ProductData:
    """A product with every other field None (attributes empty) unless given; validated, so
    a test cannot write what no writer could."""
    values = dict.fromkeys(ProductData.__required_keys__) | {"attributes": {}} | fields
    return PRODUCT_DATA.validate_python(
        {**values, "product_key": product_key, "title": title, "source": source}
    )
