"""The subject check: a sentence about someone else does not settle a claim about a named subject.

The reader compares what is said, not who it is said of. "Jean-Michel Basquiat died from an overdose of
heroin" was read as supported by "In 2000, Yates died of a heroin overdose", "Robert Lopez has won an
award" by "MacLachlan has won a Golden Globe Award", and "Russia has cited Ukraine's aspirations to join
NATO as one of the root causes of the conflict" by "the United States supports Ukraine's right to decide
its own future ..., including with respect to Ukraine's aspirations to join NATO". Where the subject of the
claim's main clause (of what it reports, after "said that") is a name (`claim_subject`; a claim whose other clauses
have subjects that are not names is about those too, and is not checked) that neither the deciding text, its
section heading nor its document's title mentions, and the deciding text's own subject is another name
the claim does not mention, that text reports what someone else did or is, and the passage counts as
neutral (`Evidence.other_subject`). A pronoun or a description is no other subject: a FEVER page says "He",
a treaty "The Parties", a statement "the President"; a name is a named entity of the parse, or a proper noun
without an article. Nor is a heading, a short label before a colon, or an article of a law (`subject_text`).
Names are compared by their content words (service/pipeline/wording.py), so "Ukraine" meets "Ukrainian" and a
surname meets the full name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from service.pipeline.claims.standalone import SPEECH_VERBS
from service.pipeline.claims.token_tags import lemma, pos
from service.pipeline.wording import content_words

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

NAMES = frozenset({"PERSON", "NORP", "ORG", "GPE", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})
SUBJECTS = ("nsubj", "nsubjpass")
CLAUSES = ("advcl", "ccomp", "conj")  # clauses attached to the main one that may have subjects of their own
PARSED_CHARACTERS = 600  # a passage read whole is known by its first sentence's subject (`subject_text`)
LEAD_IN_WORDS = 8
# Other names news uses for the same state or body: its capital or seat, an older spelling, a short form.
OTHER_NAMES = (
    ("ukraine", "kyiv", "kiev"),
    ("russia", "russian federation", "moscow", "kremlin"),
    ("united states", "america", "washington", "white house"),
    ("united kingdom", "britain", "great britain", "london"),
    ("european union", "brussels"),
    ("china", "people's republic of china", "beijing"),
)
_OTHER_NAMES = tuple(  # (first name, its initials when it has several words: "us", "uk", "eu"; the pattern of them all)
    (
        group[0],
        "".join(word[0] for word in group[0].split()) if " " in group[0] else None,
        re.compile(rf"\b(?:{'|'.join(map(re.escape, group))})\b"),
    )
    for group in OTHER_NAMES
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,6}\b")  # "U.S.", "EU", "NATO", "WHO"
_INSIDE_NAMES = frozenset({"of", "the", "for", "and", "on", "in", "to", "a", "an"})  # "Bank of England", "Support for Ukraine"
_HEADINGS = re.compile(r"\A(?:[ \t]*#+[^\n]*(?:\n|\Z)|[ \t]*\n)+")
_LEAD_IN = re.compile(r"(?<!\d):[*_]*\s")  # a label's colon ("Aspirations:**" in Markdown), not a time's ("10:30"); then a space


def named_subject(doc: Doc | Span) -> str | None:
    """The name that is the subject of the first sentence's main clause, or of the clause it reports after a speech
    verb; None when that subject is no name, or a law or an article ("Article 5": the text speaks for itself)."""
    root = _main_clause(doc)
    subject = None if root is None else _subject(root)
    if subject is None or subject.ent_type_ == "LAW":
        return None
    return _name(subject)


def claim_subject(claim: Doc | Span) -> str | None:
    """The name the claim is about: the subject of its main clause, or of the clause it reports after a speech verb
    ("Stoltenberg said that Ukraine must prevail": Ukraine); None when that is no name, or when a clause attached to it
    has a subject of its own that is none ("Stoltenberg made the comments as NATO countries are set to meet ...":
    the claim is also about the countries)."""
    root = _main_clause(claim)
    subject = None if root is None else _subject(root)
    if subject is None:
        return None
    for clause in (c for c in root.children if c.dep_ in CLAUSES):
        if (other := _subject(clause)) is not None and _name(other) is None:
            return None
    return _name(subject)


def _main_clause(doc: Doc | Span) -> Token | None:
    sentence = next(iter(doc.sents), None)
    if sentence is None:
        return None
    root = sentence.root
    if lemma(root) in SPEECH_VERBS:
        root = next((c for c in root.children if c.dep_ == "ccomp"), root)
    return root


def _subject(verb: Token) -> Token | None:
    return next((c for c in verb.children if c.dep_ in SUBJECTS), None)


def _name(token: Token) -> str | None:
    """The named entity `token` is part of, or the proper noun it is with the proper nouns before it ("Yates", which
    the parser names no entity); None for a pronoun, a description or a proper noun with an article ("The Parties")."""
    if token.ent_type_ in NAMES:
        return next((e.text for e in token.doc.ents if e.start <= token.i < e.end), token.text)
    if pos(token) == "PROPN" and not any(child.dep_ == "det" for child in token.children):
        return " ".join([t.text for t in token.lefts if t.dep_ == "compound" and pos(t) == "PROPN"] + [token.text])
    return None


def subject_text(text: str) -> str:
    """The part of a deciding text its subject is read from: without the Markdown heading lines that open a passage
    ("### Article 10"), without the label that opens it before a colon and a space ("Supporting Ukraine's Euro-Atlantic
    Aspirations: As the United States ...", "FACT SHEET: ...": a few words, each capitalised or a small word such as
    "of"), and at most `PARSED_CHARACTERS` long. The parser would take a heading or a label for the sentence's subject."""
    text = _HEADINGS.sub("", text)
    if (colon := _LEAD_IN.search(text)) is not None and text[colon.end() :].strip():
        words = _WORD.findall(text[: colon.start()])
        if 0 < len(words) <= LEAD_IN_WORDS and all(word[0].isupper() or word.lower() in _INSIDE_NAMES for word in words):
            text = text[colon.end() :]
    return text.strip()[:PARSED_CHARACTERS]


