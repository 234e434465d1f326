"""What an uploaded document is: its kind, judged from its content, and the error that says
why a whole file cannot be read.

Standard library only, so that the gateway can refuse a PNG named products.csv at
upload time without installing the parsers (PyMuPDF, calamine) that the ingestion
worker reads documents with; the worker sniffs with the same code, so both agree.
"""

from jobs_shared.documents.errors import DocumentError
from jobs_shared.documents.sniff import Kind, sniff

__all__ = ["DocumentError", "Kind", "sniff"]
