"""The auth layer on its own: where a token may come from, per connection kind.

A browser's WebSocket may authenticate with the cookie (from the gateway's own origin
only) or `?token=`; plain HTTP never by query. The live-updates endpoint relies on it
(`tests/integration/test_gateway_ws.py` checks it over a real socket).
"""

from datetime import timedelta
from typing import Any

import pytest
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.types import Receive, Scope, Send
from pydantic import SecretStr

from gateway.auth import JwtAuthenticationMiddleware, Principal, mint_token, require_jwt_secret
from jobs_shared.settings import Settings
from tests.support.gateway import SECRET


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    """Never called: only `authenticate_request` is exercised."""


MIDDLEWARE = JwtAuthenticationMiddleware(_app, secret=SECRET)


def _token(tenant: str) -> str:
    return mint_token(
        SECRET, sub="u1", tenant=tenant, email="u1@x.test", roles=[], ttl=timedelta(minutes=5)
    )


def _connection(kind: str, query: str = "", headers: dict[str, str] | None = None) -> Any:
    scope = {
        "type": kind,
        "path": "/api/v1/ws",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    return ASGIConnection(scope)  # type: ignore[arg-type]


async def _tenant_of(connection: Any) -> str:
    result = await MIDDLEWARE.authenticate_request(connection)
    principal: Principal = result.user
    return principal.tenant


async def test_a_websocket_may_authenticate_with_a_query_token() -> None:
    assert await _tenant_of(_connection("websocket", query=f"token={_token('acme')}")) == "acme"


async def test_a_websocket_may_authenticate_with_the_cookie() -> None:
    cookie = {"Cookie": f"jobs_token={_token('acme')}"}
    assert await _tenant_of(_connection("websocket", headers=cookie)) == "acme"


async def test_the_header_wins_over_the_cookie_and_the_cookie_over_the_query() -> None:
    headers = {
        "Authorization": f"Bearer {_token('header')}",
        "Cookie": f"jobs_token={_token('cookie')}",
    }
    query = f"token={_token('query')}"
    assert await _tenant_of(_connection("websocket", query, headers)) == "header"
    assert await _tenant_of(_connection("websocket", query, {"Cookie": headers["Cookie"]})) == (
        "cookie"
    )


async def test_a_websocket_cookie_counts_from_the_gateways_own_origin_only() -> None:
    cookie = f"jobs_token={_token('acme')}"
    own = {"Cookie": cookie, "Host": "jobs.example:8000", "Origin": "https://jobs.example:8000"}
    assert await _tenant_of(_connection("websocket", headers=own)) == "acme"
    elsewhere = {**own, "Origin": "https://evil.example"}
    with pytest.raises(NotAuthorizedException):
        await _tenant_of(_connection("websocket", headers=elsewhere))
    query = f"token={_token('query')}"
    assert await _tenant_of(_connection("websocket", query, elsewhere)) == "query"


async def test_plain_http_never_takes_a_query_token() -> None:
    with pytest.raises(NotAuthorizedException):
        await _tenant_of(_connection("http", query=f"token={_token('acme')}"))


async def test_a_bad_query_token_on_a_websocket_is_refused() -> None:
    forged = mint_token(
        "x" * 40, sub="u1", tenant="acme", email="", roles=[], ttl=timedelta(minutes=5)
    )
    with pytest.raises(NotAuthorizedException):
        await _tenant_of(_connection("websocket", query=f"token={forged}"))


@pytest.mark.parametrize("secret", [None, ""])
def test_no_secret_no_gateway(secret: str | None) -> None:
    settings = Settings(jwt_secret=SecretStr(secret) if secret is not None else None)
    with pytest.raises(RuntimeError, match="JOBS_JWT_SECRET is not set"):
        require_jwt_secret(settings)


def test_admin_role() -> None:
    assert Principal(sub="s", tenant="t", roles=frozenset({"jobs:admin"})).is_admin
    assert not Principal(sub="s", tenant="t", roles=frozenset({"jobs:viewer"})).is_admin
