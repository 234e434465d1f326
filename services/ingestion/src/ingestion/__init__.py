"""The `document_ingestion` worker and its parsing core: CSV, XLSX and PDF files in, products out.

The parser (exported here) is pure, with no broker or store code, so that it can be
tested on real files alone; the worker (`ingestion.worker`, run by `python -m
ingestion`) feeds it uploads and writes what it finds to the catalog.
"""

from ingestion.document import read_document
from ingestion.products import ProductRow, ProductRowResult, RowError
from jobs_shared.documents import DocumentError

__all__ = ["DocumentError", "ProductRow", "ProductRowResult", "RowError", "read_document"]
