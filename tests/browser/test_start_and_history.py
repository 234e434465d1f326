"""Starting work beside the queue panel, and the history charts with their period picker."""

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.helpers import finished, products_csv, upload
from tests.browser.stack import BrowserStack


async def test_an_enrichment_started_here_shows_up_with_the_queue(
    page: Page, stack: BrowserStack
) -> None:
    await page.goto(f"{stack.base_url}/start")
    pending = page.locator('.queue-table tr[data-type="enrichment"] [data-field="pending"]')
    await expect(pending).to_have_text(re.compile(r"^\d+$"))
    before = int(await pending.inner_text())

    await page.get_by_label("Product IDs").fill("p-1, p-2\np-3")
    await page.get_by_role("button", name="Start enrichment").click()
    started = page.locator(".started-job").first
    await expect(started).to_contain_text("Enrichment job")
    await expect(started.locator("[data-status]")).to_have_attribute("data-status", "pending")
    await expect(pending).to_have_text(str(before + 1))  # no enrichment worker runs here

    job_id = (await started.get_by_role("link").get_attribute("href") or "").split("/")[-1]
    async with stack.client() as client:
        job = (await client.get(f"/jobs/{job_id}")).json()
    assert job["params"] == {"product_ids": ["p-1", "p-2", "p-3"]}
    await screenshot(page, "start-a-job")


async def test_history_charts_follow_the_period_picker(page: Page, stack: BrowserStack) -> None:
    async with stack.client() as client:
        done = await upload(client, "history.csv", products_csv(4, bad_rows=frozenset({4})))
        await finished(client, done["id"])
    await page.goto(f"{stack.base_url}/history")
    await expect(page.get_by_label("Last 30 days")).to_be_checked()
    await expect(page.locator("figure.chart-figure")).to_have_count(4)
    await expect(page.locator("figure rect").first).to_be_visible()

    await page.get_by_label("Last 7 days").check()
    await expect(page).to_have_url(re.compile(r"period=7"))
    await page.get_by_label("Hour", exact=True).check()
    await expect(page).to_have_url(re.compile(r"bucket=hour"))
    await expect(
        page.get_by_role("heading", name="Jobs created per hour, by status")
    ).to_be_visible()
    await page.reload()
    await expect(page.get_by_label("Last 7 days")).to_be_checked()
    await expect(page.get_by_label("Hour", exact=True)).to_be_checked()

    await page.get_by_label("Last 90 days").check()
    await expect(page.get_by_label("Hour", exact=True)).to_be_disabled()
    await expect(page.get_by_label("Day", exact=True)).to_be_checked()
    await page.get_by_label("Custom range").check()
    await page.get_by_label("From", exact=True).fill("2025-03-01")
    await page.get_by_label("To", exact=True).fill("2025-03-02")
    await expect(page).to_have_url(re.compile(r"period=custom&from=2025-03-01&to=2025-03-02"))
    await expect(
        page.locator("figure").first.locator(".axis-label", has_text="Mar 1")
    ).to_be_visible()

    await page.get_by_label("Last 7 days").check()
    await expect(
        page.get_by_role("heading", name="Jobs created per day, by status")
    ).to_be_visible()
    await screenshot(page, "history")
