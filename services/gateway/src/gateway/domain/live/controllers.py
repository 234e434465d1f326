"""`/api/v1/ws`: the live-updates WebSocket (the protocol is in `protocol.py` and the
gateway's README).

The route is left out of the API's auth middleware and authenticates by itself, after
the handshake: a refused handshake reaches a browser's script as a bare 1006 with no
reason, while a socket accepted and at once closed with 4401 tells the client that its
token is the problem (and so to log in again rather than to retry). The same tokens are
accepted as everywhere else (`gateway.auth.authenticate`): the `jobs_token` cookie from
this origin, `?token=`, or an `Authorization` header from clients that can send one.
A token is checked once, at the handshake, so the socket is closed with 4401 when it
expires: a socket must not outlive the session it was opened in.
"""

import asyncio
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import WebsocketRouteHandler

from gateway.auth import authenticate
from gateway.dependencies import LiveHub, Store
from gateway.domain.jobs.services import JobService
from gateway.domain.live.session import Session

CLOSE_UNAUTHORIZED = 4401
"""No token, or one that is invalid or expired (4000 + HTTP 401)."""
TOKEN_EXPIRED = "The token expired: log in again."


def live_updates_route(secret: str) -> WebsocketRouteHandler:
    """The WebSocket route; `secret` verifies tokens as the API's middleware does."""

    @websocket("/ws", opt={"exclude_from_auth": True})
    async def live_updates(socket: WebSocket[Any, Any, Any], store: Store, hub: LiveHub) -> None:
        await socket.accept()
        try:
            principal = authenticate(socket, secret)
        except NotAuthorizedException as refused:
            await socket.close(code=CLOSE_UNAUTHORIZED, reason=refused.detail)
            return
        session = Session(socket, hub, JobService(store, principal.tenant), principal.tenant)
        try:
            async with asyncio.timeout(principal.seconds_left()):
                await session.run()
        except TimeoutError:
            await socket.close(code=CLOSE_UNAUTHORIZED, reason=TOKEN_EXPIRED)

    return live_updates
