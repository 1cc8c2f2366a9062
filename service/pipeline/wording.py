"""How much of a claim's wording the text that decides a passage carries (`claim_coverage`).

A verdict needs a sentence that addresses the claim. The cosine gate (`claim_similarity`) lets through a
sentence on the claim's topic that says something else: "notify Russia about changes in U.S. posture" read
as supported by the Charter's "the Secretary-General ... shall notify the General Assembly", "Osamu
Tezuka's mother had to erase pages in his notebook" by "Tezuka died of stomach cancer in 1989". Such a
sentence shares few of the claim's words. The share counted here is that of the claim's content words
(neither stop words nor one- or two-letter words; numbers, in words or digits, kept) found in the deciding text, the passage's
section heading or its document's title: a FEVER sentence names its subject "He" and the page title
names him, and a treaty article does not say "the North Atlantic Treaty". A word counts by its first
`STEM` letters, so that "member" meets "membership", "Ukraine" "Ukrainian" and "attack" "attacks".
"""

from __future__ import annotations

import re

from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

STEM = 5
WORD = re.compile(r"[^\W_]+")
UNCOUNTED = frozenset(word for word in STOP_WORDS if not like_num(word))  # "fifteen members", "two years": the count is content


def content_words(text: str) -> set[str]:
    """The stems of the content words of `text`: lower-cased, stop words other than numbers ("fifteen") and
    words under three letters other than digits left out, each cut to its first `STEM` letters."""
    return {
        word[:STEM]
        for word in (match.group(0).lower() for match in WORD.finditer(text))
        if word not in UNCOUNTED and (len(word) > 2 or word.isdigit())
    }


def claim_coverage(claim: str, deciding_text: str, *context: str | None) -> float | None:
    """The share of the claim's content words found in the deciding text or its `context` (section heading,
    document title), rounded to 4 places; None when the claim has no content word."""
    wanted = content_words(claim)
    if not wanted:
        return None
    found = content_words(" ".join([deciding_text, *(part for part in context if part)]))
    return round(len(wanted & found) / len(wanted), 4)