def other_subjects(parse: Callable[[list[str]], list[Doc]], asked: list[tuple[str, str, tuple[str | None, ...]]]) -> list[str | None]:
    """For each (claim, deciding text, context), the deciding text's subject when it is another name than the claim's
    (module docstring), else None. `context`: the passage's section heading and its document's title, which may name
    the claim's subject. `parse` (spaCy's, a list of texts at a time) reads each claim once, and a deciding text
    (its `subject_text`) only where the claim has a named subject that the text and its context do not mention."""
    claims = list(dict.fromkeys(claim for claim, _, _ in asked))
    ours = {claim: claim_subject(doc) for claim, doc in zip(claims, parse(claims), strict=True)}
    unmentioned = {
        number: subject_text(text) for number, (claim, text, context) in enumerate(asked) if not _mentioned(ours[claim], text, context)
    }
    texts = list(dict.fromkeys(unmentioned.values()))
    theirs = {text: named_subject(doc) for text, doc in zip(texts, parse(texts), strict=True)}
    found: list[str | None] = [None] * len(asked)
    for number, text in unmentioned.items():
        subject, claim = theirs[text], asked[number][0]
        if subject is not None and name_keys(subject) and not name_keys(subject) & name_keys(claim):
            found[number] = subject
    return found


def _mentioned(subject: str | None, text: str, context: tuple[str | None, ...]) -> bool:
    """Whether `text` or its context names `subject`; a claim without a named subject counts as mentioned (nothing to check)."""
    wanted = name_keys(subject) if subject is not None else frozenset()
    return not wanted or bool(wanted & name_keys(text).union(*(name_keys(part) for part in context if part)))


@lru_cache(maxsize=65536)  # a passage, heading or title is met again by every claim that retrieves it
def name_keys(text: str) -> frozenset[str]:
    """What a name, or a text that may name it, is matched by: its content words (wording.py), its acronyms ("U.S.": "us"),
    the initials of its runs of capitalised words ("European Union": "eu", "World Health Organization": "who"), and the
    first name of each group of OTHER_NAMES it uses, by any of its names or the first one's initials ("Kiev", "Kyiv":
    "ukraine"; "UK", "Britain": "united kingdom")."""
    keys = set(content_words(text))
    keys.update(acronym.replace(".", "").lower() for acronym in _ACRONYM.findall(text))
    run: list[str] = []
    for word in [*_WORD.findall(text), ""]:
        if word[:1].isupper():
            run.append(word)
        elif word.lower() not in _INSIDE_NAMES or not run:
            capitals = [w for w in run if w.lower() not in _INSIDE_NAMES]
            if len(capitals) > 1:
                keys.add("".join(w[0] for w in capitals).lower())
            run = []
    lowered = text.lower()
    keys.update(name for name, initials, pattern in _OTHER_NAMES if pattern.search(lowered) or initials in keys)
    return frozenset(keys)
