"""Liveness and readiness over HTTP for any service built on a broker and the store.

`/healthz` answers while the process serves at all. `/readyz` answers 200 only when the
broker connection is up, the store answers a ping, and every service-specific check
passes (a worker that is draining is not ready), so orchestrators and the stack runner
take a service that lost a dependency out of rotation instead of it silently idling.
A tracker's hot standby (its inbox is single-active-consumer) is ready too: it takes
over the moment the active tracker goes away.
"""

import asyncio
from collections.abc import Callable

from faststream.asgi import AsgiResponse, get
from faststream.asgi.handlers import GetHandler
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from faststream.rabbit import RabbitBroker

from jobs_shared.store import JobStore

PING_TIMEOUT_SECONDS = 2.0

ReadinessCheck = Callable[[], str | None]
"""Returns a problem ("draining: ...") or None when all is well."""


def health_routes(
    broker: RabbitBroker, store: JobStore, *checks: ReadinessCheck
) -> list[tuple[str, GetHandler]]:
    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        return JSONResponse({"status": "alive"})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        problems = [problem for check in checks if (problem := check()) is not None]
        if not await broker.ping(timeout=PING_TIMEOUT_SECONDS):
            problems.append("broker: not connected")
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                await store.ping()
        except Exception as error:
            problems.append(f"store: {type(error).__name__}: {error}")
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    return [("/healthz", healthz), ("/readyz", readyz)]
