"""Claims that stand alone: what a sentence is checked as, so that it makes sense without its neighbours.

From a parsed sentence, `standalone_claims` derives one claim per independent clause ("Finland
applied in 2022, and the alliance refused a timetable" gives two), each with the tokens it came
from and the text it is checked as:

- reported speech ("Stoltenberg said that Ukraine must prevail", "according to NATO, ...") is
  checked as what was reported, with the speaker kept as its attribution, unless the speaker is a
  text ("Article 5 says ...", "the treaty states ...", "it stipulates ..."): what a text says is
  itself the claim, and the reference documents are texts;
- a subject pronoun ("It has 32 members", "Its headquarters ...") is replaced by the entity that
  was the subject of the clause before, and a reference such as "the alliance" or "the treaty"
  by the nearest fitting entity named in the last few clauses;
- a bare "Article 5" in a clause that names nothing else is completed with the text named in the
  last few clauses ("Article 5 of the North Atlantic Treaty"): the reference documents may hold
  several texts with an Article 5;
- "the former" and "the latter" are replaced by the first and the second of the two things the
  clause before coordinated ("Finland and Sweden applied in 2022. The latter joined in 2024.").

`refers_back` says why a sentence cannot be checked as it stands: a verdict on the sentence before
("That is false.", "This is not true."), or "the former" / "the latter" with no two things before.

Only the parse decides: where it gives no fitting clause structure or entity, nothing is
rewritten. A sentence too long to be one claim is cut at punctuation into pieces, not rewritten.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.pipeline.claims.markup import plain
from service.pipeline.claims.token_tags import lemma, pos

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

MAX_CLAIM_TOKENS = 120
SUBJECTS = {"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"}
SPEECH_VERBS = {
    "acknowledge", "add", "admit", "allege", "announce", "argue", "assert", "claim", "confirm", "contend", "declare",
    "emphasise", "emphasize", "explain", "insist", "maintain", "note", "report", "reveal", "say", "state", "stress",
    "tell", "testify", "tweet", "warn", "write",
}  # fmt: skip
THING = frozenset({"ORG", "GPE", "LAW", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART"})
NAMED = THING | {"PERSON", "NORP"}  # entities that name a body or a text: not dates, numbers or amounts
PRONOUNS = {**dict.fromkeys(("it", "its"), THING), **dict.fromkeys(("he", "his", "she", "her"), frozenset({"PERSON"}))}
DESCRIPTIONS = {
    **dict.fromkeys(("alliance", "organisation", "organization", "bloc", "agency", "coalition", "company"), frozenset({"ORG"})),
    **dict.fromkeys(("treaty", "charter", "convention", "agreement", "accord", "pact", "constitution"), frozenset({"LAW"})),
}
# "the alliance" and "the bloc" point back only to a body that is one: naming the word itself, or a known
# alliance. Any organisation would do for the parser ("the alliance" after "told Politico magazine" read "Politico").
GROUPINGS = {"alliance", "bloc", "coalition"}
KNOWN_GROUPINGS = {
    "nato",
    "otan",
    "csto",
    "aukus",
    "quad",
    "eu",
    "european union",
    "asean",
    "african union",
    "g7",
    "g20",
    "brics",
    "warsaw pact",
}
TEXTS = {
    "act", "agreement", "article", "accord", "chapter", "charter", "clause", "constitution", "convention", "declaration", "law",
    "pact", "paragraph", "preamble", "protocol", "provision", "resolution", "section", "statute", "text", "treaty",
}  # fmt: skip
TEXT_VERBS = {"provide", "read", "specify", "state", "stipulate"}  # what texts do, rather than people
_PART_OF_A_TEXT = re.compile(r"(?:article|chapter|clause|paragraph|section|annex|part)\b", re.I)
_CUT_AFTER = {",", ";", ":", "—", "–", ")"}
_CLOSE_QUOTE = {",", '"', "'", "”", "’", "»"}


@dataclass
class Derived:
    """A claim derived from a sentence: its source tokens and the text it is checked as."""

    span: Span
    checked_as: str
    attribution: str | None = None
    scored_as: str | None = None  # what check-worthiness reads when not the source span (a relative clause is a fragment)


@dataclass(frozen=True)
class Referent:
    """An entity that a later pronoun or reference may point back to."""

    text: str
    label: str


class Context:
    """What the last few clauses of a text named: their subjects and their entities."""

    def __init__(self, window: int = 3):
        self._clauses: deque[tuple[Referent | None, list[Referent]]] = deque(maxlen=window)
        self._pair: tuple[Referent, Referent] | None = None

    def add(self, subject: Referent | None, entities: list[Referent], pair: tuple[Referent, Referent] | None = None) -> None:
        """Note a clause: its subject, its entities, and the two things its subject coordinates, if it does."""
        self._clauses.append((subject, entities))
        self._pair = pair

    def pronoun(self, labels: frozenset[str]) -> Referent | None:
        """The subject of the clause just before, when it is an entity of a fitting kind."""
        if self._clauses:
            subject = self._clauses[-1][0]
            if subject is not None and subject.label in labels:
                return subject
        return None

    def description(self, head: str, labels: frozenset[str]) -> Referent | None:
        """The nearest clause's subject that fits "the <head>", else its last fitting entity."""
        for subject, entities in reversed(self._clauses):
            named = [e for e in ([subject] if subject else []) + entities[::-1] if not _PART_OF_A_TEXT.match(e.text)]  # not "Article 13"
            fitting = [e for e in named if e.label in labels and _names_kind(e, labels, head) or head in e.text.lower().split()]
            if fitting:
                return fitting[0]
        return None

    def pair(self) -> tuple[Referent, Referent] | None:
        """The two things the clause just before coordinated ("Finland and Sweden", "the UN Charter and the North
        Atlantic Treaty"): its subject's when it has them, else the last such pair in it."""
        return self._pair

    def document(self) -> Referent | None:
        """The nearest text named in the last clauses ("the North Atlantic Treaty", "the UN Charter")."""
        for subject, entities in reversed(self._clauses):
            for entity in ([subject] if subject else []) + entities[::-1]:
                if any(word in TEXTS for word in entity.text.lower().split()) and not _PART_OF_A_TEXT.match(entity.text):
                    return entity
        return None


