"""Helpers for live-update tests: a real gateway under uvicorn, and a real WebSocket client.

`serving_gateway` runs the gateway app as production does (uvicorn, its own lifespan
building the store, broker and live feed from settings) on a free port of this process's
event loop; `LiveClient` speaks the `/api/v1/ws` protocol with the `websockets` library.
Every wait is bounded.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect

from gateway.app import create_app
from tests.support.gateway import settings, token
from tests.support.processes import free_port
from tests.support.tracker import wait_until

MESSAGE_SECONDS = 10.0
"""How long a test waits for one expected message."""

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Gateway:
    app: Litestar
    port: int
    server: uvicorn.Server

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, query_token: str | None = None) -> str:
        url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        return url if query_token is None else f"{url}?token={query_token}"

    @property
    def state(self) -> Any:
        """The app's state: its hub and live feed, for tests that look inside."""
        return self.app.state


@asynccontextmanager
async def serving_gateway(amqp_url: str, store_url: str, root: Path) -> AsyncIterator[Gateway]:
    """A gateway on a free port, its store and broker built from settings, ready once its
    live feed consumes (so no update published afterwards can be missed)."""
    app = create_app(settings(amqp_url=amqp_url, store_url=store_url, blob_dir=root / "blobs"))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())

    def consuming() -> bool:
        if serving.done():
            serving.result()
            raise AssertionError("the gateway stopped while starting")
        feed = app.state.get("feed")
        return server.started and feed is not None and feed.consuming

    try:
        await wait_until(consuming, "the gateway serves and its live feed consumes")
        yield Gateway(app, port, server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=15)


@dataclass
class LiveClient:
    """One WebSocket connection, reading in the background into `received`."""

    connection: ClientConnection
    received: list[Message] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, gateway: Gateway, tenant: str = "acme", **options: Any
    ) -> AsyncIterator["LiveClient"]:
        """A client with a `?token=` of `tenant`; `options` go to `websockets.connect`."""
        url = gateway.ws_url(token(tenant=tenant))
        async with connect(url, open_timeout=10, **options) as connection:
            client = cls(connection)
            reading = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                reading.cancel()

    async def _read(self) -> None:
        async for raw in self.connection:
            self.received.append(json.loads(raw))

    async def send(self, **message: Any) -> None:
        await self.connection.send(json.dumps(message))

    async def wait_for(
        self, what: str, condition: Callable[[Message], bool], within: float = MESSAGE_SECONDS
    ) -> Message:
        """The first message received (ever, not only from now on) that meets `condition`."""
        found: list[Message] = []

        def seen() -> bool:
            found[:] = [m for m in self.received if condition(m)][:1]
            return bool(found)

        await wait_until(seen, what, within)
        return found[0]

    async def answer(self, ref: str) -> Message:
        """The first message answering the request named `ref`."""
        return await self.wait_for(f"the answer to {ref}", lambda m: m.get("ref") == ref)

    async def subscribe(self, ref: str, **target: Any) -> Message:
        """Subscribe and return the snapshot (fails the test on an error instead)."""
        await self.send(op="subscribe", ref=ref, **target)
        answer = await self.answer(ref)
        assert answer["op"] == "snapshot", answer
        return answer

    def updates(self, subscription: str) -> list[Message]:
        return [
            m for m in self.received if m["op"] == "update" and m["subscription"] == subscription
        ]
