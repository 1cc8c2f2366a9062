"""The HTTP service: `service.app:app`. It only translates between HTTP and the pipeline."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.claimreview import claim_review
from service.config import Settings
from service.errors import BadIndex, ClaimCheckError, DeadlineExceeded, InputTooLarge, InvalidInput, NotLoaded, Overloaded
from service.metrics import Metrics
from service.openapi_examples import ALIVE, CLAIM_REVIEW, INDEX_MANIFEST, READY, json_example
from service.pipeline import Pipeline, claim_problem
from service.schemas import (
    CheckRequest,
    CheckResponse,
    ClaimResultOut,
    ClaimReviewRequest,
    ClaimsRequest,
    ClaimsResponse,
    ErrorResponse,
    VerifyBatchRequest,
    VerifyBatchResponse,
    VerifyRequest,
)
from service.verdict import ClaimResult

log = logging.getLogger("claimcheck")
access_log = logging.getLogger("claimcheck.access")
STATIC_DIR = Path(__file__).resolve().parent / "static"
DOCS_ASSETS_URL = "/static/api-docs"
STATUS_OF_ERROR = {InvalidInput: 422, InputTooLarge: 413, NotLoaded: 503, BadIndex: 409, Overloaded: 429, DeadlineExceeded: 429}
ERROR_RESPONSES = {status: {"model": ErrorResponse} for status in (401, 403, 409, 413, 422, 429, 503)}


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The uniform error body of the contract."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class ContractCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, with refused preflights answered in the contract's JSON error
    format instead of plain text."""

    def preflight_response(self, request_headers):
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = response.body.decode()  # "Disallowed CORS origin, headers"
        refused = error_response(
            response.status_code, "cors_refused", f"{reason}: the server allows browser calls only from CLAIMCHECK_CORS_ORIGINS"
        )
        kept = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-") or k.lower() == "vary"}
        refused.headers.update(kept)
        return refused