def _names_kind(entity: Referent, labels: frozenset[str], head: str = "") -> bool:
    """Whether `entity` can be what a description of `labels` points back to: "the alliance" (ORG) is not
    "The North Atlantic Treaty", which the parser often labels ORG; "North Atlantic Treaty Organization" it is;
    "the alliance" or "the bloc" is a grouping of states (GROUPINGS), never any organisation."""
    name = entity.text.lower().removeprefix("the ")
    if head in GROUPINGS and name not in KNOWN_GROUPINGS and not name.endswith(("treaty organization", "treaty organisation")):
        return False
    return "LAW" in labels or name.split()[-1] not in TEXTS


def _in_place(name: str, at_start: bool) -> str:
    """A referent's name as it reads where it replaces words: "The" only at the start of the claim."""
    return name if at_start or not name.startswith("The ") else "the " + name[4:]


# The speaker's own expectation or hope, once reported speech is unwrapped: "I expect that allies will ...", "We do
# not anticipate an invitation ...". Not a claim about the world: what can be checked is that it was said.
_EXPECTATION = re.compile(
    r"^(?:I|[Ww]e)(?:['\u2019](?:d|ve|m|re)|\s+(?:would|wouldn['\u2019]t|do|don['\u2019]t|did|didn['\u2019]t|not|never|also|fully|"
    r"certainly|really|still|now|all|long|have|had|am|are))*\s+(?:expect(?:ed|ing)?|anticipat(?:e|ed|ing)|hop(?:e|ed|ing)|"
    r"predict(?:ed|ing)?)\b"
)
EXPECTATION_MESSAGE = "the speaker's own expectation or hope: what can be checked is that it was said, not whether it comes true"


def states_an_expectation(checked_as: str) -> bool:
    """Whether the text a claim is checked as is the speaker's own expectation or hope (`_EXPECTATION`)."""
    return _EXPECTATION.match(checked_as) is not None


