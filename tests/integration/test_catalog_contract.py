"""The catalog contract: what every CatalogStore adapter must do, run against each of them
(SQLite, MongoDB through the stand-in, and a real MongoDB when `JOBS_TEST_MONGODB_URL` is set).
"""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobs_shared.store import CatalogStore, Product, ProductCursor, ProductData, ProductQuery
from tests.support.products import product_data, product_source

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ACME, GLOBEX = "acme", "globex"


def data(key: str, job: str = "job-1", row: int = 2, **fields: Any) -> ProductData:
    values: dict[str, Any] = {"title": f"Product {key}", "sku": key, **fields}
    return product_data(key, source=product_source(job, file="a.csv", row=row), **values)


async def test_an_upsert_creates_then_updates_by_key_keeping_id_and_creation_time(
    catalog: CatalogStore,
) -> None:
    created = await catalog.upsert_products(
        ACME,
        [data("SKU-1", price="10.00", currency="EUR", attributes={"Color": "red"})],
        T0,
    )
    later = T0 + timedelta(hours=1)
    updated = await catalog.upsert_products(
        ACME, [data("SKU-1", job="job-2", row=7, price="12.50")], later
    )

    assert created == updated
    [product_id] = created
    assert product_id.startswith("prd_")

    product = await catalog.get_product(ACME, product_id)

    assert product == Product(
        id=product_id,
        tenant=ACME,
        product_key="SKU-1",
        sku="SKU-1",
        title="Product SKU-1",
        price="12.50",
        source=product_source("job-2", file="a.csv", row=7),
        created_at=T0,
        updated_at=later,
    )
    assert await catalog.count_products(ACME, ProductQuery()) == 1


async def test_every_field_round_trips(catalog: CatalogStore) -> None:
    full: ProductData = {
        "product_key": "h-abc",
        "sku": None,
        "title": "Lampe « Ümlaut »",
        "description": "Line one\nline two",
        "price": "1299.00",
        "currency": "EUR",
        "gtin": "4006381333931",
        "brand": "Acme",
        "image_url": "https://img.test/a.png",
        "url": "https://shop.test/a",
        "category": "Home > Lamps",
        "attributes": {"Column 12": "x", "unit": "g"},
        "source": product_source("j", file="inv.pdf", row=3, page=2),
    }
    [product_id] = await catalog.upsert_products(ACME, [full], T0)

    product = await catalog.get_product(ACME, product_id)

    assert product is not None
    assert product.model_dump(include=set(ProductData.__required_keys__)) == full


async def test_a_key_written_twice_in_one_batch_keeps_its_last_values(
    catalog: CatalogStore,
) -> None:
    first, second = await catalog.upsert_products(
        ACME, [data("K", row=2), data("K", row=9, brand="Late")], T0
    )

    assert first == second
    assert await catalog.count_products(ACME, ProductQuery()) == 1
    product = await catalog.get_product(ACME, first)

    assert product is not None
    assert (product.source["row"], product.brand) == (9, "Late")


async def test_ids_come_back_in_the_batchs_order_for_new_and_existing_products(
    catalog: CatalogStore,
) -> None:
    [old_b] = await catalog.upsert_products(ACME, [data("B")], T0)
    [old_d] = await catalog.upsert_products(ACME, [data("D")], T0)

    a, b, c, d = await catalog.upsert_products(
        ACME, [data("A"), data("B"), data("C"), data("D")], T0 + timedelta(hours=1)
    )

    assert (b, d) == (old_b, old_d)
    assert len({a, b, c, d}) == 4
    for product_id, key in ((a, "A"), (b, "B"), (c, "C"), (d, "D")):
        product = await catalog.get_product(ACME, product_id)
        assert product is not None
        assert product.product_key == key


async def test_tenants_never_see_each_others_products(catalog: CatalogStore) -> None:
    [acme_id] = await catalog.upsert_products(ACME, [data("SAME", brand="A")], T0)
    [globex_id] = await catalog.upsert_products(GLOBEX, [data("SAME", brand="G")], T0)

    assert acme_id != globex_id
    acme = await catalog.get_product(ACME, acme_id)
    assert acme is not None
    assert acme.brand == "A"
    assert await catalog.get_product(GLOBEX, acme_id) is None
    listed = await catalog.list_products(GLOBEX, ProductQuery(), 10, None)
    assert [(p.tenant, p.brand) for p in listed] == [(GLOBEX, "G")]


async def test_an_empty_batch_writes_nothing(catalog: CatalogStore) -> None:
    assert await catalog.upsert_products(ACME, [], T0) == []

    assert await catalog.count_products(ACME, ProductQuery()) == 0


def _reference(
    products: list[tuple[ProductData, datetime, str]], query: ProductQuery
) -> list[tuple[datetime, str]]:
    """What a list must return, newest first, computed in plain Python."""
    selected = []
    for product, at, product_id in products:
        searched = f"{product['title']}\n{product['sku'] or ''}".casefold()
        if query.text and query.text.casefold() not in searched:
            continue
        if query.brand is not None and product["brand"] != query.brand:
            continue
        if query.category is not None and product["category"] != query.category:
            continue
        if query.source_job is not None and product["source"]["job_id"] != query.source_job:
            continue
        selected.append((at, product_id))
    return sorted(selected, reverse=True)


QUERIES = [
    ProductQuery(),
    ProductQuery(brand="Acme"),
    ProductQuery(category="Lamps"),
    ProductQuery(source_job="job-b"),
    ProductQuery(text="LAMP"),
    ProductQuery(text="sku-01"),
    ProductQuery(text="50%_off"),
    ProductQuery(text="ümlaut"),
    ProductQuery(brand="Acme", category="Lamps", source_job="job-a", text="lamp"),
    ProductQuery(brand="Nobody"),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
async def test_lists_filter_page_and_count_like_the_reference(
    catalog: CatalogStore, query: ProductQuery
) -> None:
    rng = random.Random(7)
    written: list[tuple[ProductData, datetime, str]] = []
    for batch in range(6):
        at = T0 + timedelta(minutes=batch // 2)  # pairs of batches share a time: ties on id
        products = [
            data(
                f"SKU-{batch}{n}",
                job=rng.choice(["job-a", "job-b"]),
                title=rng.choice(["Desk lamp", "Chair", "ÜMLAUT lamp", "50%_off sofa", "Rug"]),
                brand=rng.choice(["Acme", "Other", None]),
                category=rng.choice(["Lamps", "Seating"]),
            )
            for n in range(7)
        ]
        ids = await catalog.upsert_products(ACME, products, at)
        written.extend(zip(products, [at] * len(ids), ids, strict=True))
    await catalog.upsert_products(GLOBEX, [data("SKU-01", brand="Acme")], T0)

    pages: list[Product] = []
    after: ProductCursor | None = None
    while True:
        page = await catalog.list_products(ACME, query, 4, after)
        pages.extend(page)
        if len(page) < 4:
            break
        after = ProductCursor(page[-1].created_at, page[-1].id)

    expected = _reference(written, query)
    assert [(p.created_at, p.id) for p in pages] == expected
    assert await catalog.count_products(ACME, query) == len(expected)
