"""Who is calling: a user JWT (HS256, `JOBS_JWT_SECRET`), as PRODUCT.md §3 fixes.

The token is taken from `Authorization: Bearer`, else from the HttpOnly `jobs_token`
cookie the browser UI keeps, else, for WebSocket connections only, from `?token=`
(browsers cannot set headers on a WebSocket). A query token is refused on plain HTTP
because URLs end up in logs and browser history. On a WebSocket the cookie counts only
when the handshake comes from the gateway's own origin (or names none, as non-browser
clients do): browsers send cookies with cross-site WebSocket handshakes, and no CORS
check stops a page elsewhere from reading the socket (cross-site WebSocket hijacking).

The middleware sits on the `/api/v1` router only, so `/healthz`, `/readyz` and
`/schema` never ask for a token.
"""

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from jobs_shared.contracts import utc_now
from jobs_shared.settings import Settings

ALGORITHM = "HS256"
TOKEN_COOKIE = "jobs_token"
TOKEN_QUERY = "token"
ADMIN_ROLE = "jobs:admin"
_REQUIRED_CLAIMS = ["sub", "tenant"]


class Principal(BaseModel):
    """The caller, from the token's claims. `tenant` scopes everything the caller may see."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1)
    tenant: str = Field(min_length=1)
    email: str = ""
    roles: frozenset[str] = frozenset()
    exp: AwareDatetime | None = None
    """When the token stops being valid: a live connection ends then too."""

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def seconds_left(self) -> float | None:
        """Until the token expires (at most 0 once it has); None if it never does."""
        return None if self.exp is None else (self.exp - utc_now()).total_seconds()


class MissingJwtSecretError(RuntimeError):
    pass


def require_jwt_secret(settings: Settings) -> str:
    """The signing secret; the gateway must not start without one (it could verify nothing)."""
    if settings.jwt_secret is None or not settings.jwt_secret.get_secret_value():
        raise MissingJwtSecretError(
            "JOBS_JWT_SECRET is not set: the gateway needs it to verify user tokens. "
            "For local development, `jobs-stack` sets it from var/dev-jwt-secret, "
            "the secret `jobs-dev-token` signs with."
        )
    return settings.jwt_secret.get_secret_value()


def mint_token(
    secret: str, *, sub: str, tenant: str, email: str, roles: list[str], ttl: timedelta
) -> str:
    now = utc_now()
    claims: dict[str, Any] = {
        "sub": sub,
        "tenant": tenant,
        "email": email,
        "roles": roles,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> Principal:
    """The principal a valid token names; 401 for anything else (forged, expired, malformed).

    The algorithm is pinned, so `alg: none` or an RS/HS confusion cannot pass; `exp`
    (and `nbf`) are checked when present.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS}
        )
        return Principal.model_validate(claims)
    except (jwt.InvalidTokenError, ValidationError) as exc:
        raise _unauthorized("The token is invalid or expired.") from exc


def authenticate(connection: ASGIConnection[Any, Any, Any, Any], secret: str) -> Principal:
    """The caller of `connection`, from whichever token it carries; 401 if none is valid."""
    return decode_token(_token_of(connection), secret)


class JwtAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the caller's `Principal`, or answers 401."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        super().__init__(app)
        self.secret = secret

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = _token_of(connection)
        return AuthenticationResult(user=decode_token(token, self.secret), auth=token)


def _token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("The Authorization header must be `Bearer <token>`.")
        return token.strip()
    websocket = connection.scope["type"] == ScopeType.WEBSOCKET
    if (cookie := connection.cookies.get(TOKEN_COOKIE)) and (
        not websocket or _same_origin(connection)
    ):
        return str(cookie)
    if websocket and (query := connection.query_params.get(TOKEN_QUERY)):
        return str(query)
    raise _unauthorized("A token is required: send `Authorization: Bearer <token>`.")


def _same_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """No `Origin` (not a browser), or one naming the host the handshake was sent to."""
    origin = connection.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == connection.headers.get("host")


def _unauthorized(message: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=message, headers={"WWW-Authenticate": "Bearer"})
