"""What the routes share: the loaded pipeline as a dependency, and the request limits every route applies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from service.config import Settings
from service.errors import InputTooLarge, InvalidInput, NotLoaded
from service.pipeline.inputs import claim_problem
from service.pipeline.pipeline import Pipeline
from service.results import ClaimResult


def not_ready_reason(app: FastAPI) -> str:
    """Why the service is not ready: the load error, or that it is still loading."""
    return app.state.load_error or "the models and the index are still loading"


def get_pipeline(request: Request) -> Pipeline:
    """The loaded pipeline; a 503 (NotLoaded) until models and index are in."""
    pipeline: Pipeline = request.app.state.pipeline
    if not pipeline.ready:
        raise NotLoaded(not_ready_reason(request.app))
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def check_sizes(request: Request, texts: list[str], limit_name: str) -> None:
    """413 for a text or claim over its configured length."""
    limit = getattr(request.app.state.settings, limit_name)
    for text in texts:
        if len(text) > limit:
            raise InputTooLarge(f"{len(text)} characters; the limit is {limit} (CLAIMCHECK_{limit_name.upper()})")


def top_k_of(request: Request, top_k: int | None) -> int:
    """The request's top_k, or the configured default; 422 above the configured maximum."""
    settings: Settings = request.app.state.settings
    value = settings.default_top_k if top_k is None else top_k
    if value > settings.max_top_k:
        raise InvalidInput(f"top_k must be between 1 and {settings.max_top_k}")
    return value


async def verify_one(request: Request, pipeline: Pipeline, claim: str, top_k: int | None) -> ClaimResult:
    """Check one claim as given (size-checked) and count its verdict."""
    check_sizes(request, [claim], "max_claim_chars")
    if problem := claim_problem(claim):
        raise InvalidInput(f"claim {problem}")
    [result] = (await pipeline.verify_async([claim], top_k_of(request, top_k))).results
    request.app.state.metrics.observe_verdicts([result.verdict])
    return result
