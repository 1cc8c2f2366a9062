"""Hard neutral pairs for the stance cross-encoder: same topic, not the same content (issue #21.2).

Four sources, one function each, every pair labelled `neutral` and named by its `source`:

- `treaty_neighbours` (`treaty-neighbours`): news sentences from the White House background
  statements, each with the passage of the shipped treaties (`index/sources/`) that the project's
  retriever ranks first for it.
- `fnc1_neutrals` (`fnc1-unrelated`, `fnc1-discuss`, `fnc1-discuss-hedged`): FNC-1 headlines with
  one or two sentences of a body that is unrelated to them or that discusses them without taking a
  side (the hedged variant: only a sentence that attributes or hedges what it reports).
- `sibling_sentences` (`fever-siblings`): FEVER claims with other sentences of their own
  evidence's Wikipedia page that no annotator chose as evidence.
- `covidfact_neighbours` (`covidfact-neighbours`): COVID-Fact claims with evidence sentences of
  other source articles that share some of their words and do not restate them.

Each respects the project's splits (see each function), is deterministic (hash orders with a
fixed salt, no random state), and gives at most `limit` pairs per split.
`save_split_pairs_with_hard_neutrals` adds them to the pair files of `--write-pairs`
(scripts/train_stance.py `--hard-neutral-sets`). docs/training.md says what each gives.

Looked at and left out, because the data cannot tell a claim's non-evidence from unjudged text:
Climate-FEVER (only the five retrieved candidate sentences of each claim were judged; the judged
non-evidence ones are already `climate-fever` neutral pairs, and the other sentences of the same
article were never judged for the claim), and the other sentences of a COVID-Fact claim's own
article (the data holds only each article's evidence, shared by the claim and its counter-claims).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from service.config import REPO_ROOT
from service.evaluation.near_topic import (
    CURRENT_EVENTS,
    SETS_DIR,
    clean_text,
    document_split,
    load_near_topic,
    normalized,
    read_background,
    sample_splits,
    sentence_rejection,
    split_sentences,
)
from service.training.datasets import (
    UNLABELLED,
    StancePair,
    detokenize_fever,
    read_fnc1,
    read_jsonl,
    split_of,
)
from service.training.stance import SENTENCE_CHARS  # a sentence-level premise: one or two sentences

SPLITS = ("train", "dev", "test")
ORDER_SALT = "claimcheck-hard-neutrals-v1"
TRAIN_CAP = 3000  # pairs per set in train (--hard-neutral-cap)
EVAL_CAP = 500  # pairs per set in dev and in test (--hard-neutral-eval-cap)
TREATY_SOURCES = REPO_ROOT / "index" / "sources"
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 6, 60

# The sets `--hard-neutral-sets` names, each with the pair sources it gives; "fnc1" is both FNC-1 sets.
SET_SOURCES = {
    "treaty": "treaty-neighbours",
    "fnc1-unrelated": "fnc1-unrelated",
    "fnc1-discuss": "fnc1-discuss",
    "fnc1-discuss-hedged": "fnc1-discuss-hedged",
    "siblings": "fever-siblings",
    "covidfact-neighbours": "covidfact-neighbours",
}
# "all": the sets the shipped recipe names so (docs/training.md), so that it writes the same pair files; name the COVID-Fact one
SET_ALIASES = {
    "fnc1": ("fnc1-unrelated", "fnc1-discuss"),
    "all": tuple(name for name in SET_SOURCES if name != "covidfact-neighbours"),
    "none": (),
}
HARD_NEUTRAL_SOURCES = frozenset(SET_SOURCES.values())


def order_key(*parts: object) -> str:
    """A fixed pseudo-random order: the SHA-256 of the salt and `parts`."""
    return hashlib.sha256("\x00".join([ORDER_SALT, *map(str, parts)]).encode()).hexdigest()


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for by with from and or but nor is are was were be been being has have had do does did "
    "it its as that this these those which who whom whose what not no only also than then there their they he she his her "
    "we our you your i my me him them us will would shall should can could may might must into onto over under about after "
    "before after up down out off so if such said says".split()
)


def content_words(text: str) -> set[str]:
    """The lower-case words of `text` less a short stop list: what the overlap rules compare."""
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP}


def coverage(target: str | set[str], text: str) -> float:
    """The share of the content words of `target` that `text` also has (1.0 when it has none)."""
    wanted = content_words(target) if isinstance(target, str) else target
    return len(wanted & content_words(text)) / len(wanted) if wanted else 1.0


def parse_sets(text: str) -> tuple[str, ...]:
    """The sets a comma-separated `--hard-neutral-sets` value names, aliases expanded, in
    SET_SOURCES order; ValueError for an unknown name."""
    names: set[str] = set()
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name in SET_ALIASES:
            names.update(SET_ALIASES[name])
        elif name in SET_SOURCES:
            names.add(name)
        else:
            raise ValueError(f"unknown hard-neutral set {name!r}: choose from {', '.join([*SET_SOURCES, *SET_ALIASES])}")
    return tuple(name for name in SET_SOURCES if name in names)


# --- 1. news sentences and the treaty passages the retriever ranks first -------------------------

_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
# A sentence that may restate or cite treaty text: an article by number, any treaty or charter
# (what a treaty says, stipulates...), or a paraphrase of Article 5 or Article 10.
RESTATES_TREATY = re.compile(
    rf"\b[Aa]rticles?\s+(?:\d+|[IVXL]+\b|(?i:{_NUMBER_WORDS})\b)|(?i:\btreat(?:y|ies)\b|\bcharter\b|\bwashington treaty\b|"
    r"\battacks? (?:on|against) (?:one|any)\b|\bcollective (?:self-)?defen[cs]e\b|\bmutual defen[cs]e\b|"
    r"\bevery inch\b|\bopen[- ]door\b)"
)


def news_sentence_rejection(sentence: str) -> str | None:
    """Why `sentence` is not a news sentence for `treaty_neighbours`, or None. The near-topic rule
    (`service.evaluation.near_topic.sentence_rejection`: prose, a statement, 8 to 40 words, a
    finite verb, something only current events can settle), except that a sentence need not name
    NATO, Ukraine or Russia as long as it names something of current events (`CURRENT_EVENTS`);
    and never one that may restate treaty text (`RESTATES_TREATY`: "Article" with a number, any
    mention of a treaty or charter, "attack on one", "collective defense", "open door"...)."""
    reason = sentence_rejection(sentence)
    if reason == "off_subject" and CURRENT_EVENTS.search(sentence):
        reason = None
    if reason is None and RESTATES_TREATY.search(sentence):
        return "restates_treaty"
    return reason


def near_topic_held_out(documents: list[dict], sets_dir: Path = SETS_DIR) -> tuple[dict[str, str], set[str]]:
    """The background documents that give near-topic dev or test sentences, each with its split
    (`near_topic.document_split`), and those sentences (`near_topic.normalized`): the sentences of
    the committed sets in `sets_dir` and those `near_topic.sample_splits` draws from `documents`
    (the hand-excluded ones included)."""
    held: dict[str, str] = {}
    sentences: set[str] = set()
    for split in ("dev", "test"):
        if (sets_dir / f"near_topic_{split}.jsonl").is_file():
            for row in load_near_topic(split, sets_dir):
                held[row["doc_id"]] = document_split(row["doc_id"])
                sentences.add(normalized(row["claim"]))
    for claims in sample_splits(documents).values():
        for claim in claims:
            held[claim.doc_id] = document_split(claim.doc_id)
            sentences.add(normalized(claim.claim))
    return held, sentences


def background_split(documents: list[dict], sets_dir: Path = SETS_DIR) -> dict[str, str]:
    """The split of each background document: a document that gives near-topic dev or test
    sentences goes to that split (the near-topic rule, `near_topic.document_split`, a hash of its
    id); every other document goes to train."""
    held, _ = near_topic_held_out(documents, sets_dir)
    return {document["id"]: held.get(document["id"], "train") for document in documents}


def news_sentences(data_dir: Path, split: str, sets_dir: Path = SETS_DIR) -> list[tuple[str, str]]:
    """(document id, sentence) for every news sentence (`news_sentence_rejection`) of the background
    documents of `split` (`background_split`), first occurrence only, in a fixed hash order, those
    that name NATO, Ukraine or Russia (pass the near-topic rule itself) before the others. Left
    out: the near-topic sets' own sentences, in every split, and any sentence that also appears
    (case- and punctuation-blind) in a document of another held-out split, or, for train, in any
    dev or test document."""
    documents = sorted(read_background(data_dir), key=lambda d: (d["date"], d["id"]))
    held_documents, held_sentences = near_topic_held_out(documents, sets_dir)
    split_of_document = {document["id"]: held_documents.get(document["id"], "train") for document in documents}  # background_split
    sentences_of = {
        document["id"]: [sentence for paragraph in clean_text(document["text"]) for sentence in split_sentences(paragraph)]
        for document in documents
    }
    splits_of_sentence: dict[str, set[str]] = defaultdict(set)
    for document in documents:
        for sentence in sentences_of[document["id"]]:
            splits_of_sentence[normalized(sentence)].add(split_of_document[document["id"]])
    found, seen = [], set()
    for document in documents:
        if split_of_document[document["id"]] != split:
            continue
        for sentence in sentences_of[document["id"]]:
            key = normalized(sentence)
            if key in seen or key in held_sentences or splits_of_sentence[key] - {split, "train"}:
                continue
            seen.add(key)
            if news_sentence_rejection(sentence) is None:
                found.append((document["id"], sentence))
    return sorted(found, key=lambda item: (sentence_rejection(item[1]) is not None, order_key("treaty", *item)))


def treaty_passages(sources_dir: Path = TREATY_SOURCES) -> list[tuple[object, str]]:
    """(passage, the text the index embeds for it) for every passage of the shipped treaties, cut
    as the index build cuts them (`split_passages`, `embedding_input`)."""
    from service.index.passages import split_passages
    from service.index.reference import embedding_input
    from service.index.sources import read_documents

    return [
        (passage, embedding_input(passage, document.title))
        for document in read_documents([sources_dir])
        for passage in split_passages(document)
    ]


def rank_passages(embedder, queries: Sequence[str], passage_texts: Sequence[str], top_k: int, fusion: bool = True) -> list[list[int]]:
    """The `top_k` best passages (indexes into `passage_texts`) for each query, best first: the
    retriever's reciprocal-rank fusion of cosine (the embedder) and BM25 rankings
    (service/pipeline/retrieval.py, `RRF_K`, `CANDIDATES`), or cosine alone without `fusion`.
    Ties go to the passage listed first."""
    import numpy as np

    from service.index.lexical import LexicalIndex
    from service.pipeline.retrieval import CANDIDATES, RRF_K

    if not queries:
        return []
    scores = embedder.encode(list(queries)) @ embedder.encode(list(passage_texts)).T
    depth = min(max(CANDIDATES, top_k), len(passage_texts))
    dense = [list(np.argsort(-row, kind="stable")[:depth]) for row in scores]
    if not fusion:
        return [[int(i) for i in ranking[:top_k]] for ranking in dense]
    lexical = LexicalIndex(list(passage_texts)).search(list(queries), depth)
    ranked = []
    for row, dense_ranking, lexical_hits in zip(scores, dense, lexical, strict=True):
        fused: dict[int, float] = {}
        for ranking in (dense_ranking, [hit for hit, _ in lexical_hits]):
            for rank, passage in enumerate(ranking):
                fused[int(passage)] = fused.get(int(passage), 0.0) + 1.0 / (RRF_K + rank + 1)
        ranked.append(sorted(fused, key=lambda p: (-fused[p], -float(row[p]), p))[:top_k])
    return ranked


def treaty_neighbours(
    data_dir: Path,
    split: str,
    embedder,
    limit: int = TRAIN_CAP,
    per_sentence: int = 1,
    sources_dir: Path = TREATY_SOURCES,
    sets_dir: Path = SETS_DIR,
    fusion: bool = True,
) -> list[StancePair]:
    """Up to `limit` news sentences of `split` (`news_sentences`, taken in their fixed hash order),
    each the hypothesis of `per_sentence` pairs whose premise is a passage of the shipped treaties
    the project's retriever ranks first for it (`rank_passages`; the passage as the service reads
    it). Neutral by construction: a 1949 treaty and the 1945 Charter cannot settle 2021-2026 news,
    except a sentence that restates treaty text, and those are skipped (`RESTATES_TREATY`: a
    sentence with "Article" and a number, any mention of a treaty or charter, "treaty says/states/
    stipulates" included, or a paraphrase of Article 5 or 10 such as "an attack on one", "collective
    defense", "open door"). The split follows the near-topic benchmark's document split, and no
    document that gives near-topic dev or test sentences, nor any of those sentences, reaches
    train (`background_split`, `news_sentences`). Embeds `limit` sentences and the treaties'
    passages."""
    sentences = [sentence for _, sentence in news_sentences(data_dir, split, sets_dir)[:limit]]
    passages = treaty_passages(sources_dir)
    ranked = rank_passages(embedder, sentences, [text for _, text in passages], per_sentence, fusion)
    return [
        StancePair(passages[i][0].text, sentence, "neutral", SET_SOURCES["treaty"])
        for sentence, best in zip(sentences, ranked, strict=True)
        for i in best
    ]


# --- 2. FNC-1: unrelated and discussing bodies ---------------------------------------------------


def body_sentences(body: str) -> list[str]:
    """The sentences of an FNC-1 body, each line a paragraph (`near_topic.split_sentences`)."""
    return [
        sentence
        for line in body.splitlines()
        if line.strip()
        for sentence in split_sentences(re.sub(r"\s+", " ", line).strip())
        if sentence
    ]


def sentence_premise(sentences: list[str], first: int) -> str | None:
    """Sentence `first` of `sentences`, with the next one when it is short (under 12 words) and
    both fit in SENTENCE_CHARS; None when sentence `first` has fewer than 6 or more than 60 words
    or is longer than SENTENCE_CHARS."""
    sentence = sentences[first]
    if not MIN_SENTENCE_WORDS <= len(sentence.split()) <= MAX_SENTENCE_WORDS or len(sentence) > SENTENCE_CHARS:
        return None
    if len(sentence.split()) < 12 and first + 1 < len(sentences):
        joined = f"{sentence} {sentences[first + 1]}"
        if len(joined) <= SENTENCE_CHARS:
            return joined
    return sentence


def fnc1_story_splits(stances: Iterable[dict]) -> dict[str, str]:
    """The split of each FNC-1 body, and of each headline (keyed `"headline:" + headline`): a story
    is a headline and the bodies related to it (agree, disagree or discuss), joined into one
    group where they share a body or a headline, and a story's split is that of its smallest body
    id (`split_of("fnc1", id)`): a split by body id that keeps a headline (the claim) and every body
    written about it on one side."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    rows = list(stances)
    for row in rows:
        root(f"body:{row['Body ID']}")
        root(f"headline:{row['Headline']}")
        if row["Stance"] != "unrelated":
            parent[root(f"headline:{row['Headline']}")] = root(f"body:{row['Body ID']}")
    members: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        members[root(node)].append(node)
    splits = {}
    for nodes in members.values():
        bodies = sorted(int(node.removeprefix("body:")) for node in nodes if node.startswith("body:"))
        split = split_of("fnc1", bodies[0]) if bodies else split_of("fnc1", nodes[0])
        for node in nodes:
            splits[node.removeprefix("body:")] = split
    return splits


# A sentence that attributes what it reports to someone else or hedges it ("reportedly", "according
# to", "claims", "if true"...), and a headline that does (or asks): see `fnc1_neutrals`.
HEDGED = re.compile(
    r"(?i:\b(?:reportedly|reported|reports?|according to|allegedly|alleged|claims?|claimed|claiming|rumou?rs?|rumou?red|"
    r"purported(?:ly)?|apparently|unconfirmed|unverified|if true|said to|believed to|appears? to|appeared to|speculat\w+|"
    r"hoax|sources? (?:said|say|says|told|tells))\b)"
)
FNC1_KINDS = ("unrelated", "discuss", "discuss-hedged")


def fnc1_neutrals(
    data_dir: Path, split: str, kinds: Sequence[str] = ("unrelated", "discuss"), limit: int = TRAIN_CAP, per_headline: int = 3
) -> list[StancePair]:
    """FNC-1 (body sentences, headline) pairs of `split`, up to `limit` of each kind and
    `per_headline` per headline and kind, in a fixed hash order: the headline is the hypothesis,
    one or two body sentences the premise (`sentence_premise`: the model reads 256 tokens, and a
    whole body is no sentence). Kinds (each its own source, `fnc1-` + kind):

    - `unrelated`: a body about another story, its sentence that shares the most content words
      with the headline (any sentence would be neutral; this one is the hardest).
    - `discuss`: a body that reports the headline's claim without taking a side, its sentence most
      similar to the headline by word overlap (`coverage`). Doubtful at sentence level: that
      sentence often restates the claim, with or without attribution (docs/training.md).
    - `discuss-hedged`: as `discuss`, but only sentences that attribute or hedge what they report
      (`HEDGED`), and only for headlines that do neither (nor ask a question).

    Split by story (`fnc1_story_splits`); an unrelated pair whose headline and body fall into
    different splits is left out."""
    unknown = set(kinds) - set(FNC1_KINDS)
    if unknown:
        raise ValueError(f"unknown FNC-1 kinds {sorted(unknown)}: choose from {FNC1_KINDS}")
    bodies, stances = read_fnc1(data_dir)
    splits = fnc1_story_splits(stances)
    sentences_of = {body_id: body_sentences(text) for body_id, text in bodies.items()}
    pairs = []
    for kind in kinds:
        stance = kind.removesuffix("-hedged")
        rows = [
            row
            for row in stances
            if row["Stance"] == stance and splits[row["Body ID"]] == split and splits[f"headline:{row['Headline']}"] == split
        ]
        rows.sort(key=lambda row: order_key("fnc1", kind, row["Headline"], row["Body ID"]))
        per: Counter = Counter()
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if len(seen) >= limit:
                break
            headline = re.sub(r"\s+", " ", row["Headline"]).strip()
            hedged = kind.endswith("-hedged")
            if per[headline] >= per_headline or (hedged and (HEDGED.search(headline) or "?" in headline)):
                continue
            sentences = sentences_of[row["Body ID"]]
            wanted = content_words(headline)
            candidates = [
                (i, premise)
                for i in range(len(sentences))
                if (premise := sentence_premise(sentences, i)) and (not hedged or HEDGED.search(sentences[i]))
            ]
            if not candidates:
                continue
            _, premise = max(candidates, key=lambda c: (coverage(wanted, sentences[c[0]]), -c[0]))
            if (premise, headline) in seen:
                continue
            seen.add((premise, headline))
            per[headline] += 1
            pairs.append(StancePair(premise, headline, "neutral", f"fnc1-{kind}"))
    return pairs


# --- 3. sibling sentences: the claim's own evidence page, less its evidence --------------------


def _fever_passage_sentences(text: str) -> list[str]:
    """The sentences of a FEVER-tokenised passage, in order (as `stance.fever_sentences`)."""
    return [sentence.strip() for sentence in text.strip().removesuffix(" .").split(" . ") if sentence.strip()]


def sibling_sentences(
    data_dir: Path, split: str, limit: int = TRAIN_CAP, per_claim: int = 2, max_coverage: float = 0.5
) -> list[StancePair]:
    """FEVER (sibling sentence, claim) pairs of `split`: for a SUPPORTS or REFUTES claim, other
    sentences of the Wikipedia page(s) of its evidence that no annotator chose as evidence for it,
    up to `per_claim` per claim and `limit` in all, in a fixed hash order. Source `fever-siblings`.

    Only FEVER lets us tell non-evidence from unjudged text: its annotators chose evidence from
    the whole page, and the claim's passage in the pool is the union of every annotator's evidence
    sentences (its sentences match the annotated lines one for one; the 40 claims where they do not
    are skipped). The page's other sentences are known from the pool where a passage comes from a
    single page (they are other claims' evidence). A sibling is left out when it has at least
    `max_coverage` of the claim's content words beyond the page title (FEVER's evidence is
    incomplete: a sentence that repeats the claim's specifics may well support it), and, for
    train, when it is the evidence of any dev or test claim (for dev or test: of a claim of the
    other held-out split). NOT ENOUGH INFO claims have no evidence page and give none."""
    corpus = list(read_jsonl(data_dir / "fever" / "corpus_evidence_passages.jsonl"))
    text_of = {row["id"]: row["text"] for row in corpus}
    rows = [row for row in read_jsonl(data_dir / "fever" / "fever_paper_dev.jsonl") if row.get("evidence_passage_id") in text_of]
    splits_using: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for sentence in _fever_passage_sentences(text_of[row["evidence_passage_id"]]):
            splits_using[sentence].add(split_of("fever", row["id"]))
    page_sentences: dict[str, set[str]] = defaultdict(set)
    for passage in corpus:
        if len(passage["pages"]) == 1:
            page_sentences[passage["pages"][0]].update(_fever_passage_sentences(passage["text"]))
    candidates = []
    for row in rows:
        if split_of("fever", row["id"]) != split:
            continue
        lines = {(e[2], e[3]) for evidence_set in row["evidence"] for e in evidence_set if e[2] is not None}
        evidence = set(_fever_passage_sentences(text_of[row["evidence_passage_id"]]))
        if len(lines) != len(evidence):
            continue
        pages = sorted({page for page, _ in lines})
        title_words = set().union(*(content_words(detokenize_fever(page.replace("_", " "))) for page in pages))
        specifics = content_words(row["claim"]) - title_words
        siblings = [
            sentence
            for sentence in set().union(*(page_sentences[page] for page in pages)) - evidence
            if not splits_using[sentence] - {split, "train"}
            and (not specifics or coverage(specifics, detokenize_fever(sentence)) < max_coverage)
        ]
        siblings.sort(key=lambda sentence: order_key("siblings", row["id"], sentence))
        for sentence in siblings:
            premise = detokenize_fever(sentence)
            if MIN_SENTENCE_WORDS <= len(premise.split()) <= MAX_SENTENCE_WORDS and len(premise) <= SENTENCE_CHARS:
                candidates.append((row["id"], premise, row["claim"]))
    per: Counter = Counter()
    pairs = []
    for claim_id, premise, claim in sorted(candidates, key=lambda c: order_key("siblings", c[0], c[1])):
        if len(pairs) >= limit:
            break
        if per[claim_id] < per_claim:
            per[claim_id] += 1
            pairs.append(StancePair(premise, claim, "neutral", SET_SOURCES["siblings"]))
    return pairs


def covidfact_neighbours(
    data_dir: Path, split: str, limit: int = TRAIN_CAP, per_claim: int = 2, min_shared: int = 2, max_coverage: float = 0.5
) -> list[StancePair]:
    """COVID-Fact (neighbour sentence, claim) pairs of `split`: for a claim, evidence sentences of other source
    articles that share at least `min_shared` of its content words but less than `max_coverage` of them (same topic,
    not the same content), the most shared first, up to `per_claim` per claim and `limit` in all. Source
    `covidfact-neighbours`.

    COVID-Fact gives no neutral pair: each article's evidence is shared by its claim and counter-claims, and the reader
    learned that a COVID-19 sentence always takes a side (neutral under 0.02 for "Earlier in the day, Iran confirmed 13
    new coronavirus cases" against a claim about suing Fox News). Another article's evidence sentence is not the
    claim's evidence; one that repeats most of the claim's words may be, and is left out. A premise is an evidence
    sentence of claims of `split` only, so no dev or test evidence is read in train."""
    rows = list(read_jsonl(data_dir / "covidfact" / "COVIDFACT_dataset.jsonl"))
    splits_using: dict[str, set[str]] = defaultdict(set)
    articles_using: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for sentence in row["evidence"]:
            splits_using[sentence].add(split_of("covidfact", row["gold_source"]))
            articles_using[sentence].add(row["gold_source"])
    pool = [
        (sentence, content_words(sentence))
        for sentence in sorted(splits_using)
        if splits_using[sentence] == {split}
        and MIN_SENTENCE_WORDS <= len(sentence.split()) <= MAX_SENTENCE_WORDS
        and len(sentence) <= SENTENCE_CHARS
    ]
    candidates = []
    for row in rows:
        if split_of("covidfact", row["gold_source"]) != split:
            continue
        wanted = content_words(row["claim"])
        scored = [
            (len(wanted & words), sentence)
            for sentence, words in pool
            if row["gold_source"] not in articles_using[sentence]
            and len(wanted & words) >= min_shared
            and len(wanted & words) < max_coverage * len(wanted)
        ]
        scored.sort(key=lambda item: (-item[0], order_key("covidfact", row["claim"], item[1])))
        candidates += [(row["claim"], sentence) for _, sentence in scored[:per_claim]]
    candidates.sort(key=lambda c: order_key("covidfact", *c))
    return [StancePair(premise, claim, "neutral", SET_SOURCES["covidfact-neighbours"]) for claim, premise in candidates[:limit]]


# --- all of them, into the pair files --------------------------------------------------------------


def hard_neutral_pairs(data_dir: Path, split: str, sets: Sequence[str], limit: int, embedder=None) -> list[StancePair]:
    """The pairs of `split` of each named set (SET_SOURCES), up to `limit` per set, in SET_SOURCES
    order; `embedder` (the project's Embedder, warmed up) only for `treaty`."""
    pairs: list[StancePair] = []
    for name in SET_SOURCES:
        if name not in sets:
            continue
        if name == "treaty":
            if embedder is None:
                raise ValueError("the treaty set ranks passages with the embedder: pass one")
            pairs += treaty_neighbours(data_dir, split, embedder, limit)
        elif name == "siblings":
            pairs += sibling_sentences(data_dir, split, limit)
        elif name == "covidfact-neighbours":
            pairs += covidfact_neighbours(data_dir, split, limit)
        else:
            pairs += fnc1_neutrals(data_dir, split, (name.removeprefix("fnc1-"),), limit)  # one kind per set
    return pairs


def save_split_pairs_with_hard_neutrals(
    config,
    directory: Path,
    sets: Sequence[str],
    train_sets: Sequence[str] | None = None,
    train_cap: int = TRAIN_CAP,
    eval_cap: int = EVAL_CAP,
    embedder=None,
) -> dict[str, Counter]:
    """`stance.save_split_pairs` with hard neutral pairs added: every split's pairs of the usual
    sets (collected and mined as `save_split_pairs` does, or read from `config.pairs_dir` when
    given, less any hard neutral pairs that folder holds), plus, in dev and test, up to `eval_cap`
    pairs of each of `sets`, and in train up to `train_cap` pairs of each of `train_sets` (default:
    `sets`; none, for a baseline measured on the same dev and test pairs). Reading pairs are not
    copied (`--reading-pairs` adds them again). `pairs.json` records the
    sets and caps beside the usual settings. `embedder`: the project's Embedder unless given (it
    mines FEVER's neutrals and ranks the treaty passages). Returns the pair counts by source."""
    from service.runtime.embedding import Embedder
    from service.training.stance import PAIRS_SETTINGS, FeverRetriever, all_pairs, split_pairs, write_pairs

    train_sets = tuple(sets) if train_sets is None else tuple(train_sets)
    if set(train_sets) - set(sets):
        raise ValueError(f"train sets {sorted(set(train_sets) - set(sets))} are not among the sets {list(sets)}")
    if config.pairs_dir is not None:
        base = split_pairs(config)
        settings = config.pairs_dir / PAIRS_SETTINGS
        mined = json.loads(settings.read_text())["hard_neutrals"] if settings.is_file() else config.hard_neutrals
    else:
        embedder = embedder or Embedder()
        embedder.warm_up()
        retriever = FeverRetriever.build(config.data_dir, embedder)
        base = {split: all_pairs(config, split, embedder, retriever) for split in SPLITS}
        mined = config.hard_neutrals
    if "treaty" in sets and embedder is None:
        embedder = Embedder()
    if embedder is not None:
        embedder.warm_up()
    counts = {}
    for split in SPLITS:
        pairs = [pair for pair in base[split] if pair.source not in HARD_NEUTRAL_SOURCES and pair.stance != UNLABELLED]
        chosen = train_sets if split == "train" else tuple(sets)
        pairs += hard_neutral_pairs(config.data_dir, split, chosen, train_cap if split == "train" else eval_cap, embedder)
        write_pairs(pairs, directory / f"{split}.jsonl.gz")
        counts[split] = Counter(pair.source for pair in pairs)
    settings = {
        "hard_neutrals": mined,
        "hard_neutral_sets": {"sets": list(sets), "train_sets": list(train_sets), "train_cap": train_cap, "eval_cap": eval_cap},
        "pairs": counts,
    }
    (directory / PAIRS_SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")
    return counts
