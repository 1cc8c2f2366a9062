"""Export a verdict as schema.org ClaimReview JSON-LD, for a newsroom's CMS."""

from __future__ import annotations

from datetime import date

from service.results import ClaimResult

RATINGS = {
    "supported": (5, "Supported by the reference documents"),
    "conflicting": (3, "The reference documents conflict"),
    "not_enough_info": (3, "Not enough information in the reference documents"),
    "refuted": (1, "Contradicted by the reference documents"),
}


def claim_review(result: ClaimResult, author: str, url: str | None = None, claim_author: str | None = None) -> dict:
    """ClaimReview JSON-LD for one checked claim; the review body cites the best evidence."""
    value, label = RATINGS[result.verdict]
    decisive = [e for e in result.evidence if e.stance != "neutral"]
    cited = decisive[0] if decisive else None
    body = f"{label} (confidence {result.confidence:.2f})."
    if cited is not None:
        quote = " ".join((cited.sentence.text if cited.sentence else cited.text).split())
        source = ", ".join(
            part for part in (cited.title or cited.doc_id, cited.section, f"p. {cited.page}" if cited.page else None) if part
        )
        body += f' {source}: "{quote}"'
    item: dict = {"@type": "Claim"}
    if claim_author:
        item["author"] = {"@type": "Person", "name": claim_author}
    appearances = [{"@type": "CreativeWork", "url": e.url} for e in decisive if e.url]
    if appearances:
        item["appearance"] = appearances
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": result.claim,
        "datePublished": date.today().isoformat(),
        "author": {"@type": "Organization", "name": author},
        "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": 5, "worstRating": 1, "alternateName": label},
        "itemReviewed": item,
        "reviewBody": body,
    }
    if url:
        review["url"] = url
    return review
