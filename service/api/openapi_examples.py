"""Realistic examples for the OpenAPI description: real answers of the shipped index and models
(`top_k` 1 to keep them short). `service.api.schemas` and the routes attach them; tests/api/test_openapi.py
checks that every endpoint has one and that each still validates against its model."""

from __future__ import annotations

BUILD_ID = "20261127T124743-4bb853b6"

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
    "retrieval_score": 0.6833,
    "retrieval_rank": 1,
    "stance": "supports",
    "stance_probs": {"supports": 0.9572, "refutes": 0.0107, "neutral": 0.0322},
    "sentence": {
        "start": 13416,
        "end": 13496,
        "text": "1.  The Security Council shall consist of fifteen Members of the United Nations.",
    },
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
    "retrieval_score": 0.2978,
    "retrieval_rank": 1,
    "stance": "neutral",
    "stance_probs": {"supports": 0.0045, "refutes": 0.1763, "neutral": 0.8192},
    "sentence": {"start": 7106, "end": 7156, "text": "Done at Washington, the fourth day of April, 1949."},
}

# POST /v1/verify {"claim": "The Security Council has fifteen members.", "top_k": 1}

VERIFIED = {
    "claim": "The Security Council has fifteen members.",
    "start": None,
    "end": None,
    "verdict": "supported",
    "confidence": 0.8207,
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
    "confidence": 0.6237,
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
            "confidence": 0.6237,
            "checkworthiness": 0.9296,
            "checked_as": "Finland joined NATO in April 2023.",
            "attribution": None,
            "evidence": [FINLAND_EVIDENCE],
        }
    ],
    "index_build_id": BUILD_ID,
    "seconds": 0.102,
    "skipped": [],
}

# POST /v1/claims {"text": "Finland joined NATO in April 2023. Do you agree?"}

CLAIMS = {
    "claims": [
        {
            "claim": "Finland joined NATO in April 2023.",
            "start": 0,
            "end": 34,
            "checkworthiness": 0.9296,
            "checkworthy": True,
            "checked_as": "Finland joined NATO in April 2023.",
            "attribution": None,
        },
        {
            "claim": "Do you agree?",
            "start": 35,
            "end": 48,
            "checkworthiness": 0.0448,
            "checkworthy": False,
            "checked_as": "Do you agree?",
            "attribution": None,
        },
    ],
    "skipped": [],
}

# POST /v1/verify/batch {"claims": ["The Security Council has fifteen members.", "Finland joined NATO in April 2023."], "top_k": 1}

VERIFIED_BATCH = {"results": [VERIFIED, FINLAND_VERIFIED], "index_build_id": BUILD_ID, "seconds": 1.625}

ERRORS = [
    {"error": {"code": "invalid_input", "message": "text is blank"}},
    {"error": {"code": "too_large", "message": "100001 characters; the limit is 100000 (CLAIMCHECK_MAX_TEXT_CHARS)"}},
    {"error": {"code": "not_ready", "message": "the models and the index are still loading"}},
]

# GET /v1/index (and POST /v1/admin/reload)

INDEX_MANIFEST = {
    "format_version": 1,
    "build_id": BUILD_ID,
    "built_at": "2026-11-27T12:47:43+00:00",
    "build_seconds": 11.041,
    "embedding_model": {"name": "sentence-transformers/all-MiniLM-L6-v2", "dimension": 384, "normalized": True, "metric": "inner_product"},
    "faiss_index": "IndexFlatIP",
    "index_type": {"factory": "Flat", "requested": "auto", "search_params": {}, "build_params": {}},
    "vector_store": {"kind": "faiss"},
    "chunking": {"max_words": 150, "max_sentences": 8, "overlap_sentences": 1},
    "sources": ["index/sources"],
    "document_count": 2,
    "passage_count": 141,
    "corpus_hash": "6f9c52f1ca5b0091655d612613c0a6de65da7df94ab7e96add63260cc33866c5",
    "documents": {
        "north_atlantic_treaty_1949_en.md": "29f64db77464ffdc21e44861abc172af38c2db206518de6978091841b1d14aeb",
        "un_charter_en.md": "eb1a54dba42c4f46aa101aa3ced369682da3fd6b8794e7486bd6bb88369aad3a",
    },
    "left_out": {},
    "files": {
        "documents.jsonl": {"sha256": "a1614baad6e3f9ebc4c2126f881693fc31b93e989682aaed392e9e4fcf9ce759", "bytes": 240},
        "index.faiss": {"sha256": "757fbfcd3b323266b346bce19bb683db1a23dd5324c6ee5f84a210abfc1b8b39", "bytes": 216621},
        "passages.jsonl": {"sha256": "291b980d072687029861d72b7e31f91778309cf71329e09b055d4d126a95c96d", "bytes": 83771},
        "vectors.npy": {"sha256": "a3dbbb076ebe06279f79e788b876b4e84a397dfd5b2661a972f7b8f7098772fe", "bytes": 216704},
    },
}

READY = {"status": "ready", "index_build_id": BUILD_ID, "load_seconds": 16.484, "pid": 4242}

ALIVE = {"status": "alive"}

# POST /v1/claimreview with ClaimReviewRequest's example

CLAIM_REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "claimReviewed": "The Security Council has fifteen members.",
    "datePublished": "2026-11-27",
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
        "Supported by the reference documents (confidence 0.82). Charter of the United Nations,"
        ' CHAPTER V / The Security Council / Composition / Article 23: "1. The Security Council'
        ' shall consist of fifteen Members of the United Nations."'
    ),
    "url": "https://news.example.org/fact-checks/security-council",
}


def json_example(example: dict, media_type: str = "application/json") -> dict:
    """A response entry for a route's `responses={200: ...}` that carries `example`."""
    return {"content": {media_type: {"example": example}}}