def standalone_claims(sentence: Span, context: Context) -> list[Derived]:
    """The claims of a spaCy sentence span (edges trimmed), in order; `context` is read and extended."""
    if len(sentence) > MAX_CLAIM_TOKENS:
        return [Derived(piece, plain(piece.text)) for piece in _pieces(sentence)]
    relative = _non_restrictive_relative(sentence)
    if relative is None and (aside := _aside(sentence)) is not None:
        return _with_aside(sentence, aside, context)
    main = sentence if relative is None else _trimmed(sentence.doc[sentence.start : relative[0]])
    derived = []
    if relative is None or any(pos(token) in ("VERB", "AUX") for token in main):  # "NATO, which ..." alone says nothing
        for number, (clause, head) in enumerate(_clauses(main)):
            derived.append(_standalone(clause, head, context, derived=number > 0 or relative is not None))
    if relative is not None:
        speaker = None
        if derived:
            last = derived[-1]
            speaker = last.attribution  # a relative clause inside reported speech is the speaker's too
            if not last.checked_as.endswith((".", "!", "?")):
                derived[-1] = Derived(last.span, last.checked_as.rstrip(",;:") + ".", last.attribution)
        _, antecedent, clause = relative
        said = plain(f"{antecedent.text} {clause[1:].text}").rstrip(",;:") + "."
        said = said[:1].upper() + said[1:]
        derived.append(Derived(clause, said, speaker, scored_as=said))
    return derived


@dataclass
class Aside:
    """A non-restrictive relative clause or appositive inside a sentence, between two commas."""

    opening: int  # the comma before it
    closing: int  # the comma after it
    antecedent: Span
    claim: str  # what it asserts of its antecedent, as a sentence of its own


def _aside(sentence: Span) -> Aside | None:
    """A relative clause or appositive set off by commas inside the sentence that asserts something checkable of a
    named antecedent right before it ("Jens Stoltenberg, who was elected secretary general in 2014, said ...",
    "Mark Rutte, the former Dutch prime minister, became ..."); the sentence goes on after it. "which" must be
    attached by the parser to the antecedent, as at a sentence's end; an appositive must be a common noun's phrase
    (not a second name: "the secretary general, Jens Stoltenberg,")."""
    doc = sentence.doc
    for token in sentence:
        if token.i <= sentence.start + 1 or doc[token.i - 1].text != ",":
            continue
        if token.lower_ in ("which", "who") and token.dep_ in ("nsubj", "nsubjpass"):
            verb = token.head
            if verb.dep_ != "relcl" or verb.i < token.i or pos(verb) not in ("VERB", "AUX"):
                continue
            head, end = verb.head, max(t.i for t in verb.subtree) + 1
            said = f"{doc[token.i + 1 : end].text}"
        elif token.dep_ == "appos" or (token.dep_ == "det" and token.head.dep_ == "appos" and token.head.left_edge.i == token.i):
            appositive = token if token.dep_ == "appos" else token.head
            if pos(appositive) != "NOUN" or appositive.ent_type_:
                continue
            head, end = appositive.head, appositive.right_edge.i + 1
            said = None
        else:
            continue
        if (
            head.i != token.i - 2
            or not (pos(head) == "PROPN" or head.ent_type_ in NAMED)
            or token.lower_ == "which"
            and head.ent_type_ not in THING
        ):
            continue  # the name must end right before the comma
        if end >= sentence.end - 1 or doc[end].text != "," or not any(not (t.is_punct or t.is_space) for t in doc[end + 1 : sentence.end]):
            continue
        while head.dep_ == "pobj" and head.head.lower_ == "of" and pos(head.head.head) in ("NOUN", "PROPN"):
            head = head.head.head  # "Article 5 of the North Atlantic Treaty, which ...": what the article says
        antecedent = doc[min(t.i for t in head.subtree if t.i < token.i) : token.i - 1]
        if said is None:
            tense = "was" if sentence.root.tag_ == "VBD" and not {"former", "then"} & {t.lower_ for t in doc[token.i : end]} else "is"
            said = f"{tense} {doc[token.i : end].text}"
        claim = plain(f"{antecedent.text} {said}").rstrip(",;:") + "."
        return Aside(token.i - 1, end, antecedent, claim[:1].upper() + claim[1:])
    return None


def _with_aside(sentence: Span, aside: Aside, context: Context) -> list[Derived]:
    """The claims of a sentence with an aside: the sentence without it, its span the part (before the aside or
    after it) that holds the main verb, and the aside's own claim, its span the aside's words."""
    doc = sentence.doc
    main = _standalone(sentence, sentence.root, context, derived=True, removed=(aside.opening, aside.closing + 1))
    if not main.checked_as.endswith((".", "!", "?")):
        main.checked_as = main.checked_as.rstrip(",;:") + "."
    if main.attribution is not None:  # "Jens Stoltenberg, who was elected ..., said": the speaker without the aside
        main.attribution = main.attribution.replace(plain(doc[aside.opening : aside.closing].text), "").strip()
    before, after = _trimmed(doc[sentence.start : aside.opening]), _trimmed(doc[aside.closing + 1 : sentence.end])
    own = Derived(doc[aside.opening + 1 : aside.closing], aside.claim, scored_as=aside.claim)
    if sentence.root.i > aside.closing:
        return [own, Derived(after, main.checked_as, main.attribution, scored_as=main.checked_as)]
    return [Derived(before, main.checked_as, main.attribution, scored_as=main.checked_as), own]


