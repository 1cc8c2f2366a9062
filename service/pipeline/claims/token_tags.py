"""Part of speech and lemma on demand, for the few tokens the claim rules read.

spaCy's attribute ruler and lemmatizer label every token, and for claim extraction that was
about an eighth of spaCy's time, while service/pipeline/claims/standalone.py reads `pos_` and `lemma_` of a few
tokens per sentence. `use_on_demand_tags(nlp)` turns those two components off and adds one
that only marks each doc; `pos(token)` and `lemma(token)` then label a token the first time
they are asked, with the same ruler patterns and lemmatizer, so the answers are spaCy's own
(tests/pipeline/claims/test_standalone.py compares them token by token with the full pipeline). Read through
these two functions: `token.pos_`, `token.lemma_`, `token.morph` and `doc.noun_chunks` stay
empty for tokens nobody asked about. Patterns added to the ruler after loading are not seen.
"""

from __future__ import annotations

from weakref import WeakValueDictionary

import numpy as np
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.tokens._retokenize import set_token_attrs

COMPONENT = "on_demand_tags"
RULER, LEMMATIZER = "attribute_ruler", "lemmatizer"
READABLE = {"TAG", "DEP", "LOWER", "ORTH", "TEXT", "IS_SPACE"}  # each a function of the token's text, tag and dependency
TRIGGER = "on_demand_tags_longer_rule"
_LABELLERS: WeakValueDictionary[int, OnDemandTags] = WeakValueDictionary()  # by id(vocab): docs carry a flag, not the object


class OnDemandTags:
    """The pipeline's attribute ruler and lemmatizer, applied one token at a time.

    Rules of one token are matched against that token alone, once per (text, tag, dependency):
    they read nothing else. Rules of several tokens are matched in the token's neighbourhood, only
    when the token fits the part of the rule that would label it."""

    CACHE_LIMIT = 100_000

    def __init__(self, nlp: Language):
        self.ruler = nlp.get_pipe(RULER)
        self.lemmatizer = nlp.get_pipe(LEMMATIZER)
        entries = self.ruler.patterns
        read = {key for entry in entries for pattern in entry["patterns"] for spec in pattern for key in spec}
        if not read <= READABLE:
            raise ValueError(f"the attribute ruler's patterns read {sorted(read - READABLE)}: on-demand labels would be wrong")
        self.single = Matcher(nlp.vocab)  # rules of one token, and the labelling token of each longer rule
        self.widest = 1
        for attr_id, entry in enumerate(entries):
            for pattern in entry["patterns"]:
                if len(pattern) == 1:
                    self.single.add(str(attr_id), [pattern])
                else:
                    self.single.add(TRIGGER, [[pattern[entry["index"]]]])
                    self.widest = max(self.widest, len(pattern))
        self._trigger = nlp.vocab.strings[TRIGGER]
        self._cache: dict[tuple[int, int, int], tuple[list[int], bool]] = {}
        _LABELLERS[id(nlp.vocab)] = self

    def __call__(self, doc: Doc) -> Doc:
        """Mark `doc` for on-demand labels, and label its whitespace tokens now: the ruler rewrites
        their tag and dependency, which the rules read. Their neighbours go first, as the ruler
        matches the whole doc before it writes anything."""
        doc.user_data[COMPONENT] = True
        spaces = [int(i) for i in np.flatnonzero(doc.to_array(IS_SPACE))]
        for i in spaces:
            for j in range(max(0, i - self.widest + 1), min(len(doc), i + self.widest)):
                if not doc[j].is_space:
                    self.label(doc[j])
        for i in spaces:
            self.label(doc[i])
        return doc

    def label(self, token: Token) -> None:
        """Set the token's part of speech, morphology and lemma as the two components would."""
        if token.pos != 0:
            return
        key = (token.orth, token.tag, token.dep)
        if (found := self._cache.get(key)) is None:
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            matches = self.single(token.doc[token.i : token.i + 1], allow_missing=True, as_spans=False)
            ids = [int(self.ruler.vocab.strings[m]) for m, _, _ in matches if m != self._trigger]
            found = self._cache[key] = (ids, any(m == self._trigger for m, _, _ in matches))
        ids, triggered = found
        if triggered:
            ids = ids + self._longer_rules(token)
        for attr_id in sorted(ids):
            set_token_attrs(token, self.ruler.attrs[attr_id])
        if token.lemma == 0:
            token.lemma_ = self.lemmatizer.lemmatize(token)[0]

    def _longer_rules(self, token: Token) -> list[int]:
        """The rules of several tokens that label `token`, matched in its neighbourhood."""
        doc, i = token.doc, token.i
        window = doc[max(0, i - self.widest + 1) : min(len(doc), i + self.widest)]
        found = []
        for match_id, start, end in self.ruler.matcher(window, allow_missing=True, as_spans=False):
            if end - start < 2:
                continue
            attr_id = int(self.ruler.vocab.strings[match_id])
            index = self.ruler.indices[attr_id]
            if window.start + start + (index if index >= 0 else end - start + index) == i:
                found.append(attr_id)
        return found


@Language.factory(COMPONENT)
def _make_on_demand_tags(nlp: Language, name: str) -> OnDemandTags:
    return OnDemandTags(nlp)


def use_on_demand_tags(nlp: Language) -> Language:
    """Replace `nlp`'s attribute ruler and lemmatizer by on-demand labelling (`pos`, `lemma`)."""
    if RULER in nlp.pipe_names and LEMMATIZER in nlp.pipe_names:
        nlp.add_pipe(COMPONENT, last=True)
        nlp.disable_pipe(RULER)
        nlp.disable_pipe(LEMMATIZER)
    return nlp


def _labelled(token: Token) -> Token:
    if token.doc.user_data.get(COMPONENT) and (labeller := _LABELLERS.get(id(token.doc.vocab))) is not None:
        labeller.label(token)
    return token


def pos(token: Token) -> str:
    """The token's universal part of speech (`token.pos_` of the full pipeline)."""
    return _labelled(token).pos_


def lemma(token: Token) -> str:
    """The token's lemma (`token.lemma_` of the full pipeline)."""
    return _labelled(token).lemma_
