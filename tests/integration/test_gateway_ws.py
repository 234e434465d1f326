"""`/api/v1/ws` over a real socket: a gateway under uvicorn, the tracker in-process, both on
the session's RabbitMQ vhost and one SQLite file, and a `websockets` client.

Jobs change the way they do in production: the test publishes submits and worker events,
the tracker folds them and announces `JobsUpdated` on `jobs.updates`, the gateway's own
queue hears it and the socket shows it. Every wait is bounded.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jobs_shared.contracts import JobStarted, JobsUpdated, JobType, SubmitJob
from jobs_shared.topology import UPDATES
from tests.support.gateway import bearer, token
from tests.support.live import Gateway, LiveClient, Message, serving_gateway
from tests.support.rabbit import close_connection_consuming
from tests.support.tracker import (
    T0,
    TrackerEnv,
    outcomes,
    running_tracker,
    started,
    tracker_env,
    wait_until,
)

pytestmark = pytest.mark.rabbitmq

ENRICH = JobType.ENRICHMENT


@dataclass(frozen=True, slots=True)
class Stack:
    env: TrackerEnv
    gateway: Gateway


@pytest.fixture(scope="module")
async def stack(amqp_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One tracker and one gateway for the module; each test works on jobs of its own."""
    root = tmp_path_factory.mktemp("live")
    async with (
        tracker_env(amqp_url, root) as env,
        running_tracker(amqp_url, env.store_url),
        serving_gateway(amqp_url, env.store_url, root) as gateway,
    ):
        yield Stack(env, gateway)


def new_id() -> str:
    return f"live-{uuid.uuid4().hex[:10]}"


async def submit(
    env: TrackerEnv,
    job_id: str,
    tenant: str = "acme",
    email: str = "ops@acme.test",
    minutes: int = 0,
) -> None:
    """Submit a job and wait until the tracker stored it."""
    command = SubmitJob(
        job_id=job_id,
        tenant=tenant,
        user_email=email,
        params={"product_ids": ["p1"]},
        submitted_at=T0 + timedelta(minutes=minutes),
    )
    await env.bus.submit(ENRICH, command)
    await env.wait_for_job(job_id, "is stored", lambda job: True)


def update_of(subscription: str, **expected: Any) -> Any:
    def holds(message: Message) -> bool:
        return (
            message["op"] == "update"
            and message["subscription"] == subscription
            and all(message["job"][key] == value for key, value in expected.items())
        )

    return holds


async def test_a_job_subscription_gets_the_job_then_each_change_numbered_to_the_final_state(
    stack: Stack,
) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    async with (
        LiveClient.connect(stack.gateway) as client,
        httpx.AsyncClient(base_url=stack.gateway.origin, headers=bearer(token())) as http,
    ):
        snapshot = await client.subscribe("job", job_id=job_id)
        rest = (await http.get(f"/api/v1/jobs/{job_id}")).json()
        assert (snapshot["seq"], snapshot["job"]) == (0, rest)  # the very Job REST shows

        await stack.env.bus.publish_event(started(job_id, 10))
        for first in range(0, 10, 2):
            await stack.env.bus.publish_event(outcomes(job_id, [first, first + 1]))
            await asyncio.sleep(0.3)  # more than the coalescing interval: each is its own
        subscription = snapshot["subscription"]
        await client.wait_for("the final state", update_of(subscription, status="completed"))

    updates = client.updates(subscription)
    assert [m["seq"] for m in updates] == list(range(1, len(updates) + 1))
    assert len(updates) >= 5
    processed = [m["job"]["processed_items"] for m in updates]
    assert processed == sorted(processed)
    final = updates[-1]["job"]
    assert (final["status"], final["processed_items"], final["progress_pct"]) == (
        "completed",
        10,
        100.0,
    )


