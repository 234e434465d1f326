"""Liveness and readiness over HTTP, for the stack runner and orchestrators.

`/healthz` answers while the process serves at all. `/readyz` answers 200 only when the
broker connection is up and the store answers a ping, so a tracker that lost either is
taken out of rotation (and its dependants wait) instead of silently not folding. A hot
standby (the inbox is single-active-consumer) is ready too: it takes over the moment
the active tracker goes away.
"""

import asyncio

from faststream.asgi import AsgiResponse, get
from faststream.asgi.handlers import GetHandler
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from faststream.rabbit import RabbitBroker

from jobs_shared.store import JobStore

PING_TIMEOUT_SECONDS = 2.0


def health_routes(broker: RabbitBroker, store: JobStore) -> list[tuple[str, GetHandler]]:
    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        return JSONResponse({"status": "alive"})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        problems: list[str] = []
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
