"""Coalescing: the latest value per key, released at most once per interval per key.

A job folding thousands of items a second changes with every tracker batch (tens of
times a second); a browser needs a few frames a second and a phone on a slow link even
fewer. So a socket keeps only the newest unsent state of each job it watches and writes
it at most every `interval`: intermediate states are dropped, the newest never is.

The first change of a quiet job goes out at once (no added latency when updates are
sparse); only a job that changed within the last interval waits for the rest of it. A
value offered as `urgent` (a job's final state) never waits: a finished job shows
finished as soon as it is known. The memory a socket can hold is one value per key,
however fast its jobs change and however slowly it reads.

Pure and clock-agnostic: the caller passes the time, so the tests drive it by hand.
"""

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: dict[K, tuple[float, V]] = {}
        """Unsent values and when each is due."""
        self._released: dict[K, float] = {}
        """When each recently released key went out, oldest first; a key is forgotten once
        its interval has passed (it is then due at once again)."""

    def __len__(self) -> int:
        return len(self._pending)

    def offer(self, key: K, value: V, now: float, *, urgent: bool = False) -> float:
        """Make `value` the one to send for `key`, replacing any unsent one; returns when
        it falls due."""
        if urgent:
            due = now
        elif (waiting := self._pending.get(key)) is not None:
            due = waiting[0]
        else:
            released = self._released.get(key)
            due = now if released is None else max(now, released + self.interval)
        self._pending[key] = (due, value)
        return due

    def take(self, now: float) -> list[V]:
        """Every value due by `now`, in the order their keys were first offered."""
        due = [key for key, (when, _) in self._pending.items() if when <= now]
        taken = []
        for key in due:
            taken.append(self._pending.pop(key)[1])
            self._released.pop(key, None)
            self._released[key] = now  # re-inserted: the dict stays in release order
        self._forget_released(now)
        return taken

    def next_due(self) -> float | None:
        """When the next value falls due; None if nothing waits."""
        return min((when for when, _ in self._pending.values()), default=None)

    def _forget_released(self, now: float) -> None:
        for key, when in list(self._released.items()):
            if when + self.interval > now:
                break
            del self._released[key]