async def test_a_list_subscription_shows_its_tenants_matching_jobs_as_they_come_and_go(
    stack: Stack,
) -> None:
    email = f"{new_id()}@acme.test"
    older, newer, later = new_id(), new_id(), new_id()
    await submit(stack.env, older, email=email, minutes=1)
    await submit(stack.env, newer, email=email, minutes=2)
    await submit(stack.env, new_id(), tenant="globex", email=email, minutes=3)
    async with LiveClient.connect(stack.gateway) as client:
        everything = await client.subscribe("all", jobs={"user": email})
        running = await client.subscribe("running", jobs={"user": email, "status": ["in_progress"]})
        assert [job["id"] for job in everything["jobs"]] == [newer, older]  # newest first
        assert (running["jobs"], running["next_cursor"]) == ([], None)

        await submit(stack.env, later, email=email, minutes=4)
        await submit(stack.env, new_id(), tenant="globex", email=email, minutes=5)
        await stack.env.bus.publish_event(started(older, 2))
        await asyncio.sleep(0.3)
        await stack.env.bus.publish_event(outcomes(older, [0, 1]))
        await client.wait_for(
            "the job leaves the running list",
            lambda m: (
                m["op"] == "update"
                and m["subscription"] == running["subscription"]
                and m["matches"] is False
            ),
        )
        await client.wait_for(
            "the finished job in the full list",
            update_of(everything["subscription"], id=older, status="completed"),
        )

    shown = client.updates(everything["subscription"])
    assert {m["job"]["id"] for m in shown} == {older, later}  # globex's never
    assert all(m["matches"] and m["job"]["tenant"] == "acme" for m in shown)
    assert [
        (m["job"]["id"], m["job"]["status"], m["matches"])
        for m in client.updates(running["subscription"])
    ] == [
        (older, "in_progress", True),
        (older, "completed", False),
    ]


async def test_fifty_quick_changes_arrive_as_a_few_updates_ending_with_the_final_state(
    stack: Stack,
) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    announced = await stack.env.bus.listen(UPDATES.name)
    async with LiveClient.connect(stack.gateway) as client:
        snapshot = await client.subscribe("job", job_id=job_id)
        await stack.env.bus.publish_event(started(job_id, 50))
        for n in range(50):
            await stack.env.bus.publish_event(outcomes(job_id, [n]))
            await asyncio.sleep(0.03)  # past the tracker's linger: one batch, one change each
        subscription = snapshot["subscription"]
        await client.wait_for("the final state", update_of(subscription, status="completed"))

    changes = await _announced_for(announced, job_id)
    updates = client.updates(subscription)
    assert changes >= 25, "the tracker should have announced most changes one by one"
    assert len(updates) <= 12 < changes  # about 4 a second over the ~1.5 s of changes
    assert [m["seq"] for m in updates] == list(range(1, len(updates) + 1))
    assert (updates[-1]["job"]["status"], updates[-1]["job"]["processed_items"]) == (
        "completed",
        50,
    )


async def _announced_for(queue: Any, job_id: str) -> int:
    count = 0
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        jobs = JobsUpdated.model_validate_json(message.body).jobs
        count += sum(job.id == job_id for job in jobs)
    return count


async def test_another_tenants_job_is_not_found_exactly_like_a_missing_one(stack: Stack) -> None:
    theirs = new_id()
    await submit(stack.env, theirs, tenant="globex")
    async with LiveClient.connect(stack.gateway) as client:
        for ref, job_id in (("theirs", theirs), ("missing", "no-such-job")):
            await client.send(op="subscribe", ref=ref, job_id=job_id)
        errors = [await client.answer(ref) for ref in ("theirs", "missing")]
        await stack.env.bus.publish_event(
            JobStarted(job_id=theirs, tenant="globex", job_type=ENRICH, total_items=3, at=T0)
        )
        await stack.env.wait_for_job(theirs, "started", lambda job: job.total_items == 3)
        await client.send(op="ping")
        await client.wait_for("the pong", lambda m: m["op"] == "pong")

    def anonymous(error: Message) -> Message:
        return {k: v for k, v in error.items() if k not in ("ref", "job_id", "subscription")}

    assert anonymous(errors[0])["code"] == "not_found"
    assert anonymous(errors[0])["message"].replace(theirs, "?") == anonymous(errors[1])[
        "message"
    ].replace("no-such-job", "?")
    assert not [m for m in client.received if m["op"] in ("snapshot", "update")]


