"""What several browser tests need: generated uploads, jobs started through the API, and
the job page's parts as the user sees them."""

from typing import Any

import httpx
from playwright.async_api import Locator, Page

from tests.browser.stack import BrowserStack
from tests.support.tracker import wait_until

Json = dict[str, Any]
FINISHED = {"completed", "partial_success", "failed", "cancelled"}


def products_csv(rows: int, bad_rows: frozenset[int] = frozenset()) -> bytes:
    """A product list of `rows` rows; the numbered `bad_rows` have a price that is no number."""
    lines = ["SKU,Title,Price"]
    for n in range(1, rows + 1):
        price = "abc" if n in bad_rows else f"{n}.99"
        lines.append(f"SKU-{n:04d},Product {n},{price}")
    return ("\n".join(lines) + "\n").encode()


async def upload(client: httpx.AsyncClient, name: str, data: bytes) -> Json:
    response = await client.post("/documents", files={"file": (name, data, "text/csv")})
    assert response.status_code == 202, response.text
    body: Json = response.json()
    return body


async def finished(client: httpx.AsyncClient, job_id: str, within: float = 30) -> Json:
    found: list[Json] = []

    async def ended() -> bool:
        found[:] = [(await client.get(f"/jobs/{job_id}")).json()]
        return found[0]["status"] in FINISHED

    await wait_until(ended, f"job {job_id} ends", within)
    return found[0]


async def start_enrichment(stack: BrowserStack, **who: str) -> Json:
    """An enrichment job: no enrichment worker runs here, so it stays `pending`."""
    async with stack.client(**who) as client:
        response = await client.post(
            "/jobs", json={"type": "enrichment", "params": {"product_ids": ["p-1"]}}
        )
    assert response.status_code == 202, response.text
    body: Json = response.json()
    return body


def job_status(page: Page) -> Locator:
    """The status badge of the job page's Overview."""
    return page.locator(".section-overview [data-status]")


def item_counter(page: Page) -> Locator:
    return page.get_by_test_id("item-counter")


async def watch_counter(page: Page) -> None:
    """Record every text the item counter shows from now on (read by `counter_texts`)."""
    await page.evaluate(
        """() => {
          window.seenCounters = [];
          setInterval(() => {
            const text = document.querySelector('[data-testid="item-counter"]')?.textContent;
            if (text && window.seenCounters.at(-1) !== text) window.seenCounters.push(text);
          }, 25);
        }"""
    )


async def counter_texts(page: Page) -> list[str]:
    texts: list[str] = await page.evaluate("() => window.seenCounters")
    return texts