def _non_restrictive_relative(sentence: Span) -> tuple[int, Span, Span] | None:
    """A relative clause set off by a comma at the end of the sentence that asserts something of a named
    antecedent ("..., Article 5 of the NATO Charter, however, which stipulates that ..."): (the comma's
    token, the antecedent entity, the clause from "which" or "who" on). It is a claim of its own; the
    sentence before the comma is another. "who" follows a person; "which" follows a text that states,
    stipulates... (the parser rarely attaches those), or a name after a preposition the parser attaches
    it to. None otherwise: after the object of a whole clause, "which" may be about the clause."""
    doc = sentence.doc
    for token in sentence:
        if token.lower_ not in ("which", "who") or token.dep_ not in ("nsubj", "nsubjpass") or token.i == sentence.start:
            continue
        verb = token.head
        if doc[token.i - 1].text != "," or pos(verb) not in ("VERB", "AUX") or verb.i < token.i:
            continue
        end = max(t.i for t in verb.subtree) + 1
        if end > sentence.end or any(not (t.is_punct or t.is_space) for t in doc[end : sentence.end]):
            continue  # the clause must end the sentence: what comes before the comma is then the main claim
        kinds = {"PERSON"} if token.lower_ == "who" else THING
        named = [e for e in doc.ents if sentence.start <= e.start and e.end <= token.i - 1 and e.label_ in kinds]
        if not named or any(not (t.is_punct or pos(t) == "ADV") for t in doc[named[-1].end : token.i - 1]):
            continue  # only punctuation and adverbs ("however") between the antecedent and the comma
        antecedent = named[-1]
        attached = (
            verb.dep_ == "relcl" and antecedent.start <= verb.head.i < antecedent.end and antecedent.root.dep_ in ("pobj", "appos", "attr")
        )
        text_speaks = lemma(verb) in TEXT_VERBS and any(word in TEXTS for word in antecedent.text.lower().split())
        if token.lower_ == "which" and not (attached or text_speaks):
            continue  # "Russia invaded Ukraine, which shocked Europe": "which" may be what happened, not Ukraine
        return token.i - 1, antecedent, doc[token.i : end]
    return None


def _standalone(clause: Span, head: Token, context: Context, derived: bool, removed: tuple[int, int] | None = None) -> Derived:
    """The claim of one clause; the tokens from `removed[0]` to `removed[1]` (an aside) are left out of what it is checked as."""
    doc = clause.doc
    (start, end), root, attribution, person_speaking = (clause.start, clause.end), head, None, None
    replacements: dict[int, tuple[int, str]] = {} if removed is None else {removed[0]: (removed[1], " ")}  # first token -> (end, text)
    if (reported := _reported(clause, head)) is not None and not _a_text(reported[1], context):
        (start, end), speaker, root = reported
        attribution, derived = plain(_pronoun_resolved(speaker, context)), True
        person_speaking = _person_in(speaker)
    elif (according := _according_to(clause, head)) is not None and not _a_text(according[1], context):
        (cut_start, cut_end), speaker = according
        replacements[cut_start] = (cut_end, "")
        attribution = plain(speaker.text)
    subject = next((c for c in root.children if c.dep_ in SUBJECTS), None)
    referent = None
    if subject is not None:
        referent = None if _contracted(subject) or subject.lower_ == "it" and _expletive(root) else _lookup_pronoun(subject, context)
        named = _named_text(subject)
        referent = referent or _entity(subject) or (Referent(named.text, "LAW") if named is not None else None)
        if pos(subject) == "PRON" and referent is not None:
            replacements[subject.i] = (subject.i + 1, _in_place(referent.text, subject.i == start))
        possessive = next((c for c in subject.children if c.dep_ == "poss"), None)
        if possessive is not None and (owner := _lookup_pronoun(possessive, context)) is not None:
            owner_name = _in_place(owner.text, possessive.i == start)
            replacements[possessive.i] = (possessive.i + 1, owner_name + ("'" if owner_name.endswith("s") else "'s"))
    for token in doc[start:end]:
        if (found := _former_or_latter(token, context)) is not None:
            replacements[token.i - 1] = (token.i + 1, _in_place(found.text, token.i - 1 == start))
            referent = found if token == subject else referent
        if (found := _description(token, context)) is not None:
            replacements[token.i - 1] = (token.i + 1, _in_place(found.text, token.i - 1 == start))
            referent = found if token == subject else referent
    number = _bare_article_number(doc[start:end], clause)
    document = context.document() if number is not None else None
    if document is not None and all(text != document.text for _, text in replacements.values()):  # not named twice
        replacements[number.i] = (number.i + 1, f"{number.text} of {_as_object(document.text)}")
    # "He made the comments ..." after reported speech means the speaker, not the reported subject
    person_speaking = person_speaking or _speaker_after(clause)
    context.add(person_speaking or referent, [Referent(e.text, e.label_) for e in clause.ents], _coordinated_pair(doc[start:end], subject))
    checked_as = plain(_render(doc[start:end], replacements)) or plain(clause.text)
    if derived:
        checked_as = _without_stray_quotes(checked_as)
    if replacements or derived:
        checked_as = checked_as[:1].upper() + checked_as[1:]
    return Derived(clause, checked_as, attribution)


