"""The web UI's server side: pages need the cookie, login sets it safely, logout clears it.

What the pages do in a browser is in `tests/browser/`; these are the HTTP rules behind
them, fast, over the app in process.
"""

from datetime import timedelta

import pytest

from jobs_shared.contracts import utc_now
from jobs_shared.store import JobStore
from tests.support.gateway import gateway_client, token


async def test_a_page_without_a_valid_cookie_goes_to_the_login_page(
    sqlite_store: JobStore,
) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        page = await client.get("/jobs/abc", params={"status": "failed"})
        client.cookies.set("jobs_token", "forged")
        forged = await client.get("/history")

    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fjobs%2Fabc%3Fstatus%3Dfailed"
    assert forged.headers["location"] == "/login?next=%2Fhistory"


async def test_the_login_link_sets_a_safe_cookie_that_lives_as_long_as_the_token(
    sqlite_store: JobStore,
) -> None:
    expires = utc_now() + timedelta(hours=2)
    async with gateway_client(sqlite_store, tenant=None) as client:
        login = await client.get(
            "/login", params={"token": token(exp=expires), "next": "/jobs?type=crawl"}
        )
        page = await client.get("/jobs")

    assert (login.status_code, login.headers["location"]) == (303, "/jobs?type=crawl")
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("jobs_token=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 2 * 3600 - 60 < max_age <= 2 * 3600
    assert page.status_code == 200
    assert "alice@acme.test" in page.text
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'self';")  # so no inline script or style either
    assert "frame-ancestors 'none'" in policy


async def test_the_cookie_is_secure_over_https(sqlite_store: JobStore) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        login = await client.get("https://gateway.test/login", params={"token": token()})
    assert "Secure" in login.headers["set-cookie"]


@pytest.mark.parametrize(
    "destination", ["//evil.example/", "/\\evil.example", "https://evil.example", "/login"]
)
async def test_login_never_redirects_off_the_site(sqlite_store: JobStore, destination: str) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        login = await client.get("/login", params={"token": token(), "next": destination})
    assert login.headers["location"] == "/jobs"


async def test_a_bad_token_shows_the_login_page_again_and_sets_nothing(
    sqlite_store: JobStore,
) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        expired = await client.get(
            "/login", params={"token": token(exp=utc_now() - timedelta(minutes=1))}
        )
        empty = await client.post("/login", data={"token": " ", "next": "/history"})

    assert expired.status_code == 401
    assert "This token is invalid or has expired." in expired.text
    assert "set-cookie" not in expired.headers
    assert empty.status_code == 400
    assert 'name="next" value="/history"' in empty.text


async def test_a_pasted_token_signs_in_and_logout_signs_out(sqlite_store: JobStore) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        login = await client.post("/login", data={"token": token(), "next": "/history"})
        signed_in = await client.get("/history")
        logout = await client.post("/logout")
        after = await client.get("/history")

    assert (login.status_code, login.headers["location"]) == (303, "/history")
    assert signed_in.status_code == 200
    assert (logout.status_code, logout.headers["location"]) == (303, "/login")
    assert 'jobs_token=""' in logout.headers["set-cookie"]
    assert after.status_code == 303


async def test_static_files_are_public_and_revalidated_and_ui_routes_stay_out_of_the_api_schema(
    sqlite_store: JobStore,
) -> None:
    async with gateway_client(sqlite_store, tenant=None) as client:
        script = await client.get("/static/js/main.js")
        schema = await client.get("/schema/openapi.json")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    outside_api = {path for path in schema.json()["paths"] if not path.startswith("/api/")}
    assert outside_api == {"/healthz", "/readyz"}
