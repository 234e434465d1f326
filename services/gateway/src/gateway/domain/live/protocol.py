"""The wire format of `/api/v1/ws`: the messages clients send, and the ones the server writes.

Clients send JSON objects with an `op`: `subscribe` (to one job, `job_id`, or to a list
filter, `jobs`), `unsubscribe` and `ping`. Anything else is answered with a `bad_request`
error and the socket stays open: one bad message must not cost a page its other
subscriptions.

Server messages are written by hand around Job JSON that was encoded once per change: a
change can go out to thousands of sockets, and the copies differ only in subscription id
and seq, so encoding the Job per socket would be most of the fan-out's cost.
"""

import json
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from jobs_shared.contracts import JobStatus, JobType

REF_MAX_LENGTH = 64
JOB_ID_MAX_LENGTH = 128

PONG = '{"op":"pong"}'


class JobsFilter(BaseModel):
    """The list filters of `GET /jobs`, by the same names; none given means every job."""

    model_config = ConfigDict(extra="forbid")

    type: list[JobType] = Field(default_factory=list)
    status: list[JobStatus] = Field(default_factory=list)
    user: str | None = None
    created_from: str | None = None
    created_to: str | None = None


class _ClientMessage(BaseModel):
    # Unknown fields are refused: a misspelt filter must not silently widen a subscription.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscribe(_ClientMessage):
    op: Literal["subscribe"]
    job_id: str | None = Field(default=None, min_length=1, max_length=JOB_ID_MAX_LENGTH)
    jobs: JobsFilter | None = None
    ref: str | None = Field(
        default=None,
        max_length=REF_MAX_LENGTH,
        description="The client's own name for this request, echoed in the answers to it.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> "Subscribe":
        if (self.job_id is None) == (self.jobs is None):
            raise ValueError("give either `job_id` or `jobs`")
        return self


class Unsubscribe(_ClientMessage):
    op: Literal["unsubscribe"]
    subscription: str | None = Field(default=None, min_length=1)
    job_id: str | None = Field(default=None, min_length=1, max_length=JOB_ID_MAX_LENGTH)

    @model_validator(mode="after")
    def _one_target(self) -> "Unsubscribe":
        if (self.subscription is None) == (self.job_id is None):
            raise ValueError("give either `subscription` or `job_id`")
        return self


class Ping(_ClientMessage):
    op: Literal["ping"]


ClientMessage = Subscribe | Unsubscribe | Ping
_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="op")]
)


class BadRequestError(ValueError):
    """A client message that cannot be used; the text says why, for the client to read."""

    def __init__(self, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref
        """The request's `ref`, if it named one, so the client knows which request failed."""


def parse_client_message(text: str) -> ClientMessage:
    try:
        return _CLIENT_MESSAGE.validate_json(text)
    except ValidationError as exc:
        raise BadRequestError(_explain(exc), _ref_of(text)) from None


def _ref_of(text: str) -> str | None:
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    ref = raw.get("ref") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and len(ref) <= REF_MAX_LENGTH else None


def _explain(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(problems)


# --- what the server writes -----------------------------------------------------------


def snapshot(
    subscription: str,
    seq: int,
    ref: str | None,
    job: str | None = None,
    jobs: Sequence[str] = (),
    next_cursor: str | None = None,
) -> str:
    """`{"op": "snapshot", ...}` with the one Job (`job`) or the first page of a list
    (`jobs`, with the cursor of the next page); Jobs are given as their JSON."""
    head = _head("snapshot", subscription, seq) + _ref(ref)
    if job is not None:
        return f'{head},"job":{job}}}'
    return f'{head},"jobs":[{",".join(jobs)}],"next_cursor":{json.dumps(next_cursor)}}}'


def update(subscription: str, seq: int, job: str, matches: bool | None) -> str:
    """`{"op": "update", ...}` with the Job's JSON; list subscriptions also say whether the
    job `matches` the filter (false once it has left it, for the client to drop it)."""
    head = _head("update", subscription, seq)
    if matches is None:
        return f'{head},"job":{job}}}'
    return f'{head},"matches":{"true" if matches else "false"},"job":{job}}}'


def unsubscribed(subscription: str) -> str:
    return json.dumps({"op": "unsubscribed", "subscription": subscription})


def error(
    code: str,
    message: str,
    *,
    ref: str | None = None,
    subscription: str | None = None,
    job_id: str | None = None,
) -> str:
    """`{"op": "error", "code", "message"}`, with whatever names the request it answers."""
    body: dict[str, str] = {"op": "error", "code": code, "message": message}
    for name, value in (("ref", ref), ("subscription", subscription), ("job_id", job_id)):
        if value is not None:
            body[name] = value
    return json.dumps(body)


def _head(op: str, subscription: str, seq: int) -> str:
    return f'{{"op":"{op}","subscription":{json.dumps(subscription)},"seq":{seq}'


def _ref(ref: str | None) -> str:
    return "" if ref is None else f',"ref":{json.dumps(ref)}'