class BodySizeLimit:
    """ASGI middleware: request bodies over `max_bytes` (declared or streamed) get the
    contract's JSON 413 before the app sees them; smaller bodies are buffered and replayed."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = error_response(413, "too_large", f"request body exceeds the limit of {self.max_bytes} bytes")
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await too_large(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


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
    if settings.cors_origins:
        app.add_middleware(ContractCORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.state.settings = settings
    app.state.given_pipeline = pipeline
    _install_error_handlers(app)
    _install_metrics_middleware(app)
    _install_routes(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        problems = []
        for item in error.errors()[:5]:
            location = item.get("loc", ())
            if item.get("type") == "json_invalid":
                at = next((f" (the error is at character {part})" for part in location if isinstance(part, int)), "")
                problems.append(f"the request body is not valid JSON{at}")
                continue
            where = ".".join(str(part) for part in location if part != "body") or "body"
            message = item.get("msg", "invalid")
            sent_json = "json" in request.headers.get("content-type", "")
            if where == "body" and item.get("type") in ("model_attributes_type", "dict_type") and not sent_json:
                message += "; send a JSON object with the header content-type: application/json"
            problems.append(f"{where}: {message}")
        return error_response(422, "invalid_request", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        if error.status_code == 400:  # FastAPI could not parse the body: not UTF-8, or JSON nested too deeply
            return error_response(422, "invalid_request", "the request body is not valid JSON in UTF-8")
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(ClaimCheckError)
    async def domain_error(request: Request, error: ClaimCheckError):
        response = error_response(STATUS_OF_ERROR.get(type(error), 400), error.code, str(error))
        if response.status_code in (429, 503):
            response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; the server log has the details")


def _install_metrics_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next):
        """Count and time every request, and log it as one JSON line with its request id."""
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        response = await call_next(request)
        seconds = time.perf_counter() - started
        route = request.scope.get("route")
        path = route.path if route is not None else "unmatched"
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.observe_request(request.method, path, response.status_code, seconds)
        response.headers["X-Request-ID"] = request_id
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": path,
                "status": response.status_code,
                "ms": round(1000 * seconds, 1),
            },
        )
        return response


def _not_ready_reason(app: FastAPI) -> str:
    return app.state.load_error or "the models and the index are still loading"


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    if not pipeline.ready:
        raise NotLoaded(_not_ready_reason(request.app))
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def _check_sizes(request: Request, texts: list[str], limit_name: str) -> None:
    """413 for a text or claim over its configured length."""
    limit = getattr(request.app.state.settings, limit_name)
    for text in texts:
        if len(text) > limit:
            raise InputTooLarge(f"{len(text)} characters; the limit is {limit} (CLAIMCHECK_{limit_name.upper()})")


def _top_k(request: Request, top_k: int | None) -> int:
    settings: Settings = request.app.state.settings
    value = settings.default_top_k if top_k is None else top_k
    if value > settings.max_top_k:
        raise InvalidInput(f"top_k must be between 1 and {settings.max_top_k}")
    return value


async def _verify_one(request: Request, pipeline: Pipeline, claim: str, top_k: int | None) -> ClaimResult:
    """Check one claim as given (size-checked) and count its verdict."""
    _check_sizes(request, [claim], "max_claim_chars")
    if problem := claim_problem(claim):
        raise InvalidInput(f"claim {problem}")
    [result] = (await pipeline.verify_async([claim], _top_k(request, top_k))).results
    request.app.state.metrics.observe_verdicts([result.verdict])
    return result


def _install_routes(app: FastAPI) -> None:
    @app.post("/v1/check", response_model=CheckResponse, responses=ERROR_RESPONSES, tags=["checking"])
    async def check(body: CheckRequest, request: Request, pipeline: PipelineDep):
        """Split the text into claims, keep the check-worthy ones, and check each against the index."""
        _check_sizes(request, [body.text], "max_text_chars")
        started = time.perf_counter()
        limit = request.app.state.settings.max_claims_per_request
        max_tokens = request.app.state.settings.max_text_tokens
        checked = await pipeline.check_async(body.text, _top_k(request, body.top_k), limit, max_tokens)
        request.app.state.metrics.observe_verdicts([r.verdict for r in checked.results])
        return {
            "claims": checked.results,
            "index_build_id": checked.index_build_id,
            "seconds": round(time.perf_counter() - started, 3),
            "skipped": checked.skipped,
        }

    @app.post("/v1/claims", response_model=ClaimsResponse, responses=ERROR_RESPONSES, tags=["checking"])
    async def claims(body: ClaimsRequest, request: Request, pipeline: PipelineDep):
        """Every sentence-level claim candidate with its check-worthiness; no retrieval."""
        _check_sizes(request, [body.text], "max_text_chars")
        extraction = await pipeline.claims_async(body.text, request.app.state.settings.max_text_tokens)
        claims = [{**asdict(claim), "checkworthy": pipeline.is_checkworthy(claim)} for claim in extraction.claims]
        return {"claims": claims, "skipped": extraction.skipped}

    @app.post("/v1/verify", response_model=ClaimResultOut, responses=ERROR_RESPONSES, tags=["checking"])
    async def verify(body: VerifyRequest, request: Request, pipeline: PipelineDep):
        """Check one claim exactly as given (no splitting, no check-worthiness filter)."""
        return await _verify_one(request, pipeline, body.claim, body.top_k)

    @app.post("/v1/verify/batch", response_model=VerifyBatchResponse, responses=ERROR_RESPONSES, tags=["checking"])
    async def verify_batch(body: VerifyBatchRequest, request: Request, pipeline: PipelineDep):
        """Check several claims in one call; results come in the same order."""
        limit = request.app.state.settings.max_batch_claims
        if len(body.claims) > limit:
            raise InputTooLarge(f"{len(body.claims)} claims in one batch; the limit is {limit}")
        _check_sizes(request, body.claims, "max_claim_chars")
        started = time.perf_counter()
        checked = await pipeline.verify_async(body.claims, _top_k(request, body.top_k))
        request.app.state.metrics.observe_verdicts([r.verdict for r in checked.results])
        return {"results": checked.results, "index_build_id": checked.index_build_id, "seconds": round(time.perf_counter() - started, 3)}

    @app.post(
        "/v1/claimreview",
        response_class=JSONLDResponse,
        responses={**ERROR_RESPONSES, 200: json_example(CLAIM_REVIEW, JSONLDResponse.media_type)},
        tags=["checking"],
    )
    async def claimreview(body: ClaimReviewRequest, request: Request, pipeline: PipelineDep):
        """Check one claim and answer a schema.org ClaimReview (JSON-LD) for a CMS."""
        result = await _verify_one(request, pipeline, body.claim, body.top_k)
        return JSONLDResponse(claim_review(result, body.author, body.url, body.claim_author))

    @app.post(
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

    @app.get("/v1/index", responses={**ERROR_RESPONSES, 200: json_example(INDEX_MANIFEST)}, tags=["operations"])
    async def index_manifest(pipeline: PipelineDep):
        """The manifest of the index being served."""
        return pipeline.index.manifest

    @app.get("/healthz", responses={200: json_example(ALIVE)}, tags=["operations"])
    async def healthz():
        """200 while the process is alive."""
        return {"status": "alive"}

    @app.get("/readyz", responses={200: json_example(READY), 503: {"model": ErrorResponse}}, tags=["operations"])
    async def readyz(request: Request):
        """200 once models and index are loaded, else 503."""
        pipeline: Pipeline = request.app.state.pipeline
        if not pipeline.ready:
            return error_response(503, "not_ready", _not_ready_reason(request.app))
        return {"status": "ready", "index_build_id": pipeline.index.build_id, "load_seconds": pipeline.load_seconds, "pid": os.getpid()}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    async def metrics(request: Request):
        """Prometheus metrics."""
        pipeline: Pipeline = request.app.state.pipeline
        index = pipeline.index if pipeline.ready else None
        text = request.app.state.metrics.render(
            len(index.passages) if index else None, len(index.documents) if index else None, pipeline.load_seconds
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        """The fact-checker's web page."""
        return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))

    for path, endpoint in (("/", page), ("/healthz", healthz), ("/readyz", readyz)):  # for uptime probes that send HEAD
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)


app = create_app()
