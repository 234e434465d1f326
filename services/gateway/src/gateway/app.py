"""The gateway application: the public REST API of MerchantOps Jobs (PRODUCT.md §3) and the
web UI.

Routes live under `/api/v1` behind JWT auth (the live-updates WebSocket `/api/v1/ws`
authenticates by itself, to refuse with a close code); `/healthz`, `/readyz` and the
OpenAPI document (`/schema/openapi.json`) sit outside it, unauthenticated. The web UI's pages,
login and static files (`gateway.ui`) check the `jobs_token` cookie themselves.
"""

from faststream.rabbit import RabbitBroker
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from gateway.auth import TOKEN_COOKIE, JwtAuthenticationMiddleware, require_jwt_secret
from gateway.dependencies import DEPENDENCIES
from gateway.domain.documents.controllers import documents_router
from gateway.domain.jobs.controllers import JobController
from gateway.domain.live.controllers import live_updates_route
from gateway.domain.live.hub import Hub
from gateway.domain.products.controllers import ProductController
from gateway.domain.queue.controllers import QueueController
from gateway.domain.stats.controllers import StatsController
from gateway.domain.system.controllers import SystemController
from gateway.errors import EXCEPTION_HANDLERS
from gateway.lifespan import lifespan
from gateway.ui.controllers import ui_router
from jobs_shared.blobs import BlobStore
from jobs_shared.settings import Settings
from jobs_shared.store import CatalogStore, JobStore

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings,
    store: JobStore | None = None,
    broker: RabbitBroker | None = None,
    blobs: BlobStore | None = None,
    catalog: CatalogStore | None = None,
) -> Litestar:
    """The app; a `store`, `broker`, `blobs` or `catalog` passed in is used as is (opened and
    connected by the caller), one not passed is built from `settings` when the app starts.
    Live updates are fed from the broker the app builds; a caller handing in its own feeds
    `app.state.hub` itself if it needs them (`gateway.domain.live.feed.UpdatesFeed`)."""
    secret = require_jwt_secret(settings)
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            JobController,
            documents_router(settings.upload_max_bytes),
            ProductController,
            QueueController,
            StatsController,
            live_updates_route(secret),
        ],
        middleware=[DefineMiddleware(JwtAuthenticationMiddleware, secret=secret)],
        security=[{"bearer": []}, {"cookie": []}],
    )
    return Litestar(
        route_handlers=[SystemController, api, ui_router(secret)],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan(settings)],
        logging_config=None,  # the process configures logging (see __main__), not the app
        state=State(
            {
                "store": store,
                "broker": broker,
                "blobs": blobs,
                "catalog": catalog,
                "hub": Hub(),
                "upload_max_bytes": settings.upload_max_bytes,
            }
        ),
        openapi_config=OpenAPIConfig(
            title="MerchantOps Jobs",
            version="1.0.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "cookie": SecurityScheme(
                        type="apiKey", name=TOKEN_COOKIE, security_scheme_in="cookie"
                    ),
                }
            ),
        ),
    )