async def _refusal(url: str, **options: Any) -> tuple[int, str, list[Any]]:
    """Connect and read until closed: the close code, its reason and anything received."""
    received: list[Any] = []
    async with connect(url, open_timeout=10, **options) as socket, asyncio.timeout(10):
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until_closed(socket, received)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason, received


async def _read_until_closed(socket: ClientConnection, received: list[Any]) -> None:
    """Read into `received` until the socket closes (raises `ConnectionClosed`)."""
    while True:
        received.append(await socket.recv())


@pytest.mark.parametrize(
    "how",
    ["no token", "forged token", "expired token", "cookie from another site"],
)
async def test_a_socket_without_a_valid_token_is_closed_with_4401_before_any_data(
    stack: Stack, how: str
) -> None:
    gateway = stack.gateway
    url, options = {
        "no token": (gateway.ws_url(), {}),
        "forged token": (gateway.ws_url(token(secret="x" * 64)), {}),
        "expired token": (gateway.ws_url(token(exp=1)), {}),
        "cookie from another site": (
            gateway.ws_url(),
            {
                "additional_headers": {"Cookie": f"jobs_token={token()}"},
                "origin": "http://evil.example",
            },
        ),
    }[how]
    code, reason, received = await _refusal(url, **options)
    assert (code, received) == (4401, [])
    assert "token" in reason


async def test_a_socket_is_closed_with_4401_when_its_token_expires(stack: Stack) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    expires = datetime.now(UTC) + timedelta(seconds=3)
    url = stack.gateway.ws_url(token(exp=expires))
    async with connect(url, open_timeout=10) as socket, asyncio.timeout(15):
        await socket.send(json.dumps({"op": "subscribe", "job_id": job_id}))
        snapshot = json.loads(await socket.recv())
        assert (snapshot["op"], snapshot["job"]["id"]) == ("snapshot", job_id)
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until_closed(socket, [])
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert "expired" in closed.value.rcvd.reason
    assert datetime.now(UTC) >= expires.replace(microsecond=0)


@pytest.mark.parametrize("how", ["cookie from this origin", "authorization header"])
async def test_a_socket_may_authenticate_with_the_cookie_or_a_header(
    stack: Stack, how: str
) -> None:
    gateway = stack.gateway
    options: dict[str, Any] = (
        {"additional_headers": {"Cookie": f"jobs_token={token()}"}, "origin": gateway.origin}
        if how == "cookie from this origin"
        else {"additional_headers": bearer(token())}
    )
    async with connect(gateway.ws_url(), open_timeout=10, **options) as socket:
        await socket.send('{"op": "ping"}')
        async with asyncio.timeout(10):
            assert await socket.recv() == '{"op":"pong"}'


async def test_a_bad_message_is_answered_and_the_socket_stays_open(stack: Stack) -> None:
    bad = [
        "not json",
        "[1, 2]",
        '{"op": "shout"}',
        '{"op": "subscribe", "ref": "both", "job_id": "a", "jobs": {}}',
        '{"op": "subscribe", "ref": "neither"}',
        '{"op": "subscribe", "ref": "status", "jobs": {"status": ["sleeping"]}}',
        '{"op": "subscribe", "ref": "typo", "jobs": {"statuss": ["failed"]}}',
        '{"op": "subscribe", "ref": "range", "jobs": '
        '{"created_from": "2025-02-01", "created_to": "2025-01-01"}}',
        '{"op": "subscribe", "ref": "time", "jobs": {"created_from": "yesterday"}}',
        '{"op": "unsubscribe", "subscription": "s999"}',
    ]
    async with LiveClient.connect(stack.gateway) as client:
        for text in bad:
            await client.connection.send(text)
        await client.send(op="ping")
        await client.wait_for("the pong", lambda m: m["op"] == "pong")

    errors = client.received[:-1]
    assert [m["code"] for m in errors] == ["bad_request"] * len(bad)
    refs = ["both", "neither", "status", "typo", "range", "time"]
    assert [m.get("ref") for m in errors] == [None, None, None, *refs, None]
    assert "created_from" in errors[7]["message"]


