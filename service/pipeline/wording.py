"""How much of a claim's wording the text that decides a passage carries (`claim_coverage`).

A verdict needs a sentence that addresses the claim. The cosine gate (`claim_similarity`) lets through a
sentence on the claim's topic that says something else: "notify Russia about changes in U.S. posture" read
as supported by the Charter's "the Secretary-General ... shall notify the General Assembly", "Osamu
Tezuka's mother had to erase pages in his notebook" by "Tezuka died of stomach cancer in 1989". Such a
sentence shares few of the claim's words. The share counted here is that of the claim's content words
(neither stop words nor one- or two-letter words other than "UN" or "EU"; numbers, in words or digits, kept)
found in the deciding text, the passage's section heading or its document's title: a FEVER sentence names
its subject "He" and the page title names him, and a treaty article does not say "the North Atlantic
Treaty". A word counts by its first `STEM` letters, so that "member" meets "membership", "Ukraine"
"Ukrainian" and "attack" "attacks"; a number in digits counts whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

STEM = 5
# a number as one word ("2,000", "9.5"), else a run of letters and digits ("Ukraine's" -> "Ukraine", "s"; "COVID19")
WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+")
NOT = re.compile(r"n['’]t\b", re.IGNORECASE)  # "doesn't" -> "does not": no "doesn" left as a word
UNCOUNTED = frozenset(word for word in STOP_WORDS if not like_num(word))  # "fifteen members", "two years": the count is content


@lru_cache(maxsize=65536)  # a passage, heading or title is met again by every claim that retrieves it
def content_words(text: str) -> frozenset[str]:
    """The stems of the content words of `text`: lower-cased, stop words other than numbers ("fifteen") and
    words under three letters other than capitalised ones ("UN", "EU") left out, each cut to its first `STEM`
    letters; a number in digits is kept whole, without its thousands separators ("2,000" meets "2000")."""
    words = set()
    for match in WORD.finditer(NOT.sub(" not", text)):
        word = match.group(0)
        if word[0].isdigit():
            words.add(re.sub(r",(?=\d{3}\b)", "", word))
        elif word.lower() not in UNCOUNTED and (len(word) > 2 or (len(word) == 2 and word.isupper())):
            words.add(word.lower()[:STEM])
    return frozenset(words)


def claim_coverage(claim: str, deciding_text: str, *context: str | None) -> float | None:
    """The share of the claim's content words found in the deciding text or its `context` (section heading,
    document title), rounded to 4 places; None when the claim has no content word."""
    wanted = content_words(claim)
    if not wanted:
        return None
    found = content_words(deciding_text).union(*(content_words(part) for part in context if part))
    return round(len(wanted & found) / len(wanted), 4)
