"""The web UI's pages, login and logout.

- `/jobs`, `/jobs/{id}`, `/start`, `/products`, `/history`: the app shell
  (`templates/index.html`) for a visitor with a valid `jobs_token` cookie; anyone else is
  redirected to `/login?next=<that page>`. The browser routes between the pages itself
  (History API); the server only has to answer each of them with the shell. `/` goes to
  `/jobs`.
- `GET /login?token=...` (the link `jobs-dev-token` prints) and `POST /login` (the form
  where a token can be pasted): a valid token becomes the HttpOnly, SameSite=Lax cookie
  `jobs_token` (Secure over https), living as long as the token, and the browser goes on
  to `next` (a page of this site) or `/jobs`. An invalid token shows the form again with
  the reason (401). The redirect also takes the token out of the address bar.
- `POST /logout`: clears the cookie and shows the login page.
- `/static/...`: the CSS and ES modules, revalidated on every load (no build step, so no
  content-hashed file names that could be cached forever).

HTML pages are sent with a strict Content-Security-Policy: scripts and styles from this
origin only, nothing inline.
"""

from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, QueryParameter
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from gateway.auth import TOKEN_COOKIE, Principal, decode_token

UI_DIR = Path(__file__).parent
APP_PAGES = ["/jobs", "/jobs/{job_id:str}", "/start", "/products", "/history"]
HOME = "/jobs"
HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the login URL may carry a token
    "Cache-Control": "no-store",
}

AnyRequest = Request[Any, Any, Any]
Token = Annotated[str | None, QueryParameter(description="A user token to sign in with.")]
NextPage = Annotated[str | None, QueryParameter(name="next")]


@dataclass
class LoginForm:
    token: str = ""
    next: str = ""


def ui_router(secret: str) -> Router:
    """The UI's routes; `secret` verifies the cookie's token as the API does."""
    shell = Template((UI_DIR / "templates" / "index.html").read_text())
    login_page = Template((UI_DIR / "templates" / "login.html").read_text())

    def signed_in(request: AnyRequest) -> Principal | None:
        token = request.cookies.get(TOKEN_COOKIE)
        if not token:
            return None
        try:
            return decode_token(token, secret)
        except NotAuthorizedException:
            return None

    def login_form(destination: str, error: str = "", status_code: int = 200) -> Response[str]:
        alert = f'<p class="login-error" role="alert">{escape(error)}</p>' if error else ""
        page = login_page.substitute(error=alert, next=escape(destination))
        return _html(page, status_code)

    def sign_in(request: AnyRequest, token: str, destination: str) -> Response[Any]:
        try:
            principal = decode_token(token, secret)
        except NotAuthorizedException:
            return login_form(destination, "This token is invalid or has expired.", 401)
        left = principal.seconds_left()  # the cookie must not outlive the token
        response: Response[Any] = Redirect(destination, status_code=303)
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            max_age=None if left is None else max(0, int(left)),
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @get("/", include_in_schema=False)
    async def home() -> Redirect:
        return Redirect(HOME, status_code=303)

    @get(APP_PAGES, include_in_schema=False)
    async def app_page(request: AnyRequest) -> Response[Any]:
        principal = signed_in(request)
        if principal is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return Redirect(f"/login?next={quote(here, safe='')}", status_code=303)
        page = shell.substitute(
            email=escape(principal.email or principal.sub),
            viewer_email=escape(principal.email),
            viewer_admin="true" if principal.is_admin else "false",
        )
        return _html(page)

    @get("/login", include_in_schema=False)
    async def login(
        request: AnyRequest, token: Token = None, next_page: NextPage = None
    ) -> Response[Any]:
        destination = _local(next_page)
        if token:
            return sign_in(request, token, destination)
        if signed_in(request) is not None:
            return Redirect(destination, status_code=303)
        return login_form(destination)

    @post("/login", include_in_schema=False, status_code=303)
    async def login_submit(
        request: AnyRequest,
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        destination = _local(data.next)
        if not data.token.strip():
            return login_form(destination, "Paste a token to sign in.", 400)
        return sign_in(request, data.token.strip(), destination)

    @post("/logout", include_in_schema=False, status_code=303)
    async def logout() -> Redirect:
        response = Redirect("/login", status_code=303)
        response.delete_cookie(TOKEN_COOKIE, path="/")
        return response

    static = create_static_files_router(
        path="/static",
        directories=[UI_DIR / "static"],
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    )
    return Router(
        path="/",
        route_handlers=[home, app_page, login, login_submit, logout, static],
    )


def _html(page: str, status_code: int = 200) -> Response[str]:
    return Response(page, media_type=MediaType.HTML, status_code=status_code, headers=HTML_HEADERS)


def _local(destination: str | None) -> str:
    """`destination` if it is a path on this site, else the home page: never an open redirect
    (`//evil.example` and `/\\evil.example` are other sites to a browser)."""
    if not destination or not destination.startswith("/"):
        return HOME
    if destination.startswith(("//", "/\\", "/login")):
        return HOME
    return destination
