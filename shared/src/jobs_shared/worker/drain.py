"""Graceful shutdown, as every message handler sees it: a stop began, and its grace ran out.

Once a stop begins, no new item starts (its chunk hands it back to the queue) and no
new message is taken; work already running may finish until the grace period ends.
Then whatever still runs is cancelled and handed back too, so that SIGTERM during a
deploy neither loses an item nor waits forever for a slow one.
"""

import asyncio
from collections.abc import Collection
from typing import Any


class Drain:
    def __init__(self) -> None:
        self._begun = False
        self._expired = asyncio.Event()

    @property
    def begun(self) -> bool:
        return self._begun

    def begin(self, grace: float) -> None:
        """Stop starting new work now; end the work still running `grace` seconds from now."""
        if not self._begun:
            self._begun = True
            asyncio.get_running_loop().call_later(grace, self._expired.set)

    async def settle(self, tasks: Collection[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
        """Wait for `tasks`; return those still running when the grace ran out, cancelled.

        If the caller itself is cancelled, `tasks` are cancelled with it: no work goes on
        for a message that will be redelivered anyway.
        """
        pending: set[asyncio.Task[Any]] = set(tasks)
        expired = asyncio.ensure_future(self._expired.wait())
        try:
            while pending and not expired.done():
                _, pending = await asyncio.wait(
                    pending | {expired}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(expired)
        finally:
            expired.cancel()
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        return pending
