"""The jobs list: rows arrive and move live, filters narrow it and live in the URL (reload,
back), the keyboard opens a job, and a phone-width screen never scrolls sideways."""

import re

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.helpers import start_enrichment
from tests.browser.stack import BrowserStack


def row(page: Page, job_id: str) -> Locator:
    return page.locator(f'.jobs-table tr[data-job-id="{job_id}"]')


async def test_new_jobs_appear_and_progress_in_the_list_without_a_reload(
    page: Page, stack: BrowserStack
) -> None:
    await page.goto(f"{stack.base_url}/jobs")
    await expect(page.locator("#live")).to_have_text("Live")
    await page.evaluate("() => { window.sameDocument = true; }")

    job_id = await stack.submit_sleepy(items=20, item_ms=100)
    status = row(page, job_id).locator("[data-status]")
    await expect(status).to_have_attribute("data-status", "in_progress")
    await expect(status).to_have_attribute("data-status", "completed")
    await expect(row(page, job_id).locator('td[data-label="Items"]')).to_have_text("20 / 20")
    await expect(page.locator(".jobs-table tbody tr").first).to_have_attribute(
        "data-job-id", job_id
    )
    assert await page.evaluate("() => window.sameDocument"), "the page was reloaded"
    await screenshot(page, "jobs-list")


async def test_filters_narrow_the_list_and_survive_a_reload(
    page: Page, stack: BrowserStack
) -> None:
    mine = (await start_enrichment(stack))["id"]
    bobs = (await start_enrichment(stack, email="bob@acme.test"))["id"]
    await page.goto(f"{stack.base_url}/jobs")
    await expect(row(page, mine)).to_be_visible()

    await page.get_by_label("Type").select_option("enrichment")
    await expect(page).to_have_url(re.compile(r"\?type=enrichment$"))
    await page.get_by_label("User").fill("bob@acme.test")
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"user=bob%40acme\.test"))
    await expect(row(page, bobs)).to_be_visible()
    await expect(row(page, mine)).to_have_count(0)
    assert set(await page.locator(".jobs-table .job-link").all_inner_texts()) == {"Enrichment"}

    await page.reload()
    await expect(page.get_by_label("Type")).to_have_value("enrichment")
    await expect(page.get_by_label("User")).to_have_value("bob@acme.test")
    await expect(row(page, bobs)).to_be_visible()
    await expect(row(page, mine)).to_have_count(0)

    await page.go_back()
    await expect(page.get_by_label("User")).to_have_value("")
    await expect(row(page, mine)).to_be_visible()

    tomorrow = await page.evaluate(
        """() => {
          const day = new Date(Date.now() + 86400000);
          const pad = (n) => String(n).padStart(2, "0");
          return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
        }"""
    )
    await page.get_by_label("From").fill(tomorrow)
    await expect(page).to_have_url(re.compile(f"from={tomorrow}"))
    await expect(page.get_by_text("No jobs match these filters.")).to_be_visible()
    await page.get_by_role("button", name="Clear filters").click()
    await expect(page).to_have_url(f"{stack.base_url}/jobs")
    await expect(row(page, bobs)).to_be_visible()


async def test_the_keyboard_reaches_a_job_and_enter_opens_it(
    page: Page, stack: BrowserStack
) -> None:
    await start_enrichment(stack)
    await page.goto(f"{stack.base_url}/jobs")
    await expect(page.locator(".jobs-table .job-link").first).to_be_visible()

    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.matches('a.job-link')"):
            break
    else:
        raise AssertionError("Tab never reached a job link")
    outline = await page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows no focus style"
    href = await page.evaluate("() => document.activeElement.getAttribute('href')")

    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{stack.base_url}{href}")
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_contain_text("Enrichment job")
    await expect(heading).to_be_focused()


async def test_a_phone_width_screen_never_scrolls_sideways(page: Page, stack: BrowserStack) -> None:
    job = await start_enrichment(stack)
    await page.set_viewport_size({"width": 375, "height": 812})
    for path, ready in [
        ("/jobs", ".jobs-table tbody tr"),
        (f"/jobs/{job['id']}", ".section-overview [data-status]"),
        ("/start", ".queue-table tbody tr"),
        ("/products", ".products-table"),
        ("/history", "figure svg"),
    ]:
        await page.goto(f"{stack.base_url}{path}")
        await expect(page.locator(ready).first).to_be_visible()
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"

    await page.goto(f"{stack.base_url}/jobs")
    await expect(page.locator(".jobs-table tbody tr").first).to_be_visible()
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="History")
    await expect(nav_link).to_be_hidden()
    await screenshot(page, "jobs-list-phone")
    await page.get_by_role("button", name="Menu").click()
    await expect(nav_link).to_be_visible()
    await nav_link.click()
    await expect(page).to_have_url(f"{stack.base_url}/history")
    await expect(nav_link).to_be_hidden()
