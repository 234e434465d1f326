"""The job page: a job started from the UI moves on screen without a reload, errors come
grouped after the Metadata, a running job is cancelled after a confirmation, a retry opens
the new job linked to the old, and another tenant's job is not found."""

import re

from playwright.async_api import FilePayload, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.helpers import (
    counter_texts,
    finished,
    item_counter,
    job_status,
    products_csv,
    start_enrichment,
    upload,
    watch_counter,
)
from tests.browser.stack import BrowserStack

JOB_URL = re.compile(r"/jobs/[0-9a-f]{32}$")


async def test_an_uploaded_document_progresses_on_screen_without_a_reload(
    page: Page, stack: BrowserStack
) -> None:
    await page.goto(f"{stack.base_url}/start")
    await page.evaluate("() => { window.sameDocument = true; }")
    upload_file: FilePayload = {
        "name": "products.csv",
        "mimeType": "text/csv",
        "buffer": products_csv(40, bad_rows=frozenset({7, 23})),
    }
    await page.locator("#upload-file").set_input_files(files=upload_file)
    await page.locator(".started-job").get_by_role("link", name="Document ingestion job").click()
    await expect(page).to_have_url(JOB_URL)
    await watch_counter(page)

    await expect(job_status(page)).to_have_attribute("data-status", "in_progress")
    await expect(item_counter(page)).not_to_have_text(re.compile(r"^0 of"))
    await screenshot(page, "job-running")
    await expect(job_status(page)).to_have_attribute("data-status", "partial_success")
    await expect(item_counter(page)).to_have_text("38 of 40 items processed")

    seen = await counter_texts(page)
    moving = [text for text in seen if not re.match(r"^(0 of|38 of 40)", text)]
    assert moving, f"no progress between start and end was shown: {seen}"
    assert await page.evaluate("() => window.sameDocument"), "the page was reloaded"
    assert await page.locator("main h2").all_inner_texts() == [
        "Overview",
        "Progress",
        "Metadata",
        "Errors",
        "Items",
    ]
    group = page.locator('.error-group[data-category="validation_error"]')
    await expect(group).to_contain_text("2 items")
    await expect(group).to_contain_text("Fix the data and resubmit.")
    await expect(group).to_contain_text("Row 8: price 'abc' is not a number")
    await expect(page.locator(".section-metadata")).to_contain_text("products.csv")
    await page.get_by_label("Show").select_option("failed")
    await expect(page.locator(".items-table tbody tr")).to_have_count(2)
    await screenshot(page, "job-finished-with-errors")


async def test_cancel_asks_for_confirmation_then_the_running_job_is_cancelled(
    page: Page, stack: BrowserStack
) -> None:
    job_id = await stack.submit_sleepy(items=400, item_ms=100)
    await page.goto(f"{stack.base_url}/jobs/{job_id}")
    await expect(job_status(page)).to_have_attribute("data-status", "in_progress")
    await expect(item_counter(page)).not_to_have_text(re.compile(r"^0 of"))
    cancel = page.get_by_role("button", name="Cancel Job", exact=True)
    dialog = page.get_by_role("dialog", name="Cancel this job?")

    await cancel.click()
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Keep running")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(cancel).to_be_focused()
    await expect(job_status(page)).to_have_attribute("data-status", "in_progress")

    await cancel.click()
    await dialog.get_by_role("button", name="Cancel job", exact=True).click()
    await expect(job_status(page)).to_have_attribute("data-status", "cancelled")
    await expect(cancel).to_be_hidden()
    async with stack.client() as client:
        job = (await client.get(f"/jobs/{job_id}")).json()
    assert job["status"] == "cancelled"
    assert 0 < job["processed_items"] < 400


async def test_a_colleagues_job_offers_no_cancel_and_says_who_can(
    page: Page, stack: BrowserStack
) -> None:
    theirs = await start_enrichment(stack, email="bob@acme.test")
    await page.goto(f"{stack.base_url}/jobs/{theirs['id']}")
    await expect(job_status(page)).to_have_attribute("data-status", "pending")
    await expect(page.locator(".command-note")).to_have_text(
        "Only bob@acme.test or an admin can cancel this job."
    )
    await expect(page.get_by_role("button", name="Cancel Job", exact=True)).to_be_hidden()
    async with stack.client() as client:  # as the page would have asked: refused
        response = await client.post(f"/jobs/{theirs['id']}/cancel")
    assert response.status_code == 403


async def test_retrying_failed_items_opens_the_new_job_linked_to_the_old(
    page: Page, stack: BrowserStack
) -> None:
    async with stack.client() as client:
        submitted = await upload(client, "fruit.csv", products_csv(4, bad_rows=frozenset({2, 3})))
        original = await finished(client, submitted["id"])
    assert original["status"] == "partial_success"
    await page.goto(f"{stack.base_url}/jobs/{original['id']}")

    await page.get_by_role("button", name="Retry failed items").click()
    await expect(page).not_to_have_url(re.compile(original["id"]))
    await expect(page).to_have_url(JOB_URL)
    retry_of = page.locator(".facts div", has_text="Retry of").get_by_role("link")
    await expect(retry_of).to_have_text(original["id"][:8])
    retry_url = page.url

    await retry_of.click()
    await expect(page).to_have_url(f"{stack.base_url}/jobs/{original['id']}")
    retried_by = page.locator(".facts div", has_text="Retried by").get_by_role("link")
    await expect(retried_by).to_have_attribute("href", retry_url.removeprefix(stack.base_url))


async def test_the_page_reconnects_and_resyncs_when_the_gateway_comes_back(
    page: Page, stack: BrowserStack
) -> None:
    job_id = await stack.submit_sleepy(items=60, item_ms=100)
    await page.goto(f"{stack.base_url}/jobs/{job_id}")
    await expect(job_status(page)).to_have_attribute("data-status", "in_progress")
    await page.evaluate("() => { window.sameDocument = true; }")
    live = page.locator("#live")
    await expect(live).to_have_text("Live")

    stack.gateway.kill()
    await expect(live).to_have_text("Reconnecting…")
    await stack.restart_gateway()
    await expect(live).to_have_text("Live")
    await expect(job_status(page)).to_have_attribute("data-status", "completed")
    await expect(item_counter(page)).to_have_text("60 of 60 items processed")
    assert await page.evaluate("() => window.sameDocument"), "the page was reloaded"


async def test_another_tenants_job_is_not_found(page: Page, stack: BrowserStack) -> None:
    theirs = await start_enrichment(stack, tenant="globex", email="eve@globex.test")
    await page.goto(f"{stack.base_url}/jobs/{theirs['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Job not found")
    await expect(page.locator("main")).not_to_contain_text("eve@globex.test")