async def test_unsubscribe_stops_the_updates(stack: Stack) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    async with LiveClient.connect(stack.gateway) as client:
        kept = await client.subscribe("kept", job_id=job_id)
        dropped = await client.subscribe("dropped", job_id=job_id)
        await client.send(op="unsubscribe", subscription=dropped["subscription"])
        await client.wait_for("the unsubscribe is confirmed", lambda m: m["op"] == "unsubscribed")
        await stack.env.bus.publish_event(started(job_id, 1))
        await stack.env.bus.publish_event(outcomes(job_id, [0]))
        await client.wait_for(
            "the final state", update_of(kept["subscription"], status="completed")
        )
        await client.send(op="unsubscribe", job_id=job_id)
        await client.wait_for(
            "the second unsubscribe",
            lambda m: m == {"op": "unsubscribed", "subscription": kept["subscription"]},
        )
    assert client.updates(dropped["subscription"]) == []


async def test_a_client_that_reconnects_and_subscribes_again_gets_what_it_missed(
    stack: Stack,
) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    async with LiveClient.connect(stack.gateway) as client:
        before = await client.subscribe("job", job_id=job_id)
    assert before["job"]["status"] == "pending"

    await stack.env.bus.publish_event(started(job_id, 2))  # while nobody listens
    await stack.env.bus.publish_event(outcomes(job_id, [0, 1], fail_every=2))
    await stack.env.wait_for_job(job_id, "ended", lambda job: job.failed_items == 1)

    async with LiveClient.connect(stack.gateway) as client:
        after = await client.subscribe("job", job_id=job_id)
    assert (after["seq"], after["job"]["status"], after["job"]["failed_items"]) == (
        0,
        "partial_success",
        1,
    )


async def test_after_the_broker_connection_drops_each_subscription_is_resynced(
    stack: Stack,
) -> None:
    """Changes announced while the gateway's connection is down never reach it, so once it
    is back every subscription gets a fresh snapshot (the next seq, same subscription and
    ref) and then the changes from there on."""
    job_id = new_id()
    await submit(stack.env, job_id)
    async with LiveClient.connect(stack.gateway) as client:
        snapshot = await client.subscribe("job", job_id=job_id)
        subscription = snapshot["subscription"]
        close_connection_consuming(stack.env.amqp_url, f"gateway.updates.{_feed(stack)}")
        await stack.env.bus.publish_event(started(job_id, 4))  # perhaps while it is away
        resynced = await client.wait_for(
            "a fresh snapshot", lambda m: m["op"] == "snapshot" and m["seq"] > 0, within=30
        )
        assert (resynced["subscription"], resynced["ref"]) == (subscription, "job")
        await stack.env.bus.publish_event(outcomes(job_id, range(4)))
        await client.wait_for("the final state", update_of(subscription, status="completed"))

    numbered = [m for m in client.received if m.get("subscription") == subscription]
    assert [m["seq"] for m in numbered] == list(range(len(numbered)))
    assert numbered[-1]["job"]["processed_items"] == 4


def _feed(stack: Stack) -> str:
    name: str = stack.gateway.state.feed.name
    return name


async def test_clients_of_two_gateways_each_get_every_update(
    stack: Stack, amqp_url: str, tmp_path: Path
) -> None:
    job_id = new_id()
    await submit(stack.env, job_id)
    async with (
        serving_gateway(amqp_url, stack.env.store_url, tmp_path) as second,
        LiveClient.connect(stack.gateway) as first_client,
        LiveClient.connect(second) as second_client,
    ):
        assert stack.gateway.state.feed.name != second.state.feed.name
        subscriptions = [
            (await client.subscribe("job", job_id=job_id))["subscription"]
            for client in (first_client, second_client)
        ]
        assert (len(stack.gateway.state.hub), len(second.state.hub)) == (1, 1)
        await stack.env.bus.publish_event(started(job_id, 3))
        await stack.env.bus.publish_event(outcomes(job_id, range(3)))
        for client, subscription in zip((first_client, second_client), subscriptions, strict=True):
            await client.wait_for("the final state", update_of(subscription, status="completed"))
    await wait_until(lambda: len(stack.gateway.state.hub) == 0, "the first gateway forgets")