def _speaker_after(clause: Span) -> Referent | None:
    """The person of a reporting clause put after what was said ("..., the secretary general, Jens
    Stoltenberg, said on Wednesday"), which the parser often leaves without a subject: a speech verb with
    no subject of its own, right after a person's name and a comma."""
    for token in clause:
        if lemma(token) not in SPEECH_VERBS or any(c.dep_ in SUBJECTS for c in token.children) or token.i < clause.start + 2:
            continue
        before = token.doc[token.i - 1]
        people = [e for e in token.doc.ents if e.label_ == "PERSON" and e.end == token.i - 1]
        if before.text == "," and people:
            return Referent(people[-1].text, "PERSON")
    return None


def _person_in(speaker: Span) -> Referent | None:
    """The person named in a speaker phrase ("the alliance's secretary general, Jens Stoltenberg"), if any."""
    people = [e for e in speaker.doc.ents if e.label_ == "PERSON" and speaker.start <= e.start and e.end <= speaker.end]
    return Referent(people[-1].text, "PERSON") if people else None


def _named_text(subject: Token) -> Span | None:
    """The subject's words when they name a text ("The UN Charter", "the Charter of the United Nations"), which
    the parser's entities often miss: a text's noun with "the" or no determiner, named by a proper noun of its
    own (a compound, or "of" and a name), and nothing more (no relative clause, no "and")."""
    if lemma(subject).lower() not in TEXTS or _PART_OF_A_TEXT.match(subject.text) or any(c.dep_ == "conj" for c in subject.children):
        return None
    lefts = list(subject.lefts)
    if any(c.dep_ == "det" and c.lower_ != "the" or c.dep_ == "poss" for c in lefts):
        return None
    of = next((c for c in subject.rights if c.dep_ == "prep" and c.lower_ == "of"), None)
    named_of = of is not None and any(pos(t) == "PROPN" for t in of.subtree)
    if not (named_of or pos(subject) == "PROPN" or any(c.dep_ == "compound" and pos(c) == "PROPN" for c in lefts)):
        return None
    start = min([subject.i] + [c.left_edge.i for c in lefts])
    return subject.doc[start : of.right_edge.i + 1 if named_of else subject.i + 1]


def _as_object(name: str) -> str:
    """A text's name as it reads after "of": "The UN Charter" -> "the UN Charter", "UN Charter" -> "the UN Charter"."""
    if name[:4].lower() == "the ":
        return "the " + name[4:]
    return name if "'s " in name or "’s " in name else f"the {name}"


def _bare_article_number(tokens: Span, clause: Span) -> Token | None:
    """The number of an "Article N" among `tokens` that says of nothing what it is an article of: not
    followed by "of", not after an owner ("NATO's Article 5", "its Article 5"), and no body or text named
    elsewhere in its `clause` ("Article 5 of the Charter", "Article 5 obliges NATO", "NATO said that Article 5 ...")."""
    articles = [t for t in tokens if t.lower_ == "article" and t.i + 1 < tokens.end and t.nbor().like_num]
    if not articles:
        return None
    if any(e.label_ in NAMED and not _PART_OF_A_TEXT.match(e.text) for e in clause.ents):
        return None
    if any(pos(t) in ("NOUN", "PROPN") and lemma(t).lower() in TEXTS - {"article"} for t in clause):
        return None
    token = articles[0]
    after = token.nbor(2) if token.i + 2 < tokens.end else None
    before = token.nbor(-1) if token.i > tokens.start else None
    if (after is not None and after.lower_ == "of") or (before is not None and (before.tag_ in ("POS", "PRP$") or before.dep_ == "poss")):
        return None
    return token.nbor()


