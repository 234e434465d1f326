"""Which column holds which product field, whatever platform wrote the header.

Merchants upload Shopify and WooCommerce exports, Google Merchant Center feeds,
ERP dumps and invoices in several languages. Headers are compared after
dropping case, accents, spaces and punctuation ("Body (HTML)" is "bodyhtml"),
each field takes the first of its synonyms that the header has, in the order
below (so WooCommerce's "Regular price" wins over its "Sale price"), and a
column serves one field at most. Every other column is kept, under its own
header, as an attribute: nothing the merchant sent is dropped.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Field(StrEnum):
    SKU = "sku"
    TITLE = "title"
    DESCRIPTION = "description"
    PRICE = "price"
    CURRENCY = "currency"
    QUANTITY = "quantity"
    GTIN = "gtin"
    BRAND = "brand"
    IMAGE_URL = "image_url"
    URL = "url"
    CATEGORY = "category"


_SYNONYMS_IN_ORDER = {
    Field.SKU: (
        "sku variantsku productid itemid productcode itemcode articlenumber "
        "itemnumber artikelnummer code id"
    ),
    Field.TITLE: (
        "title name productname producttitle itemname product item artikel "
        "artikelname bezeichnung article designation nom naam nombre articulo "
        "producto"
    ),
    Field.DESCRIPTION: (
        "description bodyhtml body productdescription longdescription "
        "shortdescription details beschreibung omschrijving descripcion"
    ),
    Field.PRICE: (
        "price variantprice regularprice unitprice priceunit listprice retailprice "
        "preis einzelpreis stuckpreis prijs prijsperstuk stukprijs prix prixunitaire "
        "precio preciounitario saleprice"
    ),
    Field.CURRENCY: "currency currencycode wahrung valuta devise moneda",
    Field.QUANTITY: "quantity qty menge anzahl aantal quantite cantidad",
    Field.GTIN: "gtin barcode variantbarcode ean upc ean13 gtin13 gtin14 gtin12 gtin8 isbn",
    Field.BRAND: "brand brands vendor manufacturer marke merk marque marca",
    Field.IMAGE_URL: (
        "imagesrc imagelink imageurl image images mainimage picture photo variantimage"
    ),
    Field.URL: "link url producturl productlink externalurl permalink",
    Field.CATEGORY: (
        "category categories productcategory googleproductcategory "
        "googleshoppinggoogleproductcategory producttype"
    ),
}
SYNONYMS: dict[Field, tuple[str, ...]] = {
    field: tuple(names.split()) for field, names in _SYNONYMS_IN_ORDER.items()
}
_SHOPIFY_HANDLE = "handle"


def normalise(header: str) -> str:
    """Fold case, accents, spaces and punctuation: "Body (HTML)" -> "bodyhtml"."""
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    return "".join(char for char in decomposed if char.isalnum() and char.isascii())


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Field -> column index, the Shopify handle column, and the attribute columns."""

    fields: dict[Field, int]
    handle: int | None
    attributes: tuple[tuple[int, str], ...]

    @classmethod
    def from_header(cls, header: Sequence[str]) -> "ColumnMap":
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            positions.setdefault(normalise(name), index)
        fields: dict[Field, int] = {}
        for field, synonyms in SYNONYMS.items():
            taken = set(fields.values())
            for synonym in synonyms:
                if synonym in positions and positions[synonym] not in taken:
                    fields[field] = positions[synonym]
                    break
        if Field.TITLE not in fields and Field.DESCRIPTION in fields:
            # Invoices and ERP lists name the item in a "Description" column.
            fields[Field.TITLE] = fields.pop(Field.DESCRIPTION)
        used = set(fields.values())
        attributes = tuple(
            (index, name.strip() or f"Column {index + 1}")
            for index, name in enumerate(header)
            if index not in used
        )
        return cls(fields=fields, handle=positions.get(_SHOPIFY_HANDLE), attributes=attributes)

    @property
    def is_product_table(self) -> bool:
        """A table is about products when it names them."""
        return Field.TITLE in self.fields

    @property
    def is_line_item_table(self) -> bool:
        """What an invoice table needs: a name and a quantity or a unit price."""
        return self.is_product_table and (
            Field.PRICE in self.fields or Field.QUANTITY in self.fields
        )
