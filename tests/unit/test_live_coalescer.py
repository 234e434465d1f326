"""The coalescer: latest value per key, at most once per interval per key, finals at once."""

import itertools

from gateway.domain.live.coalescer import Coalescer

INTERVAL = 0.25


def test_a_quiet_key_goes_out_at_once() -> None:
    outbox: Coalescer[str, int] = Coalescer(INTERVAL)
    outbox.offer("job", 1, now=10.0)
    assert outbox.next_due() == 10.0
    assert outbox.take(10.0) == [1]
    assert len(outbox) == 0
    assert outbox.next_due() is None


def test_changes_within_the_interval_wait_and_only_the_latest_is_kept() -> None:
    outbox: Coalescer[str, int] = Coalescer(INTERVAL)
    outbox.offer("job", 1, now=10.0)
    assert outbox.take(10.0) == [1]
    for n, at in ((2, 10.05), (3, 10.1), (4, 10.2)):
        assert outbox.offer("job", n, now=at) == 10.25  # when it falls due
    assert outbox.take(10.2) == []
    assert outbox.next_due() == 10.25
    assert outbox.take(10.25) == [4]


def test_a_key_released_longer_ago_than_the_interval_goes_out_at_once_again() -> None:
    outbox: Coalescer[str, int] = Coalescer(INTERVAL)
    outbox.offer("job", 1, now=10.0)
    outbox.take(10.0)
    outbox.offer("job", 2, now=10.3)
    assert outbox.take(10.3) == [2]


def test_an_urgent_value_never_waits() -> None:
    outbox: Coalescer[str, str] = Coalescer(INTERVAL)
    outbox.offer("job", "running", now=10.0)
    outbox.take(10.0)
    outbox.offer("job", "running, later", now=10.1)
    outbox.offer("job", "completed", now=10.12, urgent=True)
    assert outbox.take(10.12) == ["completed"]


def test_keys_are_throttled_apart_and_released_in_first_offer_order() -> None:
    outbox: Coalescer[str, str] = Coalescer(INTERVAL)
    outbox.offer("a", "a1", now=10.0)
    outbox.take(10.0)
    outbox.offer("a", "a2", now=10.1)  # waits until 10.25
    outbox.offer("b", "b1", now=10.1)  # quiet: due at once
    outbox.offer("c", "c1", now=10.1)
    assert outbox.take(10.1) == ["b1", "c1"]
    assert outbox.take(10.3) == ["a2"]


def test_a_burst_of_fifty_changes_over_a_second_becomes_a_handful_ending_with_the_last() -> None:
    outbox: Coalescer[str, int] = Coalescer(INTERVAL)
    sent: list[tuple[float, int]] = []
    now = 0.0
    for n in range(1, 51):
        now = n * 0.02
        outbox.offer("job", n, now=now, urgent=n == 50)
        sent.extend((now, value) for value in outbox.take(now))
    while (due := outbox.next_due()) is not None:
        sent.extend((due, value) for value in outbox.take(due))

    assert len(sent) <= 6  # one a quarter second over one second, plus the final
    assert sent[-1][1] == 50
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(sent[:-1])]
    assert all(gap >= INTERVAL - 1e-9 for gap in gaps)


def test_what_waits_is_one_value_per_key_however_many_are_offered() -> None:
    outbox: Coalescer[int, int] = Coalescer(INTERVAL)
    for key in range(3):
        outbox.offer(key, 0, now=0.0)
    outbox.take(0.0)
    for n in range(1_000):
        outbox.offer(n % 3, n, now=0.1)
    assert len(outbox) == 3
    assert sorted(outbox.take(1.0)) == [997, 998, 999]