def _contracted(token) -> bool:
    """Whether a contraction follows `token` ("It's", "He’d"), which a name in its place would misread."""
    following = token.nbor() if token.i + 1 < len(token.doc) else None
    return following is not None and not token.whitespace_ and following.text[:1] in ("'", "’")


def _expletive(verb) -> bool:
    """Whether "it" as the subject of `verb` likely points at no entity: "it is hard to say that ...", "it's Iran";
    not when it says something ("it states that ..."), as a text or a body does."""
    if lemma(verb) in SPEECH_VERBS and any(c.dep_ == "nsubj" and c.lower_ == "it" for c in verb.children):
        return False
    copula = lemma(verb) == "be"
    return any(c.dep_ in ("ccomp", "xcomp", "csubj") or (copula and c.dep_ == "attr" and pos(c) == "PROPN") for c in verb.children)


def _without_stray_quotes(text: str) -> str:
    """`text` less the quotation marks at its edges that were opened or closed outside it, and with the
    closing mark of a quotation opened inside it that ran on past its end ('would come "when allies agree')."""
    if text.count('"') % 2:
        text = text.strip('"')
        last = text.rfind('"')
        if text.count('"') % 2 and (last == 0 or text[last - 1].isspace()):
            text += '"'
    if text.count("“") != text.count("”"):
        text = text.strip("“”")
        if text.count("“") == text.count("”") + 1 and text.rfind("“") > text.rfind("”"):
            text += "”"
    return text.strip()


def _clauses(sentence: Span) -> list[tuple[Span, Token]]:
    """(tokens, head verb) of each independent clause of the sentence; the sentence itself when it
    does not split cleanly into clauses that each have their own subject and verb."""
    root = sentence.root
    heads, queue = [root], [root]
    while queue:
        head = queue.pop()
        for child in head.children:
            if _has_subject(child) and pos(child) in ("VERB", "AUX") and (_coordinated(child) or _beside_semicolon(child)):
                heads.append(child)
                queue.append(child)
    if len(heads) == 1:
        return [(sentence, root)]
    doc, head_set = sentence.doc, set(heads)
    bounds = {sentence.start, sentence.end}
    for head in heads[1:]:
        bounds |= {min(max(edge, sentence.start), sentence.end) for edge in (head.left_edge.i, head.right_edge.i + 1)}
    clauses, owners = [], set()
    for start, end in itertools.pairwise(sorted(bounds)):
        while start < end and (doc[start].is_punct or doc[start].is_space or doc[start].dep_ == "cc"):
            start += 1
        last = end == sentence.end
        while start < end and (doc[end - 1].is_space or (not last and (doc[end - 1].is_punct or doc[end - 1].dep_ == "cc"))):
            end -= 1
        if start == end:
            continue
        owner = {_nearest_head(token, head_set) for token in doc[start:end] if not token.is_punct}
        if not owner:
            continue
        if len(owner) != 1 or owners & owner:
            return [(sentence, root)]
        owners |= owner
        clauses.append((doc[start:end], owner.pop()))
    return clauses if len(owners) == len(heads) else [(sentence, root)]


def _has_subject(token) -> bool:
    return any(child.dep_ in SUBJECTS for child in token.children)


def _coordinated(token) -> bool:
    """A verb coordinated to the right of its head, after "and", "but", a comma..."""
    if token.dep_ != "conj" or token.i < token.head.i or token.left_edge.i == 0:
        return False
    before = token.doc[token.left_edge.i - 1]
    return token.left_edge.dep_ == "cc" or before.dep_ == "cc" or before.is_punct


def _beside_semicolon(token) -> bool:
    """A clause set off from its head by a semicolon."""
    doc = token.doc
    if token.dep_ not in ("ccomp", "parataxis", "conj"):
        return False
    if token.i < token.head.i:
        return token.right_edge.i + 1 < len(doc) and doc[token.right_edge.i + 1].text == ";"
    return token.left_edge.i > 0 and doc[token.left_edge.i - 1].text == ";"


