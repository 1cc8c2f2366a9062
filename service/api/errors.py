"""Errors at the edge: the contract's JSON error body, and every exception mapped to its status code in one place."""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.schemas import ErrorResponse
from service.errors import BadIndex, ClaimCheckError, DeadlineExceeded, InputTooLarge, InvalidInput, NotLoaded, Overloaded

log = logging.getLogger("claimcheck")
STATUS_OF_ERROR = {InvalidInput: 422, InputTooLarge: 413, NotLoaded: 503, BadIndex: 409, Overloaded: 429, DeadlineExceeded: 429}
ERROR_RESPONSES = {status: {"model": ErrorResponse} for status in (401, 403, 409, 413, 422, 429, 503)}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The uniform error body of the contract."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
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
        if error.status_code == 400:  # FastAPI could not parse the body; what it ran into is the cause
            if isinstance(error.__cause__, RecursionError):  # the JSON parser recurses once per level of nesting
                return error_response(
                    422,
                    "too_deeply_nested",
                    f"the request body is JSON nested too deeply: arrays and objects can be nested at most about "
                    f"{sys.getrecursionlimit()} levels",
                )
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
