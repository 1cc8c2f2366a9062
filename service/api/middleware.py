"""ASGI middleware: the body-size limit, the refusal of compressed bodies, CORS with contract-shaped refusals, and
the access log with metrics."""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import iter_route_contexts
from starlette.routing import Match

from service.api.errors import error_response

access_log = logging.getLogger("claimcheck.access")


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


class ContentEncodingCheck:
    """ASGI middleware: a request body with a Content-Encoding other than identity (gzip, br, ...)
    gets the contract's JSON 415 before the app sees it; the service reads only uncompressed JSON."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        encodings = [part.strip().lower() for part in headers.get(b"content-encoding", b"").decode("latin-1").split(",")]
        declared = headers.get(b"content-length", b"")
        has_body = int(declared) > 0 if declared.isdigit() else b"transfer-encoding" in headers
        if has_body and any(encoding not in ("", "identity") for encoding in encodings):
            named = ", ".join(encoding for encoding in encodings if encoding not in ("", "identity"))
            message = f"the request body is compressed (Content-Encoding: {named[:40]}); send the JSON uncompressed, without the header"
            refused = error_response(415, "unsupported_encoding", message)
            return await refused(scope, receive, send)
        await self.app(scope, receive, send)


def route_label(app: FastAPI, scope) -> str:
    """The path of the app's route that a request is for, as the router would pick it: a full match
    first, else a path whose method differs (a 405); "unmatched" when no route has the path (a 404).
    Labels stay bounded: a raw request path is never returned."""
    method_differs = None
    for route in iter_route_contexts(app.routes):
        match, _ = route.matches(scope)
        if match is Match.FULL and route.path:
            return route.path
        if match is Match.PARTIAL and method_differs is None:
            method_differs = route.path
    return method_differs or "unmatched"


def install_metrics_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next):
        """Count and time every request, and log it as one JSON line with its request id."""
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        as_received = dict(request.scope)  # routing rewrites the scope (a mount moves its prefix to root_path)
        response = await call_next(request)
        seconds = time.perf_counter() - started
        route = request.scope.get("route")  # not set by routes that are not FastAPI's, nor when a middleware answered first
        path = route.path if route is not None else route_label(app, as_received)
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