def _nearest_head(token, heads: set):
    while token not in heads and token.head != token:
        token = token.head
    return token


def _reported(clause, head):
    """((start, end) of the reported content, the speaker's tokens, the content's verb) when the
    clause is reported speech such as "Stoltenberg said that Ukraine must prevail"."""
    if lemma(head) not in SPEECH_VERBS or any(c.dep_ == "neg" for c in head.children) or any(t.text == "?" for t in clause):
        return None
    speaker = next((c for c in head.children if c.dep_ == "nsubj"), None)
    content = next((c for c in head.children if c.dep_ == "ccomp" and _has_subject(c) and pos(c) in ("VERB", "AUX")), None)
    if speaker is None or content is None or any(c.dep_ == "mark" and c.lower_ in ("if", "whether") for c in content.children):
        return None
    doc = clause.doc
    start, end = max(content.left_edge.i, clause.start), min(content.right_edge.i + 1, clause.end)
    while start < end and (doc[start].is_punct or doc[start].is_space or (doc[start].dep_ == "mark" and doc[start].head == content)):
        start += 1
    while start < end and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    if end - start < 2 or (content.i < head.i and doc[end].text not in _CLOSE_QUOTE):
        return None  # content before the verb must be set off: "“Ukraine must prevail,” Stoltenberg said"
    return (start, end), _trimmed(doc[speaker.left_edge.i : speaker.right_edge.i + 1]), content


def _according_to(clause, head):
    """((start, end) of an "according to X" phrase with its comma, X's tokens)."""
    doc = clause.doc
    for child in head.children:
        if child.lower_ == "according" and child.dep_ == "prep":
            to = next((c for c in child.children if c.lower_ == "to"), None)
            source = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
            if source is None:
                return None
            start, end = child.left_edge.i, child.right_edge.i + 1
            if end < clause.end and doc[end].text == ",":
                end += 1
            elif start > clause.start and doc[start - 1].text == ",":
                start -= 1
            return (start, end), _trimmed(doc[source.left_edge.i : source.right_edge.i + 1])
    return None


def _a_text(speaker: Span, context: Context) -> bool:
    """Whether the speaker of reported speech is a text ("Article 5 of the treaty", "the Charter"), or a
    lone "it"/"this" that is one, or that nothing resolves and that a text's verb or a text named just
    before makes one."""
    root = speaker.root
    if lemma(root).lower() in TEXTS or root.ent_type_ == "LAW":
        return True
    if len(speaker) == 1 and root.lower_ in ("it", "this"):
        found = _lookup_pronoun(root, context)
        if found is None:  # a text's verb, or a text named just before: "It stipulates that ..."
            return lemma(root.head) in TEXT_VERBS or context.document() is not None
        return found.label == "LAW" or any(word in TEXTS for word in found.text.lower().split())
    return False


def _pronoun_resolved(tokens: Span, context: Context) -> str:
    """The text of `tokens`, or what the context resolves it to when it is a lone pronoun ("He")."""
    found = _lookup_pronoun(tokens[0], context) if len(tokens) == 1 else None
    return tokens.text if found is None else found.text


def _lookup_pronoun(token, context: Context) -> Referent | None:
    labels = PRONOUNS.get(token.lower_)
    return context.pronoun(labels) if labels is not None and pos(token) == "PRON" else None


def _description(token, context: Context) -> Referent | None:
    """What "the alliance", "the treaty"... (just "the" and the noun) points back to, if anything."""
    labels = DESCRIPTIONS.get(token.lower_)
    if labels is None or pos(token) != "NOUN" or token.ent_type_ or token.i == 0:
        return None
    children = list(token.children)
    det = token.doc[token.i - 1]
    if children != [det] or det.lower_ != "the" or det.dep_ != "det":
        return None
    return context.description(token.lower_, labels)


ASIDES = {"intj", "npadvmod", "parataxis", "discourse", "cc"}  # "Well", a name addressed, "you know", "And"
JUDGEMENTS = {
    "true",
    "untrue",
    "false",
    "wrong",
    "right",
    "correct",
    "incorrect",
    "lie",
    "nonsense",
    "misleading",
    "accurate",
    "inaccurate",
}


