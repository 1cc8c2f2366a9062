"""Pairs made from a reference corpus's own sentences: the claims a sentence settles, and one it does not.

The stance reader learned from encyclopaedia, science and caption pairs, and misreads legal text: refuted
paraphrases of treaty provisions mostly read neutral, "not more than five" against "no more than five" reads
refutes. Each sentence of a corpus that can stand as a claim gives up to three pairs, its sentence (or its short
passage, read whole as the service reads it) as the premise:

- `supports`: the sentence as news would say it (`news_register`: "shall" -> "will", "the present Charter" ->
  "the UN Charter", "not more than" -> "no more than"), a third of them with a number spelled the other way
  ("fifteen" -> "15", `respelled_number`);
- `refutes`: the same claim with one fact changed: a number (`swapped_number`: "fifteen" -> "sixteen", "1949" ->
  "1951", "two-thirds" -> "three-quarters"; never a bound such as "no more than five", which a larger number
  would not contradict, an amount of money, a decimal or an article's number), else a place named in the corpus
  (`swapped_place`), else the main verb negated (`negated_main_verb`); none for a claim that negates already;
- `neutral`: the claim of the next sentence against this sentence alone (`sentence_pairs`): the same text, not
  the same content, unless the two share most of their content words.

Two corpora, one `source` each (`CORPUS_SOURCES`): the shipped treaties (`corpus-treaty`), less what the
treaty-settled benchmark tests in any split (`treaty_pairs`: the articles it cites and any passage restating a
claim), so that it still measures text the reader has not trained on; and the news sentences of the White House
statements' train split (`corpus-news`; `hard_neutrals.news_sentences` keeps the near-topic benchmark's documents
out). Train only. Deterministic: every choice is by hash. Under distillation these pairs learn their gold label
alone (`stance.gold_only`). docs/training.md has what they did.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from service.config import MAX_SENTENCES_READ_WHOLE  # a passage this short the service also reads whole
from service.training.datasets import StancePair

CORPUS_SOURCES = {"treaty": "corpus-treaty", "news": "corpus-news"}
NEWS_CAP = 3000  # news sentences in train (--corpus-pairs NEWS)
MIN_WORDS, MAX_WORDS = 6, 60
MAX_SHARED_CONTENT = 0.5  # a treaty sentence sharing more of a benchmark claim's content words is held out

# The titles the treaty-settled set names its sources by ("UN Charter, Article 23"), and their files.
SET_DOCUMENTS = {"North Atlantic Treaty": "north_atlantic_treaty_1949_en.md", "UN Charter": "un_charter_en.md"}

NEWS_REGISTER = (
    (r"\bshall not\b", "will not"),
    (r"\bshall\b", "will"),
    (r"\bthe present Charter\b(?! of)", "the UN Charter"),
    (r"\bthis Treaty\b", "the treaty"),
    (r"\bthe Organization\b(?! (?:for|of)\b)", "the UN"),
    (r"\bMembers of the United Nations\b(?! [A-Z])", "UN member states"),
    (r"\bnot more than\b", "no more than"),
    (r"\bthe Parties\b(?! to\b)", "the allies"),
)

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_TENS_PATTERN = r"(?:" + "|".join(_TENS) + r")(?:-?(?:" + "|".join(_UNITS[1:10]) + r"))?"
_WORD_NUMBER = r"(?:" + _TENS_PATTERN + "|" + "|".join(sorted(_UNITS[1:], key=len, reverse=True)) + r")"
_FRACTIONS = ("one-half", "one-third", "two-thirds", "one-quarter", "three-quarters")
# A count, a year or a fraction; not part of a decimal, an amount of money or a larger number in words.
NUMBER = re.compile(
    r"(?<![\w.,:$\u00a3\u20ac-])(?P<number>\d{1,4}|" + _WORD_NUMBER + r"|" + "|".join(_FRACTIONS) + r")"
    r"(?![\w-]|[.,:]\d|\s+(?:and\s+)?(?:hundred|thousand|thirds?|quarters?|halves|fifths?)\b)",
    re.IGNORECASE,
)
# A number after these words is a bound, a name or one of a list, not a fact a different number contradicts.
BOUND_OR_NAME = re.compile(
    r"(?:\b(?:more|less|fewer|least|most|up to|over|under|above|below|exceeding|exceed|exceeds|within|than|minimum of|"
    r"maximum of)\s+$)"
    r"|(?:\b(?:hundred|thousand)\s+(?:and\s+)?$)"
    r"|(?:\b(?:Articles?|Chapters?|paragraphs?)\s+(?:\d+\s*(?:,|and|or|to)\s*)*$)",
    re.IGNORECASE,
)
BOUND_AFTER = re.compile(r"^\s*(?:or|and)\s+(?:more|less|fewer|over|under|above|below)\b|^\s*\+", re.IGNORECASE)
ENUMERATION = re.compile(r"^\s*(?:\d+\.|[a-z]\.|\([a-z]\))\s*")
CONTEXT_BOUND = re.compile(r"^(?:It|Its|They|Their|He|She|This|These|Those|Such|Each of them)\b")
PLACE_NAME = re.compile(r"[A-Z][a-z\u00e0-\u00ff]+(?:[ -][A-Z][a-z\u00e0-\u00ff]+)*")
ARTICLE = re.compile(r"\bArticle \d+$")  # the article a passage's section heading path ends in
SUBORDINATE = re.compile(r"\b(?:which|who|whom|whose|that|if|when|whether|unless|where|while|because|although)\b", re.IGNORECASE)


def is_claim_like(sentence: str) -> bool:
    """Whether a sentence can stand as a claim on its own, by its text: MIN_WORDS to MAX_WORDS words, a capital
    after any list number, a full stop at the end (not a list item ending in ";"), no pronoun to resolve first."""
    text = ENUMERATION.sub("", sentence).strip()
    return (
        MIN_WORDS <= len(text.split()) <= MAX_WORDS
        and text[:1].isupper()
        and text.endswith((".", '."', ".\u201d"))
        and not CONTEXT_BOUND.match(text)
    )


def has_subject_and_verb(doc) -> bool:
    """Whether the parse of a claim is a clause: a verb (or auxiliary) at its root with a subject of its own, not a
    fragment such as "To be a center for harmonizing ..."."""
    roots = [token for token in doc if token.dep_ == "ROOT"]
    return (
        len(roots) == 1
        and roots[0].pos_ in ("VERB", "AUX")
        and any(child.dep_ in ("nsubj", "nsubjpass", "expl") for child in roots[0].children)
    )


def _choice(*parts: object) -> int:
    """A fixed pseudo-random number for `parts`: the same choice whatever the order pairs are made in."""
    digest = hashlib.sha256("\x00".join(["claimcheck-corpus-pairs-v1", *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def news_register(sentence: str) -> str:
    """The sentence as news would put it: its list number dropped, legal wording rewritten (`NEWS_REGISTER`)."""
    text = ENUMERATION.sub("", sentence).strip()
    for pattern, replacement in NEWS_REGISTER:
        text = re.sub(pattern, replacement, text)
    return text[:1].upper() + text[1:]


def number_value(word: str) -> int | None:
    """The value of a number written in digits or in words up to ninety-nine; None for any other word."""
    word = word.lower()
    if word.isdigit():
        return int(word)
    if word in _UNITS:
        return _UNITS.index(word)
    for tens, name in enumerate(_TENS, start=2):
        if word.startswith(name):
            rest = word[len(name) :].lstrip("-")
            return tens * 10 + (_UNITS.index(rest) if rest else 0)
    return None


def number_words(value: int) -> str:
    """A number from 1 to 99 in words, hyphenated ("fifty-four")."""
    if value < 20:
        return _UNITS[value]
    tens, units = divmod(value, 10)
    return _TENS[tens - 2] + (f"-{_UNITS[units]}" if units else "")


def _numbers(text: str) -> list[re.Match]:
    return [
        match
        for match in NUMBER.finditer(text)
        if not BOUND_OR_NAME.search(text[: match.start()]) and not BOUND_AFTER.match(text[match.end() :])
    ]


def _same_case(replacement: str, original: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def respelled_number(claim: str) -> str | None:
    """The claim with its first number from 2 to 99 (a count: not a bound, a name, a percentage) in digits
    written in words, or in words written in digits; None when it has none."""
    for match in _numbers(claim):
        word = match.group("number")
        value = number_value(word)
        if value is None or not 2 <= value <= 99 or claim[match.end() :].lstrip().startswith(("%", "percent")):
            continue
        spelled = number_words(value) if word.isdigit() else str(value)
        return claim[: match.start()] + _same_case(spelled, word) + claim[match.end() :]
    return None


def swapped_number(claim: str, seed: int = 0) -> str | None:
    """The claim with its first number (not a bound, a name, one of a list) changed, written the same way: a
    year by one to five years, a count to another count the claim does not name, a fraction to another
    fraction; None when it has none."""
    named = {number_value(match.group("number")) for match in NUMBER.finditer(claim)}
    for match in _numbers(claim):
        word = match.group("number")
        key = _choice("number", seed, claim)
        if word.lower() in _FRACTIONS:
            others = [fraction for fraction in _FRACTIONS if fraction != word.lower()]
            changed = others[key % len(others)]
        else:
            value = number_value(word)
            if value is None or value < 2:  # "one" is more often "any one of them" than a count
                continue
            if word.isdigit() and 1800 <= value <= 2100:
                changed = str(value + (1 + key % 5) * (1 if key % 2 else -1))
            else:
                limit = 9999 if word.isdigit() else 99
                choices = [c for c in (value + 1, value * 2, value + 5, value - 1, value * 3) if 1 < c <= limit and c not in named]
                if not choices:
                    continue
                new = choices[key % len(choices)]
                changed = str(new) if word.isdigit() else number_words(new)
        return claim[: match.start()] + _same_case(changed, word) + claim[match.end() :]
    return None


def swapped_place(doc, places: Sequence[str], seed: int = 0) -> str | None:
    """The claim of a spaCy `doc` with its first place of `places` (entity GPE) changed to another of them
    that it does not name; None when it names none."""
    text = doc.text
    known = set(places)
    named = {entity.text for entity in doc.ents}
    for entity in doc.ents:
        if entity.label_ != "GPE" or entity.text not in known:
            continue
        others = [place for place in places if place not in named]
        if not others:
            return None
        other = others[_choice("place", seed, text) % len(others)]
        return text[: entity.start_char] + other + text[entity.end_char :]
    return None


def negated_main_verb(doc) -> str | None:
    """The claim with its main verb negated (`negated_pairs.negated`), unless the "not" would land after a
    subordinate clause's opening word ("the continuance of which is not likely ..."), where the parse may
    have taken that clause's verb."""
    from service.training.negated_pairs import negated

    negation = negated(doc)
    if negation is None:
        return None
    at = next(i for i, (a, b) in enumerate(zip(doc.text, negation, strict=False)) if a != b)
    return None if SUBORDINATE.search(doc.text[:at]) else negation


