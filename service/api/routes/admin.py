"""The admin route: POST /v1/admin/reload swaps in a rebuilt index (bearer token)."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from service.api.errors import ERROR_RESPONSES, error_response
from service.api.openapi_examples import INDEX_MANIFEST, json_example
from service.errors import ClaimCheckError, NotLoaded
from service.pipeline.pipeline import Pipeline

log = logging.getLogger("claimcheck")
router = APIRouter()


@router.post(
    "/v1/admin/reload",
    responses={**ERROR_RESPONSES, 200: {"description": "the manifest of the new index", **json_example(INDEX_MANIFEST)}},
    tags=["admin"],
)
async def reload_index(request: Request, authorization: Annotated[str | None, Header()] = None):
    """Load the index at CLAIMCHECK_INDEX_DIR, validate it, and swap it in (needs the admin token)."""
    token = request.app.state.settings.admin_token
    if token is None or not token.get_secret_value().strip():  # CLAIMCHECK_ADMIN_TOKEN="" must not mean "no password"
        return error_response(403, "admin_disabled", "admin endpoints are disabled: set CLAIMCHECK_ADMIN_TOKEN to enable them")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.get_secret_value().encode()):
        return error_response(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)")
    pipeline: Pipeline = request.app.state.pipeline
    if not pipeline.models_ready:
        raise NotLoaded("the models are still loading")
    try:
        new_index = await run_in_threadpool(pipeline.reload_index, request.app.state.settings.index_dir)
    except ClaimCheckError as error:
        log.error("admin reload refused, the old index keeps serving: %s", error)
        raise
    request.app.state.load_error = None
    log.info("admin reload: now serving index %s", new_index.build_id)
    return new_index.manifest
