"""The hub: routes each change this process hears to the subscriptions it concerns.

Subscriptions are indexed by tenant first, so a change is only ever shown to its own
tenant's subscriptions, whatever a job id or a filter says: a job subscription is found
by (tenant, job id), a list subscription among its tenant's. Routing is synchronous and
never waits on a socket (each session queues what it is handed and writes on its own),
so one slow client cannot hold up the feed or anyone else.
"""

from collections import defaultdict
from collections.abc import Hashable

from gateway.domain.live.subscriptions import Change, JobTarget, Subscription


class Hub:
    def __init__(self) -> None:
        self._groups: defaultdict[Hashable, set[Subscription]] = defaultdict(set)
        """Job subscriptions under (tenant, job id), list subscriptions under tenant."""

    def __len__(self) -> int:
        return sum(map(len, self._groups.values()))

    def add(self, subscription: Subscription) -> None:
        self._groups[_group_of(subscription)].add(subscription)

    def remove(self, subscription: Subscription) -> None:
        key = _group_of(subscription)
        group = self._groups.get(key)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._groups[key]

    def publish(self, change: Change) -> None:
        job = change.job
        for key in ((job.tenant, job.id), job.tenant):
            for subscription in self._groups.get(key, ()):
                subscription.offer(change)  # queues at most: never touches the hub

    def resync(self) -> None:
        """Changes may have been missed (the feed reconnected): every session with a
        subscription reads its state afresh."""
        owners = {s.owner for group in self._groups.values() for s in group}
        for owner in owners:
            owner.resync()


def _group_of(subscription: Subscription) -> Hashable:
    if isinstance(subscription.target, JobTarget):
        return (subscription.tenant, subscription.target.job_id)
    return subscription.tenant