def corpus_places(docs: Iterable, min_mentions: int = 2) -> list[str]:
    """The places (entity GPE, capitalised words only) named at least `min_mentions` times in parsed
    sentences, each once, in a fixed order: a name the tagger took for a place once is often not one."""
    mentions = Counter(entity.text for doc in docs for entity in doc.ents if entity.label_ == "GPE" and PLACE_NAME.fullmatch(entity.text))
    return sorted(place for place, count in mentions.items() if count >= min_mentions)


def refuted_claim(doc, places: Sequence[str], seed: int = 0) -> str | None:
    """The claim of a parsed sentence with one fact changed: a number, else a place, else its main verb
    negated. A claim that negates already changes nothing: "not looking for a war with Iran" is not
    contradicted by its own sentence once "Iran" is changed."""
    from service.pipeline.polarity import NEGATION, OTHER_NEGATIONS

    if NEGATION.search(doc.text) or OTHER_NEGATIONS.search(doc.text):
        return None
    return swapped_number(doc.text, seed) or swapped_place(doc, places, seed) or negated_main_verb(doc)


def sentence_pairs(
    groups: Sequence[Sequence[str]], nlp, source: str, seed: int = 0, read_whole: Sequence[bool] | None = None
) -> list[StancePair]:
    """The pairs of every sentence of `groups` that can stand as a claim (`is_claim_like`, `has_subject_and_verb`),
    each group the sentences of one passage (or document) in order, a sentence met before left out.
    `read_whole[i]`: the passage of group i is short enough for the service to read it whole, so half of its
    supports and refutes pairs (by hash) take the whole passage as the premise. A sentence's neutral claim is the
    next claim of its group, else the first of the next group, unless the two share most of their content words."""
    from service.training.hard_neutrals import coverage

    read_whole = read_whole if read_whole is not None else [False] * len(groups)
    seen: set[str] = set()
    usable = []
    for group in groups:
        usable.append([s for s in group if is_claim_like(s) and s not in seen])
        seen.update(group)
    claim_of = {s: news_register(s) for group in usable for s in group}
    claims = sorted(set(claim_of.values()))
    docs = dict(zip(claims, nlp.pipe(claims, batch_size=128), strict=True))
    usable = [[s for s in group if has_subject_and_verb(docs[claim_of[s]])] for group in usable]
    places = corpus_places(docs.values())
    pairs = []
    for g, group in enumerate(usable):
        passage = " ".join(groups[g])
        for i, sentence in enumerate(group):
            claim = claim_of[sentence]
            key = _choice("premise", seed, sentence)
            premise = passage if read_whole[g] and key % 2 else sentence
            supported = (respelled_number(claim) if key % 3 == 0 else None) or claim
            pairs.append(StancePair(premise, supported, "supports", source))
            if (refuted := refuted_claim(docs[claim], places, seed)) is not None:
                pairs.append(StancePair(premise, refuted, "refutes", source))
            other = group[i + 1] if i + 1 < len(group) else next((s for later in usable[g + 1 :] for s in later[:1]), None)
            if other is not None and coverage(claim_of[other], sentence) <= MAX_SHARED_CONTENT:
                pairs.append(StancePair(sentence, claim_of[other], "neutral", source))
    return pairs


