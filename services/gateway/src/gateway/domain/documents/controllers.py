"""`POST /documents`: a multipart upload (field `file`) → 202 and the new `document_ingestion` Job.

The body limit sits on this route's own router, sized from `JOBS_UPLOAD_MAX_BYTES` plus
room for the multipart framing: Litestar refuses a larger `Content-Length` before
reading anything and stops a body that streams past it (no length sent, or a lying
one), and the exact file size is checked again once the file is in.
"""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from litestar import Controller, Request, Response, Router, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body

from gateway.dependencies import Blobs, Broker, Caller, Store, UploadLimit
from gateway.domain.documents.services import accept_document, too_large
from gateway.errors import EXCEPTION_HANDLERS, documented_errors
from jobs_shared.contracts import JobView

MULTIPART_FRAMING_BYTES = 64 * 1024
"""Boundaries and part headers around the file; the file itself is held to the exact limit."""

UPLOAD_ERRORS = documented_errors(
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.SERVICE_UNAVAILABLE,
)


@dataclass
class DocumentUpload:
    file: UploadFile
    """A CSV, XLSX or PDF file; its content decides its type, not its name."""


class DocumentController(Controller):
    path = "/"
    tags = ("documents",)

    @post(
        "/",
        status_code=HTTPStatus.ACCEPTED,
        summary="Upload a document (CSV, XLSX, PDF) to import its products",
        description="Starts a `document_ingestion` job and returns it, `pending`.",
        responses=UPLOAD_ERRORS,
    )
    async def upload(
        self,
        data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        broker: Broker,
        store: Store,
        blobs: Blobs,
        principal: Caller,
        upload_limit: UploadLimit,
    ) -> JobView:
        try:
            return await accept_document(
                data.file,
                max_bytes=upload_limit,
                blobs=blobs,
                broker=broker,
                store=store,
                principal=principal,
            )
        finally:
            await data.file.close()


def documents_router(upload_max_bytes: int) -> Router:
    """The `/documents` route with its body limit, and a 413 that names the limit."""

    def refuse(request: Request[Any, Any, Any], _: RequestEntityTooLarge) -> Response[Any]:
        return EXCEPTION_HANDLERS[HTTPException](request, too_large(upload_max_bytes))

    return Router(
        path="/documents",
        route_handlers=[DocumentController],
        request_max_body_size=upload_max_bytes + MULTIPART_FRAMING_BYTES,
        exception_handlers={RequestEntityTooLarge: refuse},
    )
