"""Prices, quantities, barcodes, header names and product keys, one rule at a time."""

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion import DocumentError, ProductRow, read_document
from ingestion.amounts import AmountError, parse_price, parse_quantity
from ingestion.columns import ColumnMap, Field, normalise
from ingestion.gtin import normalise_gtin


@pytest.mark.parametrize(
    ("raw", "value", "currency"),
    [
        ("$1,299.00", "1299.00", None),
        ("1.299,00 €", "1299.00", "EUR"),
        ("15.00 USD", "15.00", "USD"),
        ("usd 12", "12", "USD"),
        ("£5", "5", "GBP"),
        ("1 299,00 EUR", "1299.00", "EUR"),
        ("0,90", "0.90", None),
        ("25", "25", None),
    ],
)
def test_prices_as_merchants_write_them(raw: str, value: str, currency: str | None) -> None:
    amount = parse_price(raw)

    assert (amount.value, amount.currency) == (Decimal(value), currency)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", "is not a number"),
        ("12 pieces", "is not a number"),
        ("1e5", "is not a number"),
        ("12.3.4", "is not a number"),
        ("-9,32", "is negative"),
        ("$-5", "is negative"),
    ],
)
def test_prices_that_are_not(raw: str, reason: str) -> None:
    with pytest.raises(AmountError, match=f"^{reason}$"):
        parse_price(raw)


def test_quantities_keep_their_unit() -> None:
    amount = parse_quantity("15.00 g")

    assert (amount.value, amount.unit) == (Decimal("15.00"), "g")
    with pytest.raises(AmountError):
        parse_quantity("€ 5")


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("4006381333931", "4006381333931"),
        ("0 36000 29145 2", "036000291452"),
        ("4.006381333931E+12", "4006381333931"),
        ("96385074", "96385074"),
    ],
)
def test_valid_gtins(raw: str, gtin: str) -> None:
    assert normalise_gtin(raw) == (gtin, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("3.65275E+11", "was cut short by Excel"),
        ("4006381333932", "has a wrong check digit"),
        ("987123", "is not a GTIN"),
        ("ABC-123", "is not a GTIN"),
    ],
)
def test_invalid_gtins_are_flagged(raw: str, problem: str) -> None:
    gtin, message = normalise_gtin(raw)

    assert gtin is None
    assert message is not None
    assert problem in message


def test_header_names_compare_without_case_accents_spaces_or_punctuation() -> None:
    assert normalise("Body (HTML)") == "bodyhtml"
    assert normalise(" Stückpreis ") == "stuckpreis"
    assert normalise("image_link") == "imagelink"


def test_each_field_takes_its_best_synonym_and_the_rest_are_attributes() -> None:
    header = ["ID", "SKU", "Name", "Sale price", "Regular price", "Short description", "Brands"]

    columns = ColumnMap.from_header(header)

    assert columns.fields == {
        Field.SKU: 1,
        Field.TITLE: 2,
        Field.PRICE: 4,
        Field.DESCRIPTION: 5,
        Field.BRAND: 6,
    }
    assert columns.attributes == ((0, "ID"), (3, "Sale price"))


def test_an_invoice_description_column_is_the_name() -> None:
    columns = ColumnMap.from_header(["Description", "Quantity", "Unit Price", "Amount"])

    assert columns.fields[Field.TITLE] == 0
    assert Field.DESCRIPTION not in columns.fields
    assert columns.is_line_item_table


def test_product_key_is_the_sku_or_a_stable_hash_of_what_names_the_product() -> None:
    with_sku = ProductRow(row=2, sku="A-1", title="Mug")
    plain = ProductRow(row=2, title="Mug ", brand="Acme", url="https://x.example/mug")
    same = ProductRow(row=9, title="mug", brand="ACME", url="https://x.example/mug", price=3)
    other = ProductRow(row=2, title="Mug", brand="Other", url="https://x.example/mug")

    assert with_sku.product_key == "A-1"
    assert plain.product_key == same.product_key
    assert plain.product_key != other.product_key
    assert plain.product_key.startswith("h-")
    assert len(plain.product_key) == 26


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from([b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\xef\xbb\xbf", b"title,price\n"]),
    body=st.binary(max_size=2048),
)
def test_arbitrary_bytes_give_rows_or_a_document_error(prefix: bytes, body: bytes) -> None:
    with contextlib.suppress(DocumentError):  # any other exception fails the test
        for result in read_document(prefix + body, "upload.csv"):
            assert result.row >= 1
