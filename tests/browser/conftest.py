"""Browser tests: the web UI in Debian's Chromium, driven by Playwright, over the real stack.

The stack and the browser live as long as this package's tests: the stack's tracker and
workers must not go on consuming the session's vhost while other suites run.

The browser is the system's `/usr/bin/chromium` (`apt-get install chromium`; Playwright's
own browser download is never used), headless, with a fresh profile directory. It signs
in once through `/login?token=...`; each test gets a new page of that signed-in context
and fails if the page logged a JavaScript error. Every wait is bounded (`WAIT_MS`).

Screenshots go to `test-artifacts/screenshots/` (git-ignored); the run prints the folder.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, ViewportSize, async_playwright, expect

from tests.browser.stack import BrowserStack, running_browser_stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
WAIT_MS = 15_000

_saved: list[Path] = []


async def screenshot(page: Page, name: str) -> None:
    """Save the whole page as `<name>.png` in the screenshots folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    _saved.append(path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _saved:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(_saved)} screenshots in {SCREENSHOTS}")


@pytest.fixture(scope="package")
async def stack(
    amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BrowserStack]:
    async with running_browser_stack(amqp_url, tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="package")
async def signed_in(
    stack: BrowserStack, chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BrowserContext]:
    """A browser context signed in as alice of tenant acme."""
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
            locale="en-US",
        )
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await page.goto(stack.login_url())
        await expect(page).to_have_url(f"{stack.base_url}/jobs")
        await page.close()
        try:
            yield context
        finally:
            await context.close()


EXPECTED_CONSOLE_ERRORS = ("Failed to load resource", "WebSocket connection to")
"""What Chromium itself logs for a 404 the page handles (a job not found) and for a
refused WebSocket connection the page retries (the gateway restarting)."""


@pytest.fixture
async def page(signed_in: BrowserContext) -> AsyncIterator[Page]:
    """A new page of the signed-in browser; the test fails if the page logs a JS error."""
    page = await signed_in.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith(EXPECTED_CONSOLE_ERRORS)
            else None
        ),
    )
    try:
        yield page
    finally:
        await page.close()
    assert not errors, f"the page logged errors: {errors}"
