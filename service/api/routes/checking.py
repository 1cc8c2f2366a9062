"""The checking routes: /v1/check, /v1/claims, /v1/verify, /v1/verify/batch and /v1/claimreview."""

from __future__ import annotations

import time
from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.claimreview import claim_review
from service.api.deps import PipelineDep, check_sizes, top_k_of, verify_one
from service.api.errors import ERROR_RESPONSES
from service.api.openapi_examples import CLAIM_REVIEW, json_example
from service.api.schemas import (
    CheckRequest,
    CheckResponse,
    ClaimResultOut,
    ClaimReviewRequest,
    ClaimsRequest,
    ClaimsResponse,
    VerifyBatchRequest,
    VerifyBatchResponse,
    VerifyRequest,
)
from service.errors import InputTooLarge

router = APIRouter()


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


@router.post("/v1/check", response_model=CheckResponse, responses=ERROR_RESPONSES, tags=["checking"])
async def check(body: CheckRequest, request: Request, pipeline: PipelineDep):
    """Split the text into claims, keep the check-worthy ones, and check each against the index."""
    check_sizes(request, [body.text], "max_text_chars")
    started = time.perf_counter()
    limit = request.app.state.settings.max_claims_per_request
    max_tokens = request.app.state.settings.max_text_tokens
    checked = await pipeline.check_async(body.text, top_k_of(request, body.top_k), limit, max_tokens)
    request.app.state.metrics.observe_verdicts([r.verdict for r in checked.results])
    return {
        "claims": checked.results,
        "index_build_id": checked.index_build_id,
        "seconds": round(time.perf_counter() - started, 3),
        "skipped": checked.skipped,
    }


@router.post("/v1/claims", response_model=ClaimsResponse, responses=ERROR_RESPONSES, tags=["checking"])
async def claims(body: ClaimsRequest, request: Request, pipeline: PipelineDep):
    """Every sentence-level claim candidate with its check-worthiness; no retrieval."""
    check_sizes(request, [body.text], "max_text_chars")
    extraction = await pipeline.claims_async(body.text, request.app.state.settings.max_text_tokens)
    claims = [{**asdict(claim), "checkworthy": pipeline.is_checkworthy(claim)} for claim in extraction.claims]
    return {"claims": claims, "skipped": extraction.skipped}


@router.post("/v1/verify", response_model=ClaimResultOut, responses=ERROR_RESPONSES, tags=["checking"])
async def verify(body: VerifyRequest, request: Request, pipeline: PipelineDep):
    """Check one claim exactly as given (no splitting, no check-worthiness filter)."""
    return await verify_one(request, pipeline, body.claim, body.top_k)


@router.post("/v1/verify/batch", response_model=VerifyBatchResponse, responses=ERROR_RESPONSES, tags=["checking"])
async def verify_batch(body: VerifyBatchRequest, request: Request, pipeline: PipelineDep):
    """Check several claims in one call; results come in the same order."""
    limit = request.app.state.settings.max_batch_claims
    if len(body.claims) > limit:
        raise InputTooLarge(f"{len(body.claims)} claims in one batch; the limit is {limit}")
    check_sizes(request, body.claims, "max_claim_chars")
    started = time.perf_counter()
    checked = await pipeline.verify_async(body.claims, top_k_of(request, body.top_k))
    request.app.state.metrics.observe_verdicts([r.verdict for r in checked.results])
    return {"results": checked.results, "index_build_id": checked.index_build_id, "seconds": round(time.perf_counter() - started, 3)}


@router.post(
    "/v1/claimreview",
    response_class=JSONLDResponse,
    responses={**ERROR_RESPONSES, 200: json_example(CLAIM_REVIEW, JSONLDResponse.media_type)},
    tags=["checking"],
)
async def claimreview(body: ClaimReviewRequest, request: Request, pipeline: PipelineDep):
    """Check one claim and answer a schema.org ClaimReview (JSON-LD) for a CMS."""
    result = await verify_one(request, pipeline, body.claim, body.top_k)
    return JSONLDResponse(claim_review(result, body.author, body.url, body.claim_author))
