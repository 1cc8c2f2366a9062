"""The app factory: settings, middleware, error handlers and routers, with models and index loaded in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from service.api.errors import install_error_handlers
from service.api.metrics import Metrics
from service.api.middleware import BodySizeLimit, ContentEncodingCheck, ContractCORSMiddleware, install_metrics_middleware
from service.api.routes import admin, checking, operations, page
from service.api.schemas import ErrorResponse
from service.config import Settings
from service.errors import ClaimCheckError
from service.pipeline.pipeline import Pipeline

log = logging.getLogger("claimcheck")
DOCS_ASSETS_URL = "/static/api-docs"


async def _load(app: FastAPI) -> None:
    pipeline: Pipeline = app.state.pipeline
    try:
        await asyncio.to_thread(pipeline.warm_up)
        log.info(
            "ready: index %s, %d passages, loaded in %.1f s",
            pipeline.index.build_id,
            len(pipeline.index.passages),
            pipeline.load_seconds,
        )
    except Exception as error:  # reported by /readyz; the process stays up so operators can see why
        app.state.load_error = f"{type(error).__name__}: {error}"
        log.error("loading failed: %s", app.state.load_error)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pipeline = app.state.given_pipeline or Pipeline(app.state.settings)
    app.state.metrics = Metrics()
    app.state.load_error = None
    loading = asyncio.create_task(_load(app))
    _reload_on_sighup(app)
    yield
    await loading
    if app.state.given_pipeline is None:
        await asyncio.to_thread(app.state.pipeline.close)


def _reload_on_sighup(app: FastAPI) -> None:
    """`kill -HUP <pid>` reloads the index like POST /v1/admin/reload (where signals can be
    handled: the main thread of a server process; not under a test client)."""

    async def reload() -> None:
        pipeline: Pipeline = app.state.pipeline
        if not pipeline.models_ready:
            log.warning("SIGHUP ignored: the models are still loading")
            return
        try:
            new_index = await asyncio.to_thread(pipeline.reload_index, app.state.settings.index_dir)
        except ClaimCheckError as error:
            log.error("SIGHUP reload refused, the old index keeps serving: %s", error)
            return
        app.state.load_error = None
        log.info("SIGHUP reload: now serving index %s", new_index.build_id)

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload()))
    except (RuntimeError, ValueError, NotImplementedError):
        pass


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the FastAPI application. Models and index load in the lifespan, in the background,
    unless an already loaded `pipeline` is given (tests share one that way)."""
    settings = settings or Settings()
    app = FastAPIOffline(  # /docs and /redoc from files installed with fastapi-offline: FastAPI's own load them from a CDN
        static_url=DOCS_ASSETS_URL,
        title="claimcheck",
        summary="Checks claims against your own reference documents, offline.",
        version="0.1.0",
        lifespan=lifespan,
        responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ContentEncodingCheck)  # outside the size limit: a compressed body is refused unread
    if settings.cors_origins:  # outermost: a browser reads the 413 and 415 answers too
        app.add_middleware(ContractCORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.state.settings = settings
    app.state.given_pipeline = pipeline
    install_error_handlers(app)
    install_metrics_middleware(app)
    for routes in (checking, admin, operations, page):
        app.include_router(routes.router)
    return app
