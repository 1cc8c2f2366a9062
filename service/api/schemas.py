"""Request and response bodies of the HTTP API (the public contract)."""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from service.api import openapi_examples
from service.results import SkipReason, Stance, Verdict


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"text contains an unpaired surrogate at position {error.start}") from error
    return value


Text = Annotated[StrictStr, AfterValidator(_encodable)]
TopK = Field(
    None,
    ge=1,
    le=50,
    description="evidence passages per claim, 1 to 50 (default 5); the verdict reads the best 5 of them, so fewer can change it",
)
CheckedAs = Field(None, description="the standalone text checked (pronouns resolved, reported speech unwrapped); else the claim")
Attribution = Field(None, description='who the claim is reported from ("Stoltenberg said that ..."), when it is reported speech')
SkippedStretches = Field(
    default_factory=list, description="stretches of the text not read for claims, and why (not English, not a sentence, cut off, ...)"
)


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"claims": ["The Security Council has fifteen members.", "Finland joined NATO in April 2023."], "top_k": 1}]
        }
    )


class ClaimReviewRequest(BaseModel):
    claim: Text = Field(description="the claim to check and review")
    top_k: StrictInt | None = TopK
    author: Text = Field("claimcheck", description="the reviewing organisation, for `author.name`")
    url: Text | None = Field(None, description="where the review will be published")
    claim_author: Text | None = Field(None, description="who made the claim, for `itemReviewed.author`")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "claim": "The Security Council has fifteen members.",
                    "top_k": 1,
                    "author": "Example Newsroom",
                    "url": "https://news.example.org/fact-checks/security-council",
                    "claim_author": "A speaker",
                }
            ]
        }
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
    section: str | None = Field(None, description="the heading path the passage sits in, when its document has headings")
    page: int | None = Field(None, description="for a PDF source, the page (1-based) the passage is on; null for other sources")
    retrieval_score: float = Field(description="cosine similarity of claim and passage embeddings")
    retrieval_rank: int = Field(
        description="1 for the best-retrieved passage (dense and BM25 rankings fused); the verdict reads the best 5 in this order"
    )
    stance: Stance
    stance_probs: dict[str, float]
    sentence: EvidenceSentenceOut | None = Field(None, description="the sentence of the passage that carries its stance, when one does")
    claim_similarity: float | None = Field(
        None,
        description="cosine similarity of the claim and the sentence that gave the passage its stance (the passage, when read whole):"
        " whether what decides addresses the claim; when neither it nor the passage's retrieval_score reaches"
        " CLAIMCHECK_MIN_CLAIM_SIMILARITY the passage counts as neutral; null for passages below the relevance floor",
    )
    claim_coverage: float | None = Field(
        None,
        description="share of the claim's content words (stop words left out) found in the sentence that gave the passage its stance"
        " (the passage, when read whole), its section heading or its document's title: whether what decides speaks of what the claim"
        " says; below CLAIMCHECK_MIN_CLAIM_COVERAGE the passage counts as neutral; null for passages below the relevance floor",
    )
    decides: bool | None = Field(
        None,
        description="whether this passage may decide the verdict: it is about the claim (retrieval_score at or above the relevance"
        " floor), close enough to it (claim_similarity) and says enough of it (claim_coverage), and its stance does not rest on a"
        " 'not' (negation_consistent) nor tells of someone else (other_subject); a passage that does not decide counts as neutral,"
        " whatever stance the reader read",
    )
    negation_consistent: bool | None = Field(
        None,
        description="with CLAIMCHECK_NEGATION_CHECK on, for a claim with one negation (not, never, cannot, n't) and a passage that takes a"
        " side: whether the deciding sentence takes the other side when the claim is read without its negation; false: its stance"
        " rests on the word, not on what the sentence says, and the passage counts as neutral; null: not checked",
    )
    other_subject: str | None = Field(
        None,
        description="the subject of the sentence that gave the passage its stance, when it is a name other than the claim's named"
        " subject and the sentence, its section heading and its document's title never name the claim's: the sentence reports"
        " what someone else did or is, and the passage counts as neutral (CLAIMCHECK_SUBJECT_CHECK); null: no other subject",
    )


class ClaimResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [openapi_examples.VERIFIED]})

    claim: str
    start: int | None
    end: int | None
    verdict: Verdict
    confidence: float = Field(
        description=(
            "the probability that the verdict is right: the verdict head's (fitted on dev-split claims the stance model was not "
            "trained on); without a head, the fixed rule's uncalibrated probability"
        )
    )
    checkworthiness: float | None = None
    checked_as: str | None = CheckedAs
    attribution: str | None = Attribution
    evidence: list[EvidenceOut]


class SkippedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: int = Field(description="offset of the skipped stretch in the submitted text")
    end: int
    # A string, not the enum of today's reasons: the contract lists them "for example", and a client built before a new
    # reason must still read the answer.
    reason: str = Field(
        examples=list(get_args(SkipReason)),
        description="why it was not read for claims (new reasons may be added): not_english; not_a_sentence, a Markdown heading"
        " or table cell with no verb and no full stop, or a caption or credit line; truncated, a headline or teaser cut off"
        " with an ellipsis; refers_back, a sentence"
        ' that only points back at another ("That is false.", an unresolved "the latter"); expectation, the speaker\'s own'
        ' expectation or hope ("I expect that allies will ...", "We do not anticipate an invitation"): what can be checked'
        " is that it was said, not whether it comes true",
    )
    message: str


class CheckResponse(BaseModel):
    claims: list[ClaimResultOut]
    skipped: list[SkippedOut] = SkippedStretches
    index_build_id: str
    seconds: float

    model_config = ConfigDict(json_schema_extra={"examples": [openapi_examples.CHECKED]})


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    claim: str = Field(validation_alias=AliasChoices("text", "claim"))
    start: int
    end: int
    checkworthiness: float
    checkworthy: bool | None = Field(None, description="checkworthiness is at or above the service's threshold: /v1/check checks it")
    checked_as: str | None = CheckedAs
    attribution: str | None = Attribution


class ClaimsResponse(BaseModel):
    claims: list[ClaimOut]
    skipped: list[SkippedOut] = SkippedStretches

    model_config = ConfigDict(json_schema_extra={"examples": [openapi_examples.CLAIMS]})


class VerifyBatchResponse(BaseModel):
    results: list[ClaimResultOut]
    index_build_id: str
    seconds: float

    model_config = ConfigDict(json_schema_extra={"examples": [openapi_examples.VERIFIED_BATCH]})


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail

    model_config = ConfigDict(json_schema_extra={"examples": openapi_examples.ERRORS})
