"""Two kinds of line the check-worthiness model misreads, told apart by their words alone.

- A rule of law or procedure ("A retiring member can be immediately re-elected.", "Each member of the
  Security Council shall have one vote."): trained on debates, where "we will ..." and "you must ..."
  are promises and appeals, the model scores what a treaty or a statute says low (0.05-0.16), yet what
  a body, a member or an office may, shall or must do is a claim a reader can check against the text.
  `states_a_rule` finds one: a statement (no question) whose main verb carries "shall", "may", "can",
  "cannot" or "must", or says that its subject is eligible, entitled, required, obliged, permitted or
  prohibited, and whose subject is a noun (not "I", "we", "you", "they"...) naming a body, a member, an
  office or a text, or a named entity.
- A caption or credit line ("Source: NATO", "Photo credit: Reuters", "Updated: March 3, 2024"): `is_label`
  finds a known label word (or up to three words ending with one) and a colon, then a value with no verb. It says where something came from,
  not what happened.

The dev set for both, with its rule, is service/evaluation/sets/procedural_and_labels.jsonl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.pipeline.claims.token_tags import lemma

if TYPE_CHECKING:
    from spacy.tokens import Span

RULE_MODALS = {"shall", "may", "can", "cannot", "must"}
RULE_STATES = {"eligible", "entitled", "required", "obliged", "permitted", "prohibited", "authorized", "authorised", "empowered"}
INSTITUTIONS = {
    "agency", "article", "assembly", "body", "chamber", "charter", "citizen", "commission", "committee", "congress", "constitution",
    "council", "court", "delegate", "election", "government", "governor", "judge", "justice", "law", "majority", "member",
    "minister", "office", "organ", "parliament", "party", "president", "provision", "representative", "secretariat",
    "secretary", "secretary-general", "senate", "senator", "state", "statute", "term", "treaty", "tribunal", "vote",
}  # fmt: skip
NAMED = {"ORG", "GPE", "LAW", "NORP", "PERSON", "FAC", "LOC"}
LABELS = {
    "author", "caption", "chart", "contact", "credit", "credits", "data", "edited by", "editor", "graphic", "illustration",
    "image", "map", "note", "notes", "photo", "photograph", "photos", "picture", "posted", "published", "read more",
    "related", "reporting", "see also", "source", "sources", "tags", "updated", "via", "video", "watch",
}  # fmt: skip


def states_a_rule(span: Span) -> bool:
    """Whether the claim's tokens state what a body, a member, an office or a text may, shall or must do."""
    if any(token.text == "?" for token in span):
        return False
    root = span.root
    modal = any(child.dep_ == "aux" and child.lower_ in RULE_MODALS for child in root.children)
    state = lemma(root) == "be" and any(child.dep_ == "acomp" and child.lower_ in RULE_STATES for child in root.children)
    if not (modal or state or (root.lower_ in RULE_STATES and any(c.lower_ in RULE_MODALS | {"be", "is", "are"} for c in root.children))):
        return False
    subject = next((child for child in root.children if child.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None or subject.tag_ in ("PRP", "EX", "WDT", "WP"):
        return False
    words = {lemma(token).lower() for token in subject.subtree} | {token.lower_ for token in subject.subtree}
    return bool(words & INSTITUTIONS) or subject.ent_type_ in NAMED


def is_label(span: Span) -> bool:
    """Whether the claim's tokens are a caption or credit line: a known label word, a colon, and a value with no verb."""
    text = span.text
    colon = text.find(":")
    label = text[:colon].strip().lower() if colon > 0 else ""
    if not (label in LABELS or 0 < len(label.split()) <= 3 and label.split()[-1] in LABELS):  # "Photo credit"
        return False
    value = [token for token in span if token.idx - span.start_char > colon and not (token.is_punct or token.is_space)]
    return 0 < len(value) <= 12 and not any(token.tag_.startswith("VB") and token.tag_ != "VBN" or token.tag_ == "MD" for token in value)
