"""Request and response bodies of the HTTP API (the public contract)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StrictInt, StrictStr


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"text contains an unpaired surrogate at position {error.start}") from error
    return value


Text = Annotated[StrictStr, AfterValidator(_encodable)]
TopK = Field(None, ge=1, le=50, description="evidence passages per claim, 1 to 50 (default 5)")


class CheckRequest(BaseModel):
    text: Text = Field(description="text to split into claims and check")
    top_k: StrictInt | None = TopK

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Finland joined NATO in April 2023.", "top_k": 5}]})


class ClaimsRequest(BaseModel):
    text: Text = Field(description="text to split into claim candidates")

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Finland joined NATO in April 2023. Do you agree?"}]})


class VerifyRequest(BaseModel):
    claim: Text = Field(description="one claim, checked exactly as given")
    top_k: StrictInt | None = TopK

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"claim": "An armed attack against one NATO member is an attack against all."}]}
    )


class VerifyBatchRequest(BaseModel):
    claims: list[Text] = Field(min_length=1, description="claims, each checked exactly as given")
    top_k: StrictInt | None = TopK


class ClaimReviewRequest(BaseModel):
    claim: Text = Field(description="the claim to check and review")
    top_k: StrictInt | None = TopK
    author: StrictStr = Field("claimcheck", description="the reviewing organisation, for `author.name`")
    url: StrictStr | None = Field(None, description="where the review will be published")
    claim_author: StrictStr | None = Field(None, description="who made the claim, for `itemReviewed.author`")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"claim": "NATO was founded in 1949.", "author": "Example Newsroom", "claim_author": "A speaker"}]}
    )


class EvidenceSentenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: int = Field(description="offset of the sentence in the source document")
    end: int
    text: str


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    title: str | None
    url: str | None
    text: str
    start: int
    end: int
    section: str | None = None
    retrieval_score: float
    stance: Literal["supports", "refutes", "neutral"]
    stance_probs: dict[str, float]
    sentence: EvidenceSentenceOut | None = Field(None, description="the sentence of the passage that carries its stance, when one does")


class ClaimResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    claim: str
    start: int | None
    end: int | None
    verdict: Literal["supported", "refuted", "conflicting", "not_enough_info"]
    confidence: float
    checkworthiness: float | None = None
    evidence: list[EvidenceOut]


class CheckResponse(BaseModel):
    claims: list[ClaimResultOut]
    index_build_id: str
    seconds: float


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    claim: str = Field(validation_alias=AliasChoices("text", "claim"))
    start: int
    end: int
    checkworthiness: float


class ClaimsResponse(BaseModel):
    claims: list[ClaimOut]


class VerifyBatchResponse(BaseModel):
    results: list[ClaimResultOut]
    index_build_id: str
    seconds: float


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail
