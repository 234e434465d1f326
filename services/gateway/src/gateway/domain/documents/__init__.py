"""Uploading a document (CSV, XLSX, PDF): the start of a `document_ingestion` job."""
