"""The catalog's two views of a product: what a writer supplies, and what the API returns."""

from jobs_shared.store import Product, ProductData


def test_the_api_model_has_the_writers_fields_and_the_stores_identity_and_times() -> None:
    """`Product` lists the fields again (with defaults and API descriptions), so a field
    added to one and not the other must fail here."""
    identity_and_times = {"id", "tenant", "created_at", "updated_at"}

    assert set(Product.model_fields) == ProductData.__required_keys__ | identity_and_times
