"""GTIN checks (EAN, UPC, ISBN-13), and the barcodes Excel has already ruined.

Excel shows a long number in scientific notation and writes it that way when
the sheet is saved as CSV: "3.65275E+11" keeps 6 of a 12-digit barcode's digits
and the rest are gone. Such a value becomes digits again only when the notation
still holds every digit ("4.006381333931E+12"); whatever comes out must have a
GTIN length and check digit, because a wrong barcode on a listing is worse than
none. A rejected value never rejects the row: the row keeps no GTIN and carries
a warning that says how to fix the export.
"""

import re

_SCIENTIFIC = re.compile(r"(\d)(?:[.,](\d+))?[eE]\+?(\d+)")
_SEPARATORS = re.compile(r"[\s-]")
_LENGTHS = (8, 12, 13, 14)


def normalise_gtin(raw: str) -> tuple[str | None, str | None]:
    """(digits, None) for a valid GTIN, else (None, what is wrong with it)."""
    text = raw.strip()
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific is None:
        digits = _SEPARATORS.sub("", text)
    else:
        fraction = scientific[2] or ""
        if len(fraction) < int(scientific[3]):
            return None, (
                f"barcode '{text}' was cut short by Excel (scientific notation), so its "
                "last digits are lost; format the barcode column as text before exporting"
            )
        digits = scientific[1] + fraction
    if not digits.isdigit() or len(digits) not in _LENGTHS:
        return None, f"barcode '{text}' is not a GTIN (8, 12, 13 or 14 digits)"
    if not _check_digit_ok(digits):
        return None, f"barcode '{text}' has a wrong check digit"
    return digits, None


def _check_digit_ok(digits: str) -> bool:
    body = [int(digit) for digit in reversed(digits[:-1])]
    total = sum(digit * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body))
    return (10 - total % 10) % 10 == int(digits[-1])
