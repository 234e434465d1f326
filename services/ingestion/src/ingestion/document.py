"""The single entry point: an uploaded file in, one result per product row out.

read_document() is a generator so that a worker can process a large catalog
row by row in bounded memory. A whole-file problem raises DocumentError, which
fails the job with one clear message. Most are found before the first row: the
file type, its encoding, its header, the archive checks. A few are only met
where they are: a broken line deep in a CSV file, or rows that all turn out
blank. Row problems are yielded as RowError, so the rest of the file still goes
through.
"""

import io
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from ingestion.columns import ColumnMap
from ingestion.csv_reader import read_csv
from ingestion.pdf_reader import read_pdf
from ingestion.products import ProductRowResult, build_products
from ingestion.tables import RawTable
from ingestion.xlsx_reader import read_xlsx
from jobs_shared.documents import DocumentError, Kind, sniff

_READERS: dict[Kind, Callable[[BinaryIO], Iterator[RawTable]]] = {
    Kind.CSV: read_csv,
    Kind.XLSX: read_xlsx,
    Kind.PDF: read_pdf,
}


def read_document(
    data: bytes | Path, filename_hint: str | None = None
) -> Generator[ProductRowResult, None, None]:
    """Each data row of the file as a ProductRow or a RowError, in file order.

    `filename_hint` only words messages: the content decides how the file is read.
    """
    if filename_hint is None and isinstance(data, Path):
        filename_hint = data.name
    with _open(data) as f:
        kind = sniff(f, filename_hint)
        headers: list[str] = []
        produced = False
        for table in _READERS[kind](f):
            columns = ColumnMap.from_header(table.header)
            if not columns.is_product_table:
                headers.append(_describe(table))
                continue
            for result in build_products(table, columns):
                produced = True
                yield result
        if not produced:
            raise DocumentError(_nothing_found(headers))


def _open(data: bytes | Path) -> AbstractContextManager[BinaryIO]:
    return data.open("rb") if isinstance(data, Path) else io.BytesIO(data)


def _describe(table: RawTable) -> str:
    names = ", ".join(name.strip() for name in table.header if name.strip())
    return f"sheet '{table.sheet}' ({names})" if table.sheet is not None else names


def _nothing_found(headers: list[str]) -> str:
    if not headers:
        return "The file has a header row but no product rows."
    return (
        "We found no column with the product name: name one Title, Name or Product name. "
        f"The file has: {'; '.join(headers)}."
    )