def refers_back(sentence: Span, context: Context) -> str | None:
    """Why `sentence` cannot be checked as it stands, or None: a verdict on what came before ("That is false.",
    "This is simply not true."), which says nothing of its own, or "the former" / "the latter" that no two
    things just before resolve."""
    root = sentence.root
    subjects = [c for c in root.children if c.dep_ in SUBJECTS]
    subject = subjects[-1] if subjects else None  # "Donald, that's not true": the name addressed parses as a subject too
    addressed = [c for c in subjects[:-1] if c.right_edge.i + 1 < len(c.doc) and c.doc[c.right_edge.i + 1].text == ","]
    asides = {t.i for c in root.children if c.dep_ in ASIDES or c in addressed for t in c.subtree}  # "Well, Donald, you know, ..."
    words = [t for t in sentence if not (t.is_punct or t.is_space or t.i in asides)]
    if (
        subject is not None
        and subject.lower_ in ("that", "this", "it")
        and lemma(root) == "be"
        and len(words) <= 6
        and any(c.dep_ in ("acomp", "attr") and c.lower_ in JUDGEMENTS for c in root.children)
    ):
        return "a verdict on what came before, not a claim of its own: the sentence it judges is checked instead"
    if any(_is_former_or_latter(t) for t in sentence) and context.pair() is None:
        return '"the former" or "the latter" with no two things just before to point back to'
    return None


def _coordinated_pair(tokens: Span, subject) -> tuple[Referent, Referent] | None:
    """The two noun phrases coordinated by the subject of `tokens`, else by the last noun that coordinates exactly two."""
    heads = [t for t in tokens if pos(t) in ("NOUN", "PROPN") and [c.dep_ for c in t.children].count("conj") == 1]
    head = subject if subject in heads else (heads[-1] if heads else None)
    if head is None:
        return None
    second = next(c for c in head.children if c.dep_ == "conj")
    if pos(second) not in ("NOUN", "PROPN") or any(c.dep_ == "conj" for c in second.children):
        return None
    doc = head.doc
    first, second_span = _trimmed(doc[head.left_edge.i : head.i + 1]), _trimmed(doc[second.left_edge.i : second.right_edge.i + 1])
    return Referent(first.text, first.root.ent_type_), Referent(second_span.text, second_span.root.ent_type_)


def _is_former_or_latter(token) -> bool:
    """ "former" or "latter" after "the", standing for a name rather than describing a noun ("the former president")."""
    if token.lower_ not in ("former", "latter") or token.i == 0 or token.doc[token.i - 1].lower_ != "the":
        return False
    return token.dep_ in SUBJECTS | {"dobj", "pobj", "attr", "conj", "ROOT", "appos"} or pos(token) in ("NOUN", "PRON")


def _former_or_latter(token, context: Context) -> Referent | None:
    """What "the former" or "the latter" points back to: the first or the second thing the clause before coordinated."""
    if not _is_former_or_latter(token) or (pair := context.pair()) is None:
        return None
    return pair[0] if token.lower_ == "former" else pair[1]


def _entity(token) -> Referent | None:
    """The entity that `token` is part of, if any."""
    if not token.ent_type_:
        return None
    return next((Referent(e.text, e.label_) for e in token.doc.ents if e.start <= token.i < e.end), None)


def _trimmed(tokens: Span) -> Span:
    """`tokens` without punctuation and whitespace at the edges (unchanged when nothing else is left)."""
    words = [t.i for t in tokens if not (t.is_punct or t.is_space)]
    return tokens.doc[words[0] : words[-1] + 1] if words else tokens


def _render(tokens: Span, replacements: dict[int, tuple[int, str]]) -> str:
    """The text of `tokens` with the token ranges in `replacements` replaced."""
    doc, parts, i = tokens.doc, [], tokens.start
    while i < tokens.end:
        if i in replacements:
            end, text = replacements[i]
            parts.append(text + doc[min(end, tokens.end) - 1].whitespace_ if text else "")
            i = end
        else:
            parts.append(doc[i].text_with_ws)
            i += 1
    return "".join(parts)


def _pieces(sentence: Span) -> list[Span]:
    """An over-long sentence cut into spans of at most MAX_CLAIM_TOKENS tokens, after punctuation
    in the second half of each where there is some."""
    doc, pieces, start = sentence.doc, [], sentence.start
    while start < sentence.end:
        end = min(start + MAX_CLAIM_TOKENS, sentence.end)
        if end < sentence.end:
            end = next((i + 1 for i in range(end - 1, start + MAX_CLAIM_TOKENS // 2, -1) if doc[i].text in _CUT_AFTER), end)
        pieces.append(_trimmed(doc[start:end]))
        start = end
    return pieces