def benchmark_claims(sets_dir: Path | None = None) -> list[dict]:
    """The treaty-settled benchmark's claims, every split."""
    from service.evaluation.near_topic import SETS_DIR

    lines = ((sets_dir or SETS_DIR) / "treaty_settled.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def held_out_sections(claims: Iterable[dict]) -> dict[str, set[str]]:
    """Per treaty file, the sections the benchmark's `claims` cite ("Article 23", "preamble", "final clause")."""
    held: dict[str, set[str]] = defaultdict(set)
    for claim in claims:
        title, _, section = claim["source"].partition(", ")
        held[SET_DOCUMENTS[title]].add(section)
    return held


def is_held_out(doc_id: str, section: str, held: dict[str, set[str]], last_article: str | None = None) -> bool:
    """Whether a passage (its file, its section heading path) is one the benchmark cites: its article, the
    unnumbered heading part for "preamble", the document's `last_article` (where the closing lines are:
    "Done at Washington ...") for "final clause"."""
    cited = held.get(doc_id, set())
    article = ARTICLE.search(section)
    if article is None:
        return "preamble" in cited
    return article.group(0) in cited or ("final clause" in cited and article.group(0) == last_article)


def treaty_pairs(sources_dir: Path, nlp, sets_dir: Path | None = None, seed: int = 0) -> list[StancePair]:
    """`corpus-treaty` pairs from the passages of the treaties in `sources_dir`, cut as the index build cuts
    them, less what the treaty-settled benchmark tests: every passage of an article it cites, and every other
    passage that has more than MAX_SHARED_CONTENT of a benchmark claim's content words (another article restating
    the rule a claim is about)."""
    from service.index.passages import sentence_spans
    from service.training.hard_neutrals import content_words, coverage, treaty_passages

    claims = benchmark_claims(sets_dir)
    held = held_out_sections(claims)
    claim_words = [content_words(claim["claim"]) for claim in claims]
    passages = treaty_passages(sources_dir)
    last_article = {}
    for passage, _ in passages:
        if article := ARTICLE.search(passage.section):
            last_article[passage.doc_id] = article.group(0)
    groups, read_whole = [], []
    for passage, _ in passages:
        if is_held_out(passage.doc_id, passage.section, held, last_article.get(passage.doc_id)):
            continue
        if any(coverage(words, passage.text) > MAX_SHARED_CONTENT for words in claim_words):
            continue
        sentences = [passage.text[start:end] for start, end in sentence_spans(passage.text)]
        groups.append(sentences)
        read_whole.append(len(sentences) <= MAX_SENTENCES_READ_WHOLE)
    return sentence_pairs(groups, nlp, CORPUS_SOURCES["treaty"], seed, read_whole)


def news_pairs(data_dir: Path, nlp, limit: int = NEWS_CAP, sets_dir: Path | None = None, seed: int = 0) -> list[StancePair]:
    """`corpus-news` pairs from the first `limit` news sentences of the background statements' train
    split (`hard_neutrals.news_sentences`, which keeps the near-topic benchmark's documents out), grouped by
    document in their order there."""
    from service.evaluation.near_topic import SETS_DIR
    from service.training.hard_neutrals import news_sentences

    if limit == 0:
        return []
    by_document: dict[str, list[str]] = defaultdict(list)
    for document, sentence in news_sentences(data_dir, "train", sets_dir or SETS_DIR)[:limit]:
        by_document[document].append(sentence)
    return sentence_pairs(list(by_document.values()), nlp, CORPUS_SOURCES["news"], seed)


def is_corpus_source(source: str) -> bool:
    """Whether pairs of this `source` are corpus pairs, trained on their gold label alone."""
    return source in CORPUS_SOURCES.values()


def add_corpus_pairs(
    directory: Path, data_dir: Path, news_limit: int = NEWS_CAP, seed: int = 0, sources_dir: Path | None = None
) -> dict[str, int]:
    """Add corpus pairs (the treaties in `sources_dir`, default the shipped ones, and up to `news_limit`
    news sentences) to the train pairs in `directory` (written by `--write-pairs`), replacing any it
    held, and record them, per source and label, in its `pairs.json`. Returns the pairs added per source."""
    import spacy

    from service.pipeline.claims.language import SPACY_MODEL
    from service.training.hard_neutrals import TREATY_SOURCES
    from service.training.stance import PAIRS_SETTINGS, read_pairs, write_pairs

    settings_file = directory / PAIRS_SETTINGS
    if not settings_file.is_file():
        raise ValueError(f"{directory} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs first")
    nlp = spacy.load(SPACY_MODEL)
    train = [pair for pair in read_pairs(directory / "train.jsonl.gz") if not is_corpus_source(pair.source)]
    added = treaty_pairs(sources_dir or TREATY_SOURCES, nlp, seed=seed) + news_pairs(data_dir, nlp, news_limit, seed=seed)
    write_pairs(train + added, directory / "train.jsonl.gz")
    settings = json.loads(settings_file.read_text())
    settings["pairs"]["train"] = Counter(pair.source for pair in train + added)
    labels = Counter(f"{pair.source} {pair.stance}" for pair in added)
    settings["corpus_pairs"] = {"news_limit": news_limit, "seed": seed, "pairs": dict(sorted(labels.items()))}
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    return dict(Counter(pair.source for pair in added))
