"""Realistic examples for the OpenAPI description: real answers of the shipped index and models
(`top_k` 1 to keep them short). `service.api.schemas` and the routes attach them; tests/api/test_openapi.py
checks that every endpoint has one and that each still validates against its model."""

from __future__ import annotations

BUILD_ID = "20261207T195629-433b5bda"

SECURITY_COUNCIL_EVIDENCE = {
    "doc_id": "un_charter_en.md",
    "title": "Charter of the United Nations",
    "url": None,
    "text": (
        "### CHAPTER  V  \n\n####The Security Council\n\n####Composition\n\n### Article  23  \n\n1.  The"
        " Security Council shall consist of fifteen Members of the United Nations. The Republic of"
        " China, France, the Union of Soviet Socialist Republics, the United Kingdom of Great"
        " Britain and Northern Ireland, and the United States of America shall be permanent members"
        " of the Security Council. The General Assembly shall elect ten other Members of the United"
        " Nations to be non-permanent members of the Security Council, due regard being specially"
        " paid, in the first instance to the contribution of Members of the United Nations to the"
        " maintenance of international peace and security and to the other purposes of the"
        " Organization, and also to equitable geographical distribution.   \n2.  The non-permanent"
        " members of the Security Council shall be elected for a term of two years."
    ),
    "start": 13336,
    "end": 14195,
    "section": "CHAPTER V / The Security Council / Composition / Article 23",
    "page": None,
    "retrieval_score": 0.6745,
    "retrieval_rank": 1,
    "stance": "supports",
    "stance_probs": {"supports": 0.926, "refutes": 0.0185, "neutral": 0.0554},
    "sentence": {
        "start": 13416,
        "end": 13496,
        "text": "1.  The Security Council shall consist of fifteen Members of the United Nations.",
    },
    "claim_similarity": 0.8406,
    "claim_coverage": 1.0,
    "decides": True,
    "negation_consistent": None,
    "other_subject": None,
}

FINLAND_EVIDENCE = {
    "doc_id": "north_atlantic_treaty_1949_en.md",
    "title": "North Atlantic Treaty",
    "url": None,
    "text": (
        "### Article  14  \n\nThis Treaty, of which the English and French texts are equally"
        " authentic, shall be deposited in the archives of the Government of the United States of"
        " America. Duly certified copies thereof will be transmitted by that Government to the"
        " Governments of the other signatories.  \n\nIn witness whereof, the undersigned"
        " plenipotentiaries have signed this Treaty. Done at Washington, the fourth day of April,"
        " 1949."
    ),
    "start": 6731,
    "end": 7156,
    "section": "Article 14",
    "page": None,
    "retrieval_score": 0.2978,
    "retrieval_rank": 1,
    "stance": "neutral",
    "stance_probs": {"supports": 0.0134, "refutes": 0.1265, "neutral": 0.8601},
    "sentence": {"start": 7106, "end": 7156, "text": "Done at Washington, the fourth day of April, 1949."},
    "claim_similarity": 0.1877,
    "claim_coverage": 0.2,
    "decides": False,
    "negation_consistent": None,
    "other_subject": None,
}

# POST /v1/verify {"claim": "The Security Council has fifteen members.", "top_k": 1}

VERIFIED = {
    "claim": "The Security Council has fifteen members.",
    "start": None,
    "end": None,
    "verdict": "supported",
    "confidence": 0.8472,
    "checkworthiness": None,
    "checked_as": "The Security Council has fifteen members.",
    "attribution": None,
    "evidence": [SECURITY_COUNCIL_EVIDENCE],
}

FINLAND_VERIFIED = {
    "claim": "Finland joined NATO in April 2023.",
    "start": None,
    "end": None,
    "verdict": "not_enough_info",
    "confidence": 0.7631,
    "checkworthiness": None,
    "checked_as": "Finland joined NATO in April 2023.",
    "attribution": None,
    "evidence": [FINLAND_EVIDENCE],
}

# POST /v1/check {"text": "Finland joined NATO in April 2023.", "top_k": 1}

CHECKED = {
    "claims": [
        {
            "claim": "Finland joined NATO in April 2023.",
            "start": 0,
            "end": 34,
            "verdict": "not_enough_info",
            "confidence": 0.7631,
            "checkworthiness": 0.9281,
            "checked_as": "Finland joined NATO in April 2023.",
            "attribution": None,
            "evidence": [FINLAND_EVIDENCE],
        }
    ],
    "index_build_id": BUILD_ID,
    "seconds": 0.098,
    "skipped": [],
}

