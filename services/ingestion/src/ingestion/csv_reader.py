"""Delimited text (CSV, TSV, semicolon or pipe separated), streamed with hard limits.

Catalog exports reach us from Excel in any locale, from shop platforms and from
hand-written scripts, so the delimiter is read off the header line and the
encoding is settled first (encoding.py). Memory stays bounded whatever the
file: a physical line, a record and the number of columns are all capped
(limits.py) before csv builds anything large, so a line of ten million commas
or a quote that is never closed ends in a message, not in a swapped machine.
csv's own field_size_limit stays as it is: it is process-wide, and the record
cap already bounds every field.
"""

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from ingestion.encoding import detect_encoding
from ingestion.limits import MAX_COLUMNS, MAX_LINE_CHARS, MAX_RECORD_CHARS
from ingestion.tables import RawRow, RawTable
from jobs_shared.documents import DocumentError

DELIMITERS = (",", ";", "\t", "|")


def read_csv(f: BinaryIO) -> Iterator[RawTable]:
    """The file's one table; DocumentError if it has no header row."""
    encoding = detect_encoding(f)
    f.seek(0)
    lines = _Lines(io.TextIOWrapper(f, encoding=encoding, newline=""))
    first = lines.first_non_blank()
    if first is None:
        raise DocumentError("The file is empty.")
    header_row = lines.line
    reader = csv.reader(lines.starting_with(first), delimiter=_delimiter(first))
    records = _records(reader, lines, header_row)
    first_record = next(records, None)
    if first_record is None:  # a non-blank line that csv reads as blank cells: a lone quote
        raise DocumentError("The file is empty.")
    _, header = first_record
    yield RawTable(header=header, rows=(RawRow(n, cells) for n, cells in records))


class _Lines:
    """Physical lines, each line and each record capped, counted as they go."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self._text = text
        self._pending: str | None = None
        self.line = 0
        self.record_chars = 0

    def first_non_blank(self) -> str | None:
        for line in self:
            if line.strip():
                return line
        return None

    def starting_with(self, line: str) -> "_Lines":
        """Hand `line` out again, this time to csv; it is its row 1 onwards."""
        self.line -= 1
        self._pending = line
        return self

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self._pending is not None:
            line, self._pending = self._pending, None
        else:
            line = self._text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.line += 1
        if len(line) > MAX_LINE_CHARS:
            raise DocumentError(_too_long(self.line, line))
        if "\x00" in line:
            raise DocumentError(
                f"Line {self.line:,} contains a NUL character, which text never holds: the "
                "file is damaged or is not a CSV file."
            )
        self.record_chars += len(line)
        if self.record_chars > MAX_RECORD_CHARS:
            raise DocumentError(
                f"A row reaching line {self.line:,} is longer than {MAX_RECORD_CHARS:,} "
                "characters: a quote mark is probably never closed."
            )
        return line


def _too_long(line_number: int, line: str) -> str:
    if max(line.count(delimiter) for delimiter in DELIMITERS) >= MAX_COLUMNS:
        return (
            f"Line {line_number:,} has more than {MAX_COLUMNS:,} columns, the limit. "
            "Check that the file is a product list and upload it again."
        )
    return (
        f"Line {line_number:,} is longer than {MAX_LINE_CHARS:,} characters, the limit "
        "for one line. Check that the file is a product list and upload it again."
    )


def _delimiter(line: str) -> str:
    """The candidate found most often outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _records(
    reader: Iterator[list[str]], lines: _Lines, first_row: int
) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with their row numbers, as a spreadsheet would number them."""
    number = first_row
    while True:
        lines.record_chars = 0
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise DocumentError(_invalid(exc, number, lines.line)) from exc
        if cells is None:
            return
        if len(cells) > MAX_COLUMNS:
            raise DocumentError(
                f"Row {number:,} has {len(cells):,} columns; the limit is {MAX_COLUMNS:,}."
            )
        if any(cell.strip() for cell in cells):
            yield number, cells
        number += 1


def _invalid(error: csv.Error, row: int, line: int) -> str:
    if "field limit" in str(error):  # csv's only word for a field over field_size_limit()
        return (
            f"Row {row:,} has a value longer than {csv.field_size_limit():,} characters, the "
            "limit: a quote mark is probably never closed."
        )
    return (
        f"Line {line:,} is not valid CSV ({error}). Check the quote marks on that line, or "
        "save the file again from your spreadsheet program."
    )
