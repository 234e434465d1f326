"""Prices and quantities as merchants write them: "$1,299.00", "1.299,00 €", "15.00 USD".

price-parser settles the hard part, which of "," and "." is the decimal mark.
It is lenient on purpose ("12 pieces" gives 12, "-5" gives 5), which is right
for scraping and wrong for a catalog, so whatever is left once the amount and
the currency are taken out must be empty (a price) or a unit (a quantity), and
a minus sign is refused instead of dropped. "$" and "¥" stay without a
currency code: they name several currencies, and a wrong code is worse than none.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price
from price_parser._currencies import CURRENCY_CODES  # its ISO 4217 list; no public name

_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₩": "KRW",
    "₪": "ILS",
    "zł": "PLN",
    "kč": "CZK",
    "us$": "USD",
    "c$": "CAD",
    "ca$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "r$": "BRL",
}
_CODES = frozenset(CURRENCY_CODES)
_UNIT = re.compile(r"[^\W\d][\w.]*")


class AmountError(ValueError):
    """Why a value is not an amount, finishing the sentence "price '...' ..."."""


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    currency: str | None
    unit: str | None


def parse_price(raw: str) -> Amount:
    amount = _parse(raw)
    if amount.unit is not None:
        raise AmountError("is not a number")
    return amount


def parse_quantity(raw: str) -> Amount:
    amount = _parse(raw)
    if amount.currency is not None:
        raise AmountError("is not a number")
    return amount


def currency_code(raw: str) -> str | None:
    """ISO 4217 code for a code or an unambiguous symbol; None when it is neither."""
    text = raw.strip()
    if text.upper() in _CODES:
        return text.upper()
    return _SYMBOLS.get(text.casefold())


def _parse(raw: str) -> Amount:
    text = raw.strip()
    parsed = Price.fromstring(text)
    if parsed.amount is None or parsed.amount_text is None:
        raise AmountError("is not a number")
    rest = text.replace(parsed.amount_text, " ", 1)
    currency = None
    if parsed.currency is not None:
        rest = rest.replace(parsed.currency, " ", 1)
        currency = currency_code(parsed.currency)
    rest = rest.strip()
    if rest.startswith("-") or rest.endswith("-"):
        raise AmountError("is negative")
    if currency is None and rest and (code := currency_code(rest)) is not None:
        return Amount(parsed.amount, code, None)
    if rest and not _UNIT.fullmatch(rest):
        raise AmountError("is not a number")
    return Amount(parsed.amount, currency, rest or None)
