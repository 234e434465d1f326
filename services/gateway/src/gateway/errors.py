"""Every error leaves as `{"error": {"code", "message"}}` (PRODUCT.md §3), never a stack trace.

Litestar's own exceptions (404 for an unknown route, 405, 401 from the auth
middleware, 400 from parameter parsing) go through the same handlers as ours, so the
shape holds for every 4xx and 5xx. A 400 names the parameter at fault; anything
unexpected is logged here with its trace and answered with a bare 500.
"""

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.enums import ParamType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import ParameterKwarg
from litestar.types import ExceptionHandlersMap
from pydantic import BaseModel

logger = logging.getLogger(__name__)

AnyRequest = Request[Any, Any, Any]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


_MEANINGS = {
    HTTPStatus.BAD_REQUEST: "A parameter or body field is invalid; the message names it.",
    HTTPStatus.UNAUTHORIZED: "No token, or a token that is invalid or expired.",
    HTTPStatus.FORBIDDEN: "Only the job's submitter or a `jobs:admin` of its tenant may do this.",
    HTTPStatus.NOT_FOUND: "No such job (or product) in the caller's tenant.",
    HTTPStatus.CONFLICT: "The job is not in a state that allows this; the message says why.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The upload is larger than JOBS_UPLOAD_MAX_BYTES.",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The file is not a CSV, XLSX or PDF document.",
    HTTPStatus.SERVICE_UNAVAILABLE: "The store or the broker cannot be reached.",
}


def documented_errors(*statuses: HTTPStatus) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a route answers, in the shape it really answers them
    (Litestar would otherwise document its own validation-error shape)."""
    return {
        status: ResponseSpec(data_container=ErrorBody, description=_MEANINGS[status])
        for status in statuses
    }


def _error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return Response(body, status_code=status_code, headers=headers)


def bad_parameter(name: str, message: str) -> ValidationException:
    """A 400 for query parameter `name`, in the shape Litestar's own parsing errors have."""
    return ValidationException(
        detail=f"Invalid query parameter {name!r}",
        extra=[{"key": name, "message": message, "source": "query"}],
    )


def bad_body(*problems: tuple[str, str]) -> ValidationException:
    """A 400 for request-body fields, each `(name, message)`; a nested field is dotted
    (`params.max_pages`)."""
    return ValidationException(
        detail="Invalid request body",
        extra=[{"key": name, "message": message, "source": "body"} for name, message in problems],
    )


def _http_exception(request: AnyRequest, exc: HTTPException) -> Response[ErrorBody]:
    status = HTTPStatus(exc.status_code)
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        # Raised deep inside the framework (a failed dependency...): not for clients' eyes.
        return _unexpected(request, exc)
    return _error_response(status, _code_of(status), exc.detail, exc.headers)


def _validation_exception(request: AnyRequest, exc: ValidationException) -> Response[ErrorBody]:
    problems = [
        _describe(request, problem) for problem in exc.extra or [] if isinstance(problem, dict)
    ]
    message = "; ".join(problems) or exc.detail
    return _error_response(HTTPStatus.BAD_REQUEST, "invalid_request", message)


def _unexpected(request: AnyRequest, exc: Exception) -> Response[ErrorBody]:
    logger.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred."
    )


def _describe(request: AnyRequest, problem: dict[str, Any]) -> str:
    """`Invalid query parameter 'from': ...`, named as the client sent it."""
    key = problem.get("key")
    if key is None:
        return str(problem.get("message", ""))
    name = _public_name(request, str(key))
    source = problem.get("source", ParamType.QUERY)
    kind = source.value if isinstance(source, ParamType) else source
    return f"Invalid {kind} parameter {name!r}: {problem.get('message', 'invalid value')}"


def _public_name(request: AnyRequest, key: str) -> str:
    parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    kwarg = parameter.kwarg_definition if parameter is not None else None
    if isinstance(kwarg, ParameterKwarg) and kwarg.name:
        return kwarg.name
    return key


def _code_of(status: HTTPStatus) -> str:
    return status.phrase.lower().replace(" ", "_").replace("-", "_")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: _validation_exception,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
