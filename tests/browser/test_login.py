"""Signing in and out: the cookie is HttpOnly and SameSite=Lax, pages need it, and a token
pasted into the login page signs in and returns to the page asked for."""

from playwright.async_api import Page, expect

from tests.browser.stack import BrowserStack
from tests.support.gateway import token


async def test_signing_out_then_in_with_a_pasted_token(page: Page, stack: BrowserStack) -> None:
    [cookie] = await page.context.cookies(stack.base_url)
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("jobs_token", True, "Lax")
    await page.goto(f"{stack.base_url}/history")
    assert await page.evaluate("() => document.cookie") == "", "scripts can read the token"
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(f"{stack.base_url}/login")
    await page.goto(f"{stack.base_url}/jobs?status=failed")
    await expect(page).to_have_url(f"{stack.base_url}/login?next=%2Fjobs%3Fstatus%3Dfailed")

    await page.get_by_label("Access token").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("This token is invalid or has expired.")
    await page.get_by_label("Access token").fill(token())
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{stack.base_url}/jobs?status=failed")
    await expect(page.get_by_label("Status")).to_have_value("failed")
