"""Helpers for the gateway tests: tokens, a client over the app, and jobs seeded by the real fold.

Jobs are never written by hand: contract messages go through `fold_batch` and
`save_fold`, exactly as the tracker would store them, so the gateway is tested on
the documents it will really read.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import jwt
from faststream.rabbit import RabbitBroker
from pydantic import SecretStr

from gateway.app import create_app
from jobs_shared.blobs import BlobStore
from jobs_shared.contracts import (
    ItemError,
    ItemOutcome,
    ItemOutcomes,
    ItemStatus,
    JobFailed,
    JobStarted,
    JobSubmitted,
    JobType,
    SubmitJob,
    TrackerMessage,
)
from jobs_shared.domain.fold import fold_batch, keys_to_load
from jobs_shared.errors import ErrorCategory
from jobs_shared.settings import Settings
from jobs_shared.store import CatalogStore, JobStore

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
UNREACHABLE_AMQP = "amqp://guest:guest@127.0.0.1:1/"
FOLDED_AT = datetime(2025, 3, 6, tzinfo=UTC)

Client = httpx.AsyncClient


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def token(
    tenant: str | None = "acme", email: str = "alice@acme.test", secret: str = SECRET, **claims: Any
) -> str:
    """A token of `tenant`; `claims` override or add claims, and a claim set to None is left out."""
    payload: dict[str, Any] = {
        "sub": f"user:{email}",
        "tenant": tenant,
        "email": email,
        "roles": [],
        "exp": datetime.now(UTC) + timedelta(hours=1),
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def settings(**overrides: Any) -> Settings:
    return Settings(jwt_secret=SecretStr(SECRET), **overrides)


@asynccontextmanager
async def gateway_client(
    store: JobStore,
    broker: RabbitBroker | None = None,
    tenant: str | None = "acme",
    blobs: BlobStore | None = None,
    catalog: CatalogStore | None = None,
) -> AsyncIterator[Client]:
    """A client of an app over `store` (and a never-connected broker unless one is given),
    sending a valid token of `tenant` on every request (none if `tenant` is None). Uploads
    and products need `blobs` and `catalog` (opened by the caller).

    The app runs in the test's own event loop (httpx's ASGI transport), as it must to use
    a broker connected there; Litestar's test client would run it in a thread of its own.
    The app has nothing to start: it was handed its store and broker.
    """
    app = create_app(
        settings(),
        store=store,
        broker=broker or RabbitBroker(UNREACHABLE_AMQP),
        blobs=blobs,
        catalog=catalog,
    )
    headers = bearer(token(tenant=tenant)) if tenant is not None else {}
    transport = httpx.ASGITransport(app=cast(Any, app))  # Litestar's scope types are narrower
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway.test", headers=headers
    ) as client:
        yield client


async def seed(store: JobStore, messages: Sequence[TrackerMessage]) -> None:
    """Fold `messages` into `store` as one tracker batch would."""
    job_ids, item_keys = keys_to_load(messages)
    jobs = await store.load_jobs(job_ids)
    items = await store.load_items(item_keys)
    result = fold_batch(messages, jobs, items, FOLDED_AT)
    await store.save_fold(list(result.jobs.values()), list(result.items.values()))


def submitted(
    job_id: str,
    job_type: JobType,
    tenant: str,
    email: str,
    when: datetime,
    params: dict[str, Any] | None = None,
) -> JobSubmitted:
    command = SubmitJob(
        job_id=job_id, tenant=tenant, user_email=email, params=params or {}, submitted_at=when
    )
    return JobSubmitted(job_id=job_id, job_type=job_type, command=command)


def started(job_id: str, job_type: JobType, tenant: str, when: datetime, total: int) -> JobStarted:
    return JobStarted(job_id=job_id, tenant=tenant, job_type=job_type, at=when, total_items=total)


def failed_job(
    job_id: str, job_type: JobType, tenant: str, when: datetime, error: str, category: ErrorCategory
) -> JobFailed:
    return JobFailed(
        job_id=job_id, tenant=tenant, job_type=job_type, at=when, error=error, category=category
    )


def outcome(
    item_id: str,
    when: datetime,
    category: ErrorCategory | None = None,
    started_at: datetime | None = None,
) -> ItemOutcome:
    """A final outcome: failed with `category` if given, else succeeded."""
    return ItemOutcome(
        item_id=item_id,
        label=f"Item {item_id}",
        status=ItemStatus.FAILED if category else ItemStatus.SUCCEEDED,
        at=when,
        started_at=started_at,
        error=ItemError(category=category, message=f"{item_id}: {category}") if category else None,
        result=None if category else {"ok": item_id},
    )


def outcomes(job_id: str, job_type: JobType, tenant: str, *items: ItemOutcome) -> ItemOutcomes:
    return ItemOutcomes(
        job_id=job_id, tenant=tenant, job_type=job_type, at=items[-1].at, outcomes=list(items)
    )


ENRICH, CRAWL, INGEST, EXPORT = (
    JobType.ENRICHMENT,
    JobType.CRAWL,
    JobType.DOCUMENT_INGESTION,
    JobType.EXPORT,
)
URL, TIMEOUT = ErrorCategory.URL_UNREACHABLE, ErrorCategory.TIMEOUT


async def seed_scenario(store: JobStore) -> None:
    """Tenant `acme`, newest first:

    - job-e enrichment, alice, 03-05 12:00, in_progress: 1 of 10 succeeded.
    - job-d export, bob, 03-04 12:00, pending.
    - job-c document_ingestion, alice, 03-03 08:00, failed at 08:00:05 (parse_error).
    - job-b crawl, bob, 03-02 09:00, completed: 3 items over 90 s.
    - job-a enrichment, alice, 03-01 10:00, partial_success: started 10:00:10, 8 items:
      a1 a2 succeeded; a3..a7 url_unreachable; a8 timeout, last at 10:01:10 (60 s).

    Tenant `globex`: job-x enrichment pending (03-02 12:00); job-y enrichment
    in_progress with one url_unreachable failure (03-01 11:00).
    """
    a_items = [
        outcome("a1", at("2025-03-01T10:00:20"), started_at=at("2025-03-01T10:00:15")),
        outcome("a2", at("2025-03-01T10:00:30")),
        *(outcome(f"a{n}", at(f"2025-03-01T10:00:4{n}"), URL) for n in range(3, 8)),
        outcome("a8", at("2025-03-01T10:01:10"), TIMEOUT),
    ]
    await seed(
        store,
        [
            submitted(
                "job-a",
                ENRICH,
                "acme",
                "alice@acme.test",
                at("2025-03-01T10:00:00"),
                {"product_ids": ["p1"]},
            ),
            started("job-a", ENRICH, "acme", at("2025-03-01T10:00:10"), 8),
            outcomes("job-a", ENRICH, "acme", *a_items),
            submitted("job-b", CRAWL, "acme", "bob@acme.test", at("2025-03-02T09:00:00")),
            started("job-b", CRAWL, "acme", at("2025-03-02T09:00:00"), 3),
            outcomes(
                "job-b",
                CRAWL,
                "acme",
                outcome("b1", at("2025-03-02T09:00:30")),
                outcome("b2", at("2025-03-02T09:01:00")),
                outcome("b3", at("2025-03-02T09:01:30")),
            ),
            submitted("job-c", INGEST, "acme", "alice@acme.test", at("2025-03-03T08:00:00")),
            failed_job(
                "job-c",
                INGEST,
                "acme",
                at("2025-03-03T08:00:05"),
                "Cannot read the file.",
                ErrorCategory.PARSE_ERROR,
            ),
            submitted(
                "job-d",
                EXPORT,
                "acme",
                "bob@acme.test",
                at("2025-03-04T12:00:00"),
                {"format": "csv"},
            ),
            submitted("job-e", ENRICH, "acme", "alice@acme.test", at("2025-03-05T12:00:00")),
            started("job-e", ENRICH, "acme", at("2025-03-05T12:00:00"), 10),
            outcomes("job-e", ENRICH, "acme", outcome("e1", at("2025-03-05T12:00:30"))),
            submitted("job-x", ENRICH, "globex", "eve@globex.test", at("2025-03-02T12:00:00")),
            submitted("job-y", ENRICH, "globex", "eve@globex.test", at("2025-03-01T11:00:00")),
            started("job-y", ENRICH, "globex", at("2025-03-01T11:00:00"), 2),
            outcomes("job-y", ENRICH, "globex", outcome("y1", at("2025-03-01T11:00:10"), URL)),
        ],
    )