# POST /v1/claims {"text": "Finland joined NATO in April 2023. Do you agree?"}

CLAIMS = {
    "claims": [
        {
            "claim": "Finland joined NATO in April 2023.",
            "start": 0,
            "end": 34,
            "checkworthiness": 0.8812,
            "checkworthy": True,
            "checked_as": "Finland joined NATO in April 2023.",
            "attribution": None,
        },
        {
            "claim": "Do you agree?",
            "start": 35,
            "end": 48,
            "checkworthiness": 0.0788,
            "checkworthy": False,
            "checked_as": "Do you agree?",
            "attribution": None,
        },
    ],
    "skipped": [],
}

# POST /v1/verify/batch {"claims": ["The Security Council has fifteen members.", "Finland joined NATO in April 2023."], "top_k": 1}

VERIFIED_BATCH = {"results": [VERIFIED, FINLAND_VERIFIED], "index_build_id": BUILD_ID, "seconds": 0.134}

ERRORS = [
    {"error": {"code": "invalid_input", "message": "text is blank"}},
    {"error": {"code": "too_large", "message": "100001 characters; the limit is 100000 (CLAIMCHECK_MAX_TEXT_CHARS)"}},
    {"error": {"code": "not_ready", "message": "the models and the index are still loading"}},
]

# GET /v1/index (and POST /v1/admin/reload)

INDEX_MANIFEST = {
    "format_version": 1,
    "build_id": BUILD_ID,
    "built_at": "2026-12-07T19:56:29+00:00",
    "build_seconds": 17.237,
    "embedding_model": {
        "name": "sentence-transformers/all-MiniLM-L6-v2",
        "dimension": 384,
        "normalized": True,
        "metric": "inner_product",
        "passages": "fp32",
    },
    "faiss_index": "IndexFlatIP",
    "index_type": {"factory": "Flat", "requested": "auto", "search_params": {}, "build_params": {}},
    "vector_store": {"kind": "faiss"},
    "chunking": {"max_words": 150, "max_sentences": 8, "overlap_sentences": 1},
    "sources": ["index/sources"],
    "document_count": 2,
    "passage_count": 141,
    "corpus_hash": "4b7dc324635fc0e220b0e6720d5270d5dfbd09e56330dda53f8b2a8f3f5d3c7c",
    "documents": {
        "north_atlantic_treaty_1949_en.md": "0b56e7587b19ef37fa01457ad57f771fa0998899e2227e5418d063a081e0007b",
        "un_charter_en.md": "da63d345f373615faa83d352802730516ead938c929b30f1b4b3a641b75f0220",
    },
    "left_out": {},
    "files": {
        "documents.jsonl": {"sha256": "a1614baad6e3f9ebc4c2126f881693fc31b93e989682aaed392e9e4fcf9ce759", "bytes": 240},
        "index.faiss": {"sha256": "30bbca349493034a1d6da21e5e833088325853e81f50f4ddf4c436d0756624b9", "bytes": 216621},
        "passages.jsonl": {"sha256": "64d7d775da85f275e8493bc1ebfbf24175e69aa8b0ceb94b248edc32eeb9db45", "bytes": 85755},
        "vectors.npy": {"sha256": "d0adddbbfefbb412f00f4acbdebe52db754c552a821b402fed74840279a6be57", "bytes": 216704},
    },
}

READY = {"status": "ready", "index_build_id": BUILD_ID, "load_seconds": 18.284, "pid": 4242}

ALIVE = {"status": "alive"}

# POST /v1/claimreview with ClaimReviewRequest's example

CLAIM_REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "claimReviewed": "The Security Council has fifteen members.",
    "datePublished": "2026-12-07",
    "author": {"@type": "Organization", "name": "Example Newsroom"},
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": 5,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Supported by the reference documents",
    },
    "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A speaker"}},
    "reviewBody": (
        "Supported by the reference documents (confidence 0.85). Charter of the United Nations,"
        ' CHAPTER V / The Security Council / Composition / Article 23: "1. The Security Council'
        ' shall consist of fifteen Members of the United Nations."'
    ),
    "url": "https://news.example.org/fact-checks/security-council",
}


def json_example(example: dict, media_type: str = "application/json") -> dict:
    """A response entry for a route's `responses={200: ...}` that carries `example`."""
    return {"content": {media_type: {"example": example}}}
