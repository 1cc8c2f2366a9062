"""Service settings, read from `CLAIMCHECK_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.runtime.onnx_session import ClassifierBackend

REPO_ROOT = Path(__file__).resolve().parent.parent
VERDICT_PASSAGES = 1  # best-retrieved passages read sentence by sentence (and, without a verdict head, that vote)
MAX_SENTENCES_READ_WHOLE = 3  # longer passages are read sentence by sentence only (docs/how-it-works.md)
STRONG_STANCE = 0.5  # without a verdict head, the stance probability from which evidence counts as strong
MIN_RELEVANCE = 0.25  # retrieval score below which a passage counts as neutral for the verdict
MIN_CLAIM_SIMILARITY = -1.0  # without a verdict head's operating point: every deciding sentence may decide (cosine >= -1)
MIN_VERDICT_CONFIDENCE = 0.0  # without a verdict head's operating point: no verdict is withheld
MIN_CLAIM_COVERAGE = 0.0  # without a verdict head's operating point: a deciding sentence need share none of the claim's words


class Settings(BaseSettings):
    """Every knob of the service; `CLAIMCHECK_INDEX_DIR=/data/index` sets `index_dir`, and so on."""

    model_config = SettingsConfigDict(env_prefix="CLAIMCHECK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    index_dir: Path = REPO_ROOT / "index" / "default"
    stance_model_dir: Path = REPO_ROOT / "models" / "stance-minilm"
    checkworthiness_model_dir: Path = REPO_ROOT / "models" / "checkworthiness"
    admin_token: SecretStr | None = Field(None, description="bearer token of the admin endpoints; unset or blank: admin disabled")

    max_body_bytes: int = Field(1_000_000, ge=1)
    max_text_chars: int = Field(100_000, ge=1)
    max_text_tokens: int = Field(30_000, ge=1, description="words and symbols read from one text (prose: about 1 per 5 characters)")
    max_claim_chars: int = Field(2_000, ge=1)
    max_claims_per_request: int = Field(200, ge=1)
    max_batch_claims: int = Field(64, ge=1)
    default_top_k: int = Field(5, ge=1, le=50)
    max_top_k: int = Field(50, ge=1, le=50)
    checkworthiness_threshold: float | None = Field(None, ge=0.0, le=1.0, description="default: the model's tuned threshold")
    stance_backend: ClassifierBackend = Field("onnx-int8", description="how the stance model runs: onnx-int8 (fastest), onnx or torch")
    stance_rereader_model_dir: Path | None = Field(
        None,
        description="a stronger stance model that re-reads the deciding sentence of each claim's best passages (the cascade); unset: none",
    )

    @field_validator("stance_rereader_model_dir", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        """`CLAIMCHECK_STANCE_REREADER_MODEL_DIR=` (blank) runs without a re-reader, as unset does."""
        return None if isinstance(value, str) and not value.strip() else value

    rereader_passages: int = Field(
        2, ge=1, le=50, description="with a re-reader: how many of a claim's best-ranked passages above the relevance floor it re-reads"
    )
    checkworthiness_backend: ClassifierBackend = Field(
        "onnx-int8", description="how the check-worthiness model runs: onnx-int8 (fastest), onnx or torch; its threshold was fitted in int8"
    )
    sentence_evidence: bool = True
    max_sentences_read_whole: int | None = Field(
        MAX_SENTENCES_READ_WHOLE,
        ge=1,
        description="a passage of more sentences than this is read sentence by sentence only, whatever its rank, so that its"
        " stance comes from one sentence; a large value (1000) reads every passage whole too",
    )
    verdict_passages: int = Field(
        VERDICT_PASSAGES,
        ge=1,
        le=50,
        description="best-retrieved passages read sentence by sentence; without a verdict head, those that vote",
    )
    min_relevance: float = Field(
        MIN_RELEVANCE, ge=-1.0, le=1.0, description="retrieval score (cosine) below which a passage counts as neutral for the verdict"
    )
    min_claim_similarity: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="a passage whose deciding sentence and whose passage text are both less similar to the claim (cosine) does not"
        " address the claim and counts as neutral for the verdict; default: the verdict head's operating point, chosen on dev",
    )
    min_claim_coverage: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="a passage whose deciding sentence (with its section heading and document title) carries a smaller share of the"
        " claim's content words does not address the claim and counts as neutral for the verdict (service/pipeline/wording.py);"
        " default: the verdict head's operating point, chosen on dev",
    )
    min_verdict_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="a supported, refuted or conflicting verdict less probable than this is withheld (not_enough_info instead);"
        " default: the verdict head's operating point, chosen on dev",
    )
    negation_check: bool = Field(
        False,
        description="re-read the deciding sentence of a claim with one negation without it; a reading that does not flip side counts"
        " as neutral (service/pipeline/polarity.py); off by default: on the benchmarks it withheld as many right verdicts as wrong ones",
    )
    subject_check: bool = Field(
        True,
        description="a deciding sentence whose subject is another name than the claim's (which it does not mention) counts as"
        " neutral: it reports what someone else did or is (service/pipeline/subjects.py)",
    )
    strong_stance: float = Field(
        STRONG_STANCE, ge=0.0, le=1.0, description="without a verdict head, the stance probability from which evidence counts as strong"
    )
    request_timeout_s: float = Field(60.0, gt=0, description="time budget of one request; past it the answer is a 429")
    max_queued_claims: int = Field(256, ge=1, description="claims waiting for the model worker before new requests get a 429")
    micro_batch_claims: int = Field(32, ge=1, description="most claims the model worker runs in one batch")
    batch_window_ms: float = Field(2.0, ge=0, description="how long the model worker waits for concurrent requests to join a batch")
    torch_threads: int | None = Field(None, ge=1)
    cors_origins: list[str] = []

    @property
    def whole_reading_limit(self) -> int | None:
        """Passages of more sentences than this are read sentence by sentence only; None: every passage is read
        whole (so too with `sentence_evidence` off, which reads passages whole only)."""
        return self.max_sentences_read_whole if self.sentence_evidence else None

    @property
    def sentence_passages(self) -> int:
        """How many best-retrieved passages of a claim are also read sentence by sentence."""
        return self.verdict_passages if self.sentence_evidence else 0
