"""The negation check: a sentence that settles a negated claim settles its affirmative the other way.

Stance readers learn that a "not" in the claim goes with `refutes`. "Ukraine would not become a member
of NATO during the upcoming summit in Washington" was read as refuted by "The United States is hosting
the 2024 NATO Summit, July 9-11, 2024, in Washington, D.C.", and "Barack Obama was not born in Kenya" by
"Barack Obama was born in Honolulu, Hawaii", which the same reader also reads as refuting "Barack Obama
was born in Kenya". If a sentence refutes "X is not Y", it supports "X is Y", and the other way round.
So for a claim with one negation (`affirmative` drops it), the deciding reading of each passage that takes
a side is read once more with the affirmative; a reading that does not then take the other side (`flips`)
rests on the word, not on what the sentence says, and the passage counts as neutral for the verdict
(`Evidence.negation_consistent`).
"""

from __future__ import annotations

import re

# One negation the check can drop: "not", "never", "cannot", or a verb's "n't" (straight or curly apostrophe).
NEGATION = re.compile(r"(?<![\w-])(?:not|never|cannot|(?P<verb>[A-Za-z]+?)n['’]t)(?![\w-])", re.IGNORECASE)
# Words that negate too, but not by one word the check can drop; a claim with one is not checked.
OTHER_NEGATIONS = re.compile(r"\b(?:no|none|nobody|nothing|nowhere|neither|nor|without|hardly|ain['’]t)\b", re.IGNORECASE)
# "not" that does not negate the claim: "not only ... but", "whether or not", "if not".
NOT_A_NEGATION = re.compile(r"\bnot\s+(?:only|just|merely|least|to\s+mention)\b|\b(?:or|if)\s+not\b", re.IGNORECASE)
CONTRACTED = {"ca": "can", "wo": "will", "sha": "shall"}  # can't, won't, shan't
OTHER_SIDE = {"supports": "refutes", "refutes": "supports"}


def affirmative(claim: str) -> str | None:
    """The claim with its one negation dropped ("did not win" -> "did win", "isn't" -> "is"), or None
    when it has none, more than one, or one the check cannot drop cleanly."""
    if OTHER_NEGATIONS.search(claim) or NOT_A_NEGATION.search(claim):
        return None
    found = list(NEGATION.finditer(claim))
    if len(found) != 1:
        return None
    match = found[0]
    word = match.group(0).lower()
    if match.group("verb"):
        verb = match.group("verb")
        replacement = CONTRACTED.get(verb.lower(), verb)
        if verb.isupper() and len(verb) > 1:
            replacement = replacement.upper()
        elif verb[0].isupper():
            replacement = replacement[0].upper() + replacement[1:]
    elif word == "cannot":
        replacement = match.group(0)[:3]
    else:
        replacement = ""
    text = (claim[: match.start()] + replacement + claim[match.end() :]).strip()
    text = re.sub(r"\s{2,}", " ", re.sub(r"\s+([,.;:!?])", r"\1", text))
    text = re.sub(r"""^(["'“‘(\[])\s+""", r"\1", text)  # '"Not all ...' -> '"all ...', not '" all ...'
    first = re.search(r"[A-Za-z]", text)
    if first is None:
        return None
    if re.search(r"[A-Za-z]", claim).group(0).isupper():
        text = text[: first.start()] + text[first.start()].upper() + text[first.start() + 1 :]
    return text


def flips(probs: dict[str, float], affirmative_probs: dict[str, float]) -> bool:
    """Whether a reading that takes a side (`probs`) takes the other side when read with the affirmative."""
    side = max(probs, key=probs.get)
    return max(affirmative_probs, key=affirmative_probs.get) == OTHER_SIDE[side]
