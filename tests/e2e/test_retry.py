"""A retry end to end, through the real ingestion worker: only the failed rows run again.

The upload has two good rows and two bad ones. The retry is a new job over the same
file whose plan keeps only the failed rows (`params.retry_items`, honoured by the worker
runtime's planner), linked both ways (`retry_of`, `retried_by`).
"""

from jobs_shared.contracts import utc_now
from tests.support.ingestion_stack import IngestionStack, every_page, finished, upload

FRUIT = b"SKU,Title,Price\nA-1,Apple,1.00\nB-2,,2.00\nC-3,Cherry,abc\nD-4,Date,4.00\n"


async def test_a_retry_of_an_upload_runs_only_its_failed_rows_again(stack: IngestionStack) -> None:
    async with stack.client() as client:
        submitted = (await upload(client, "fruit.csv", FRUIT)).json()
        original = await finished(client, submitted["id"])
        assert (original["status"], original["failed_items"]) == ("partial_success", 2)

        response = await client.post(f"/api/v1/jobs/{original['id']}/retry")
        assert response.status_code == 201, response.text
        retry = await finished(client, response.json()["id"])
        items = await every_page(client, f"/api/v1/jobs/{retry['id']}/items", "items")
        linked = (await client.get(f"/api/v1/jobs/{original['id']}")).json()

    failed_rows = ["row-0000003", "row-0000004"]
    assert retry["params"] == {**original["params"], "retry_items": failed_rows}
    assert (retry["retry_of"], retry["total_items"]) == (original["id"], 2)
    assert [item["item_id"] for item in items] == failed_rows
    assert retry["status"] == "failed"  # the same file, the same bad rows
    assert linked["retried_by"] == [retry["id"]]


async def test_a_retry_after_the_upload_was_swept_says_to_upload_it_again(
    stack: IngestionStack,
) -> None:
    async with stack.client() as client:
        submitted = (await upload(client, "fruit.csv", FRUIT)).json()
        original = await finished(client, submitted["id"])
        assert await stack.blobs.delete_stored_before(utc_now()) >= 1  # the retention passed

        response = await client.post(f"/api/v1/jobs/{original['id']}/retry")
        assert response.status_code == 201, response.text
        retry = await finished(client, response.json()["id"])

    assert retry["status"] == "failed"
    assert retry["error"] == "The uploaded file is no longer available: upload the document again."
