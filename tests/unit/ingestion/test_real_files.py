"""The real merchant files in shared/data: every row recovered, values as the files hold them."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion import DocumentError, ProductRow, RowError, read_document
from ingestion.pdf_reader import NO_TABLE
from tests.unit.ingestion.builders import DATA

CATALOGS = DATA / "catalogs"
PDFS = DATA / "pdf"


def products(path: Path) -> list[ProductRow]:
    results = list(read_document(path))
    assert all(isinstance(result, ProductRow) for result in results), [
        result for result in results if isinstance(result, RowError)
    ]
    return [result for result in results if isinstance(result, ProductRow)]


def test_shopify_template_gives_its_17_rows_with_variants_filled_from_their_product() -> None:
    rows = products(CATALOGS / "shopify_product_template.csv")

    assert len(rows) == 17
    assert [row.row for row in rows] == list(range(2, 19))
    first, second = rows[0], rows[1]
    assert (first.sku, first.title, first.price, first.brand) == (
        "SRT_COT_111",
        "Example T-Shirt",
        Decimal("25"),
        "Acme",
    )
    assert first.category == "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts"
    assert first.image_url == "https://burst.shopifycdn.com/photos/tshirts.jpg?width=1500"
    assert first.description is not None
    assert first.description.startswith("<p>This t-shirt")
    assert first.attributes["Option1 Value"] == "Green"
    assert first.attributes["Handle"] == "example-shirt"
    # A variant row repeats only the handle; Shopify's importer fills in the rest.
    assert (second.sku, second.title, second.brand) == ("SRT_COT_122", "Example T-Shirt", "Acme")
    assert second.description == first.description
    assert second.attributes["Option2 Value"] == "M"
    jeans = {row.sku: row for row in rows if row.title == "Example Jeans"}
    assert set(jeans) == {"PNT_DEN_285", "PNT_DEN_305", "PNT_DEN_405", None}
    assert jeans["PNT_DEN_305"].price == Decimal("95")
    assert jeans[None].price is None  # an image-only row of the jeans
    assert rows[-1].sku == "HAT_GRY_275"
    assert rows[-1].price == Decimal("17.99")
    assert len({row.product_key for row in rows}) == 17


def test_shopify_barcodes_mangled_by_excel_are_dropped_with_a_warning() -> None:
    rows = products(CATALOGS / "shopify_product_template.csv")

    assert all(row.gtin is None for row in rows)
    warned = [row for row in rows if row.warnings]
    assert len(warned) == 16  # every row but the image-only one has a barcode
    assert warned[0].warnings == (
        "Row 2: barcode '3.65275E+11' was cut short by Excel (scientific notation), so its "
        "last digits are lost; format the barcode column as text before exporting",
    )
    assert warned[0].attributes["Variant Barcode"] == "3.65275E+11"


def test_woocommerce_sample_gives_its_24_rows() -> None:
    rows = products(CATALOGS / "woocommerce_sample_products.csv")

    assert len(rows) == 24
    by_sku = {row.sku: row for row in rows}
    assert len(by_sku) == 24
    beanie = by_sku["cc-beanie"]
    assert (beanie.title, beanie.price, beanie.category) == (
        "Beanie",
        Decimal("20"),
        "Clothing > Accessories",
    )
    assert beanie.attributes["Sale price"] == "18"
    assert beanie.attributes["ID"] == "745"
    assert by_sku["cc-tee"].price is None  # a variable product has no price of its own
    assert by_sku["cc-hoodie-red"].title == "Hoodie - Red, No"
    assert by_sku["cc-hoodie-red"].attributes["Parent"] == "cc-hoodie"
    assert by_sku["cp-donation"].url == "https://www.classicpress.net/donate/"
    assert by_sku["cc-tee"].image_url == (
        "https://classiccommerce.cc/wp-content/downloads/sample-data-images/t-shirt-green.png"
    )


def test_superstore_workbook_gives_the_9994_order_lines_of_its_orders_sheet() -> None:
    rows = products(CATALOGS / "superstore-orders.xlsx")

    assert len(rows) == 9994
    assert {row.sheet for row in rows} == {"Orders"}  # Returns and People name no product
    assert (rows[0].row, rows[-1].row) == (2, 9995)
    first = rows[0]
    assert (first.sku, first.title, first.category, first.quantity) == (
        "FUR-BO-10001798",
        "Bush Somerset Collection Bookcase",
        "Furniture",
        Decimal("2"),
    )
    assert first.attributes["Order Date"] == "2016-11-08"
    assert first.attributes["Sales"] == "261.96"
    assert first.attributes["Postal Code"] == "42420"
    assert rows[1].attributes["Sales"] == "731.94"  # 731.9399999999999 in the file
    assert len({row.sku for row in rows}) == 1862


def expected_lines(name: str) -> list[dict[str, object]]:
    document = json.loads((PDFS / f"{name}.json").read_text())[0]
    return [line for line in document["lines"] if "name" in line]


def recovered_exactly(name: str) -> tuple[int, int]:
    rows = products(PDFS / f"{name}.pdf")
    got = {(row.title, row.quantity, row.price) for row in rows}
    expected = expected_lines(name)
    exact = sum(
        (
            line["name"],
            None if "qty" not in line else Decimal(str(line["qty"])),
            None if "price_unit" not in line else Decimal(str(line["price_unit"])),
        )
        in got
        for line in expected
    )
    return exact, len(expected)


@pytest.mark.parametrize("name", ["AzureInterior", "coolblue1"])
def test_invoice_lines_are_recovered_exactly(name: str) -> None:
    exact, total = recovered_exactly(name)

    assert exact == total


def test_invoice_codes_and_continuation_lines() -> None:
    rows = products(PDFS / "AzureInterior.pdf")

    assert [(row.sku, row.title) for row in rows] == [
        ("17589684", "Beeswax XL\nAcme beeswax"),
        ("FURN_7777", "Office Chair"),
        (None, "Olive Oil"),
        ("LUX_TRF", "Luxury Truffles"),
    ]
    assert rows[0].attributes["unit"] == "kg"
    assert rows[2].attributes["Barcode"] == "987123"
    assert (rows[0].page, rows[0].row) == (1, 1)


def test_invoice_prices_keep_their_currency() -> None:
    rows = products(PDFS / "coolblue1.pdf")

    assert [row.currency for row in rows if row.price is not None] == ["EUR"] * 5


def test_aws_invoice_has_no_table_header_so_it_is_refused_with_the_reason() -> None:
    with pytest.raises(DocumentError) as raised:
        list(read_document(PDFS / "AmazonWebServices.pdf"))

    assert raised.value.message == NO_TABLE
