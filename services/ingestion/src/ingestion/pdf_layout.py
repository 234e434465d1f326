"""Invoice tables drawn without ruling lines, rebuilt from where the words sit.

find_tables() needs lines or very regular text to see a table; the invoices
merchants forward (Odoo, Coolblue...) have neither, and its text strategy cuts
words in half there ("Wif i16"). So this anchors on the one thing such
invoices always have: a header line naming the item and its quantity or unit
price. Words become phrases (words closer than half a line height), each phrase
goes to the header column it overlaps most, and a line is an item when it has a
name and a number under Quantity or Price. A name-only line directly under an
item, closer than half a line height and starting at the same x, is the item's
name wrapping; any other such line is a note or a section title and is skipped.
The table ends at a gap of three line heights.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pymupdf

from ingestion.amounts import AmountError, parse_price, parse_quantity
from ingestion.columns import ColumnMap, Field

_SAME_LINE = 0.4
_WORD_GAP = 0.5
_WRAP_GAP = 0.5
_WRAP_ALIGN = 0.5
_TABLE_GAP = 3.0

_Word = tuple[Any, ...]
"""x0, y0, x1, y1, text, block, line, word: one entry of page.get_text("words")."""


@dataclass(frozen=True, slots=True)
class _Phrase:
    x0: float
    x1: float
    y0: float
    y1: float
    text: str


@dataclass(frozen=True, slots=True)
class _Line:
    phrases: list[_Phrase]

    @property
    def y0(self) -> float:
        return min(phrase.y0 for phrase in self.phrases)

    @property
    def y1(self) -> float:
        return max(phrase.y1 for phrase in self.phrases)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def layout_tables(page: pymupdf.Page) -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) of each line-item table on the page, top to bottom."""
    lines = _lines(page.get_text("words"))  # type: ignore[no-untyped-call]
    tables = []
    index = 0
    while index < len(lines):
        header = lines[index]
        names = [phrase.text for phrase in header.phrases]
        columns = ColumnMap.from_header(names)
        index += 1
        if not columns.is_line_item_table:
            continue
        body: list[_Line] = []
        while index < len(lines) and not _ends_table(body[-1] if body else header, lines[index]):
            body.append(lines[index])
            index += 1
        tables.append((names, _rows(header, columns, body)))
    return tables


def _lines(words: Sequence[_Word]) -> list[_Line]:
    """Words grouped into visual lines by their vertical centre, then into phrases."""
    rows: list[list[_Word]] = []
    for word in sorted(words, key=lambda word: ((word[1] + word[3]) / 2, word[0])):
        if rows:
            first = rows[-1][0]
            if abs((word[1] + word[3]) - (first[1] + first[3])) / 2 <= _SAME_LINE * (
                first[3] - first[1]
            ):
                rows[-1].append(word)
                continue
        rows.append([word])
    return [_Line(_phrases(sorted(row, key=lambda word: word[0]))) for row in rows]


def _phrases(words: Sequence[_Word]) -> list[_Phrase]:
    phrases: list[_Phrase] = []
    for x0, y0, x1, y1, text, *_ in words:
        last = phrases[-1] if phrases else None
        if last is not None and x0 - last.x1 < _WORD_GAP * (y1 - y0):
            phrases[-1] = _Phrase(
                last.x0, x1, min(last.y0, y0), max(last.y1, y1), f"{last.text} {text}"
            )
        else:
            phrases.append(_Phrase(x0, x1, y0, y1, text))
    return phrases


def _ends_table(previous: _Line, line: _Line) -> bool:
    """A gap of three line heights, or the header of the next table."""
    if line.y0 - previous.y1 > _TABLE_GAP * previous.height:
        return True
    return ColumnMap.from_header([phrase.text for phrase in line.phrases]).is_line_item_table


def _rows(header: _Line, columns: ColumnMap, body: list[_Line]) -> list[list[str]]:
    title = columns.fields[Field.TITLE]
    numeric = [
        columns.fields[field] for field in (Field.PRICE, Field.QUANTITY) if field in columns.fields
    ]
    rows: list[list[str]] = []
    title_x0 = 0.0
    previous: _Line | None = None
    for line in body:
        cells: list[list[_Phrase]] = [[] for _ in header.phrases]
        for phrase in line.phrases:
            cells[_column(header, phrase)].append(phrase)
        texts = [" ".join(phrase.text for phrase in cell) for cell in cells]
        if texts[title] and any(_is_amount(texts[index]) for index in numeric):
            rows.append(texts)
            title_x0 = cells[title][0].x0
            previous = line
        elif previous is not None and _wraps(previous, line, cells, title, title_x0):
            rows[-1][title] += "\n" + texts[title]
            previous = line
        else:
            previous = None
    return rows


def _column(header: _Line, phrase: _Phrase) -> int:
    """The header column the phrase overlaps most, or else the nearest one."""
    return max(
        range(len(header.phrases)),
        key=lambda index: (
            min(header.phrases[index].x1, phrase.x1) - max(header.phrases[index].x0, phrase.x0)
        ),
    )


def _wraps(
    previous: _Line, line: _Line, cells: list[list[_Phrase]], title: int, title_x0: float
) -> bool:
    return (
        all(not cell for index, cell in enumerate(cells) if index != title)
        and bool(cells[title])
        and line.y0 - previous.y1 < _WRAP_GAP * previous.height
        and abs(cells[title][0].x0 - title_x0) <= _WRAP_ALIGN
    )


def _is_amount(text: str) -> bool:
    for parse in (parse_price, parse_quantity):
        try:
            parse(text)
        except AmountError:
            continue
        return True
    return False
