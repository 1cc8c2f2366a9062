"""What the pipeline refuses to check: a blank text, a claim with nothing to read."""

from __future__ import annotations

from service.errors import InvalidInput
from service.pipeline.claims.markup import plain


def claim_problem(claim: str) -> str | None:
    """Why `claim` cannot be checked ("is blank", nothing to read), or None."""
    text = plain(claim)
    if not text:
        return "is blank"
    if not any(character.isalnum() for character in text):
        return "has no letter or digit to check"
    return None


def require_claims(claims: list[str]) -> None:
    for number, claim in enumerate(claims):
        if problem := claim_problem(claim):
            raise InvalidInput(f"claims.{number} {problem}")


def require_text(text: str) -> None:
    if not plain(text):  # whitespace, invisible characters and space entities alone
        raise InvalidInput("text is blank")
