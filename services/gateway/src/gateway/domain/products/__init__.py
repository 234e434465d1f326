"""Reading the catalog: the products that ingestion (and later crawls) wrote."""
