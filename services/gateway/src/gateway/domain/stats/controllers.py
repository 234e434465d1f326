"""`/stats`: the time series behind the history charts."""

from datetime import timedelta
from http import HTTPStatus
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from gateway.dependencies import Caller, Store
from gateway.domain.stats.services import job_stats
from gateway.errors import bad_parameter, documented_errors
from gateway.params import parse_time
from jobs_shared.contracts import JobType, utc_now
from jobs_shared.domain.stats import MAX_RANGE, Bucket, StatsSeries

DEFAULT_RANGE = timedelta(days=30)


class StatsController(Controller):
    path = "/stats"
    tags = ("stats",)

    @get(
        "/",
        summary="Jobs created per bucket by status, success rate, and per-type performance",
        description="`from` is rounded down to the start of its bucket; `to` is exclusive. "
        "The range may span at most 31 days with hour buckets and 400 days with day buckets.",
        responses=documented_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED),
    )
    async def get_stats(
        self,
        store: Store,
        principal: Caller,
        start: Annotated[
            str | None, QueryParameter(name="from", description="ISO 8601; default `to` − 30 days.")
        ] = None,
        end: Annotated[
            str | None, QueryParameter(name="to", description="ISO 8601; default now.")
        ] = None,
        bucket: Annotated[Bucket, QueryParameter(description="`hour` or `day`.")] = Bucket.DAY,
        types: Annotated[
            list[JobType] | None,
            QueryParameter(name="type", description="Repeatable; default all."),
        ] = None,
    ) -> StatsSeries:
        until = parse_time("to", end) or utc_now()
        since = parse_time("from", start) or until - DEFAULT_RANGE
        if since >= until:
            raise bad_parameter("from", "must be before `to`")
        if until - since > MAX_RANGE[bucket]:
            raise bad_parameter(
                "from",
                f"the range may span at most {MAX_RANGE[bucket].days} days with {bucket} buckets",
            )
        return await job_stats(
            store, principal.tenant, since, until, bucket, frozenset(types or ())
        )
