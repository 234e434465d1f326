"""The catalog read side, bound to one tenant: another tenant's product is a 404, like a
missing one, so ids cannot be probed across tenants."""

from litestar.exceptions import NotFoundException

from gateway.domain.products.schemas import ProductPage
from gateway.params import encode_product_cursor
from jobs_shared.store import CatalogStore, Product, ProductCursor, ProductQuery


class ProductService:
    def __init__(self, catalog: CatalogStore, tenant: str) -> None:
        self._catalog = catalog
        self._tenant = tenant

    async def get(self, product_id: str) -> Product:
        product = await self._catalog.get_product(self._tenant, product_id)
        if product is None:
            raise NotFoundException(f"No product {product_id!r}.")
        return product

    async def list_products(
        self, query: ProductQuery, limit: int, after: ProductCursor | None
    ) -> ProductPage:
        # One row more than asked tells whether another page exists.
        products = await self._catalog.list_products(self._tenant, query, limit + 1, after)
        page, more = products[:limit], len(products) > limit
        last = page[-1] if more else None
        return ProductPage(
            products=page,
            total=await self._catalog.count_products(self._tenant, query),
            next_cursor=encode_product_cursor(ProductCursor(last.created_at, last.id))
            if last
            else None,
        )
