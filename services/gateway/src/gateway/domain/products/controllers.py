"""`/products`: the tenant's catalog, newest first, filterable; one product by id."""

from http import HTTPStatus
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from gateway.dependencies import Caller, Catalog
from gateway.domain.products.schemas import ProductPage
from gateway.domain.products.services import ProductService
from gateway.errors import documented_errors
from gateway.params import decode_product_cursor
from jobs_shared.store import Product, ProductQuery

LIST_ERRORS = documented_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
PRODUCT_ERRORS = {**LIST_ERRORS, **documented_errors(HTTPStatus.NOT_FOUND)}
Filter = Annotated[str | None, QueryParameter(min_length=1, max_length=512)]


class ProductController(Controller):
    path = "/products"
    tags = ("products",)

    @get("/", summary="List the catalog's products, newest first", responses=LIST_ERRORS)
    async def list_products(
        self,
        catalog: Catalog,
        principal: Caller,
        q: Annotated[
            str | None,
            QueryParameter(
                min_length=1, max_length=200, description="Part of the title or SKU, any case."
            ),
        ] = None,
        brand: Filter = None,
        category: Filter = None,
        job: Annotated[
            str | None, QueryParameter(description="The job that last wrote the product.")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size.")] = 50,
        cursor: Annotated[
            str | None, QueryParameter(description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> ProductPage:
        query = ProductQuery(text=q, brand=brand, category=category, source_job=job)
        after = decode_product_cursor(cursor) if cursor else None
        return await ProductService(catalog, principal.tenant).list_products(query, limit, after)

    @get("/{product_id:str}", summary="One product", responses=PRODUCT_ERRORS)
    async def get_product(
        self, catalog: Catalog, principal: Caller, product_id: FromPath[str]
    ) -> Product:
        return await ProductService(catalog, principal.tenant).get(product_id)
