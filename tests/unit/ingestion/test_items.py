"""A document's rows as a job's items: ids that sort in file order, labels in the parser's
words, and payloads that carry the product (or the row's error) to the processing side."""

from decimal import Decimal

import orjson

from ingestion import ProductRow, RowError, read_document
from ingestion.items import ERROR, PRODUCT, WARNINGS, item_id
from jobs_shared.store import PRODUCT_DATA, ProductData, ProductSource
from tests.support.products import product_data, product_source
from tests.unit.ingestion.builders import DATA, row_item


def test_item_ids_name_where_the_row_is_and_sort_in_file_order() -> None:
    assert item_id(42, None, None) == "row-0000042"
    assert item_id(7, "Orders", None) == "Orders!row-0000007"
    assert item_id(3, None, 2) == "page-00002-line-00003"
    ids = [item_id(n, None, None) for n in (2, 10, 100, 9999)]
    assert ids == sorted(ids)


def test_a_product_row_carries_its_product_and_warnings() -> None:
    row = ProductRow(
        row=5,
        sheet="Orders",
        title="Mug",
        sku="M-1",
        price=Decimal("9.50"),
        quantity=Decimal("2"),
        attributes={"Colour": "red"},
        warnings=("Sheet 'Orders', row 5: barcode cut short",),
    )

    item = row_item(row, "job-1", "orders.xlsx")

    assert (item.item_id, item.label) == ("Orders!row-0000005", "Sheet 'Orders', row 5")
    assert item.payload[WARNINGS] == ["Sheet 'Orders', row 5: barcode cut short"]
    product = PRODUCT_DATA.validate_json(item.payload[PRODUCT])
    assert product == product_data(
        "M-1",
        sku="M-1",
        title="Mug",
        price="9.50",
        attributes={"Colour": "red", "quantity": "2"},
        source=product_source("job-1", file="orders.xlsx", row=5, sheet="Orders"),
    )


def test_the_product_json_names_every_product_field_and_no_other() -> None:
    """It is built by hand, for speed: a field added to ProductData must be added there too."""
    item = row_item(ProductRow(row=2, title="Mug"), "job-1", None)

    written = orjson.loads(item.payload[PRODUCT])

    assert set(written) == ProductData.__required_keys__
    assert set(written["source"]) == ProductSource.__required_keys__


def test_a_row_error_carries_the_parsers_message() -> None:
    error = RowError(row=4, field="price", message="Row 4: price 'abc' is not a number")

    item = row_item(error, "job-1", "a.csv")

    assert (item.item_id, item.label) == ("row-0000004", "Row 4")
    assert item.payload == {ERROR: "Row 4: price 'abc' is not a number"}


def test_every_invoice_line_gets_its_own_item() -> None:
    rows = list(read_document(DATA / "pdf" / "coolblue1.pdf"))

    items = [row_item(row, "job-1", "coolblue1.pdf") for row in rows]

    assert [item.label for item in items] == [f"Page 1, line {n}" for n in range(1, 7)]
    assert len({item.item_id for item in items}) == len(items)


def test_a_sku_too_long_for_the_catalog_fails_its_row_only() -> None:
    row = ProductRow(row=3, title="Mug", sku="X" * 600)

    item = row_item(row, "job-1", "a.csv")

    assert item.payload == {ERROR: "Row 3: the SKU is longer than 512 characters"}


def test_a_sheet_name_longer_than_excel_allows_is_cut_in_ids_and_labels() -> None:
    item = row_item(ProductRow(row=2, sheet="S" * 300, title="Mug"), "job-1", "a.xlsx")

    assert item.item_id == "S" * 100 + "!row-0000002"
    assert item.label == f"Sheet '{'S' * 100}', row 2"
