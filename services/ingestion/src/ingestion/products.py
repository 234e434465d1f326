"""Product rows, and the merchant-worded error of each row that cannot be one.

Every data row of an upload becomes exactly one result, a ProductRow or a
RowError, so that a job's item counts match the file the merchant sees. A row
fails only for what makes it unusable (no name, a price or quantity that is not
a number); a doubtful barcode is dropped with a warning instead, so one Excel
mishap does not reject a whole catalog. Shopify repeats a product's Handle on
each variant row and leaves the product fields empty there, so such rows take
them from the first row of their handle, as Shopify's own importer does.
"""

import hashlib
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, computed_field

from ingestion.amounts import AmountError, currency_code, parse_price, parse_quantity
from ingestion.columns import ColumnMap, Field
from ingestion.gtin import normalise_gtin
from ingestion.tables import RawRow, RawTable

_INHERITED = (Field.TITLE, Field.DESCRIPTION, Field.BRAND, Field.CATEGORY, Field.URL)
_URL_LIST = re.compile(r",\s*(?=https?://)")


class ProductRow(BaseModel):
    """One product (or variant) as read; `row` is where the merchant finds it."""

    model_config = ConfigDict(frozen=True)

    row: int
    sheet: str | None = None
    page: int | None = None
    sku: str | None = None
    title: str
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    quantity: Decimal | None = None
    gtin: str | None = None
    brand: str | None = None
    image_url: str | None = None
    url: str | None = None
    category: str | None = None
    attributes: dict[str, str] = {}
    warnings: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def product_key(self) -> str:
        """The SKU, or else a hash of what names the product, stable across uploads."""
        if self.sku:
            return self.sku
        basis = "\x1f".join(
            part.strip().casefold() for part in (self.title, self.brand or "", self.url or "")
        )
        return "h-" + hashlib.sha256(basis.encode()).hexdigest()[:24]


class RowError(BaseModel):
    """A row that cannot become a product; `message` is shown to the merchant as is."""

    model_config = ConfigDict(frozen=True)

    row: int
    sheet: str | None = None
    page: int | None = None
    field: str
    message: str


ProductRowResult = ProductRow | RowError


def build_products(table: RawTable, columns: ColumnMap) -> Iterator[ProductRowResult]:
    handle = ""
    first_of_handle: dict[Field, str] = {}
    for raw in table.rows:
        values = {field: _cell(raw.cells, index) for field, index in columns.fields.items()}
        if columns.handle is not None:
            row_handle = _cell(raw.cells, columns.handle)
            if row_handle != handle:
                handle, first_of_handle = row_handle, values
            elif handle and not values.get(Field.TITLE):
                for field in _INHERITED:
                    values[field] = values.get(field) or first_of_handle.get(field, "")
        yield _result(table, columns, raw, values)


def _result(
    table: RawTable, columns: ColumnMap, raw: RawRow, values: dict[Field, str]
) -> ProductRowResult:
    where = table.where(raw.number)
    attributes = _attributes(table.header, raw.cells, columns)
    problems: list[tuple[Field, str]] = []
    if not values.get(Field.TITLE):
        problems.append((Field.TITLE, "no title or name"))
    price = currency = quantity = gtin = None
    if text := values.get(Field.PRICE):
        try:
            amount = parse_price(text)
            price, currency = amount.value, amount.currency
        except AmountError as reason:
            problems.append((Field.PRICE, f"price '{text}' {reason}"))
    if text := values.get(Field.CURRENCY):
        currency = currency_code(text)
        if currency is None:
            problems.append(
                (Field.CURRENCY, f"currency '{text}' is not a currency code such as USD or EUR")
            )
    if text := values.get(Field.QUANTITY):
        try:
            amount = parse_quantity(text)
            quantity = amount.value
            if amount.unit:
                attributes["unit"] = amount.unit
        except AmountError as reason:
            problems.append((Field.QUANTITY, f"quantity '{text}' {reason}"))
    if problems:
        return RowError(
            row=raw.number,
            sheet=table.sheet,
            page=table.page,
            field=problems[0][0].value,
            message=f"{where}: " + "; ".join(problem for _, problem in problems),
        )
    warnings: list[str] = []
    if text := values.get(Field.GTIN):
        gtin, problem = normalise_gtin(text)
        if problem:
            warnings.append(f"{where}: {problem}")
            attributes[table.header[columns.fields[Field.GTIN]].strip()] = text
    return ProductRow(
        row=raw.number,
        sheet=table.sheet,
        page=table.page,
        sku=values.get(Field.SKU) or None,
        title=values[Field.TITLE],
        description=values.get(Field.DESCRIPTION) or None,
        price=price,
        currency=currency,
        quantity=quantity,
        gtin=gtin,
        brand=values.get(Field.BRAND) or None,
        image_url=_URL_LIST.split(values.get(Field.IMAGE_URL, ""))[0] or None,
        url=values.get(Field.URL) or None,
        category=values.get(Field.CATEGORY) or None,
        attributes=attributes,
        warnings=tuple(warnings),
    )


def _cell(cells: Sequence[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _attributes(header: Sequence[str], cells: Sequence[str], columns: ColumnMap) -> dict[str, str]:
    """Unmapped columns under their own header; cells past the header as "Column N"."""
    attributes = {
        name: value for index, name in columns.attributes if (value := _cell(cells, index))
    }
    for index in range(len(header), len(cells)):
        if value := _cell(cells, index):
            attributes[f"Column {index + 1}"] = value
    return attributes
