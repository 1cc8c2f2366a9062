"""The operations routes: /v1/index, /healthz, /readyz and /metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from service.api.deps import PipelineDep, not_ready_reason
from service.api.errors import ERROR_RESPONSES, error_response
from service.api.openapi_examples import ALIVE, INDEX_MANIFEST, READY, json_example
from service.api.schemas import ErrorResponse
from service.pipeline.pipeline import Pipeline

router = APIRouter()


@router.get("/v1/index", responses={**ERROR_RESPONSES, 200: json_example(INDEX_MANIFEST)}, tags=["operations"])
async def index_manifest(pipeline: PipelineDep):
    """The manifest of the index being served."""
    return pipeline.index.manifest


@router.get("/healthz", responses={200: json_example(ALIVE)}, tags=["operations"])
async def healthz():
    """200 while the process is alive."""
    return {"status": "alive"}


@router.get("/readyz", responses={200: json_example(READY), 503: {"model": ErrorResponse}}, tags=["operations"])
async def readyz(request: Request):
    """200 once models and index are loaded, else 503."""
    pipeline: Pipeline = request.app.state.pipeline
    if not pipeline.ready:
        return error_response(503, "not_ready", not_ready_reason(request.app))
    return {"status": "ready", "index_build_id": pipeline.index.build_id, "load_seconds": pipeline.load_seconds, "pid": os.getpid()}


@router.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
async def metrics(request: Request):
    """Prometheus metrics."""
    pipeline: Pipeline = request.app.state.pipeline
    index = pipeline.index if pipeline.ready else None
    text = request.app.state.metrics.render(
        len(index.passages) if index else None, len(index.documents) if index else None, pipeline.load_seconds
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


for path, endpoint in (("/healthz", healthz), ("/readyz", readyz)):  # for uptime probes that send HEAD
    router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
