"""The near-topic benchmark: sentences about NATO, Ukraine and Russia that the default index
(the North Atlantic Treaty and the UN Charter) cannot settle, and claims the treaties do settle.

The near-topic sentences come from White House briefing-room documents (2021-2026,
`background/` of the shared data). A sentence is kept by a fixed rule (`sentence_rejection`),
the documents are split between dev and test by a hash of their id (`document_split`), and a
seeded sample of each split is written to `service/evaluation/sets/` less the sentences
excluded by hand (`near_topic_excluded.txt`). `scripts/make_near_topic_sets.py` regenerates
them; `scripts/evaluate.py near-topic` and `treaty-settled` score the service on them.

Only the standard library: the unit tests import it without the models.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from service.training.scoring import decisive_precision

SETS_DIR = Path(__file__).resolve().parent / "sets"
BACKGROUND_FILE = Path("background") / "whitehouse_nato_ukraine_russia_subset.jsonl"
EXCLUDED_FILE = "near_topic_excluded.txt"
TREATY_SETTLED_FILE = "treaty_settled.jsonl"
SPLITS = ("dev", "test")
SPLIT_SALT = "near-topic-v1"
SEED = 20240404
PER_SPLIT = 300
PER_DOCUMENT = 3  # at most this many sentences of one document enter a split's sample
MIN_WORDS, MAX_WORDS = 8, 40
WRONG_VERDICTS = ("supported", "refuted", "conflicting")  # on a near-topic claim the right verdict is not_enough_info

# --- the sentence rule ---------------------------------------------------------------------------

SUBJECT = re.compile(r"\b(?:NATO|Ukrain\w*|Russia\w*|Kremlin|Kyiv|Putin|Zelensk\w*|North Atlantic|[Aa]lliance\w*|Allies|Ally|Allied)\b")
# "Alliance" and "Allies" in the text of another alliance: not about NATO.
OTHER_ALLIANCE = re.compile(r"\b(?:ROK|Korea\w*|Japan\w*|Australia\w*|Philippine\w*|AUKUS|Quad|Operation Allies Welcome)\b")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_TITLES = (
    r"President|Vice President|Secretary|Secretary-General|Minister|Prime Minister|Chancellor|Ambassador|Senator|Leader|"
    r"Speaker|Admiral|Director|Governor|King|Queen|Mr\.|Mrs\.|Ms\.|Dr\."
)
# Names of states, people, places, weapons and bodies that only news can settle: the treaties name
# none of them (Russia, Ukraine and their leaders included, so a sentence naming them always has one).
_NAMES = (
    r"Russia\w*|Ukrain\w*|Kremlin|"
    r"Biden|Trump|Harris|Vance|Obama|Blinken|Rubio|Austin|Hegseth|Sullivan|Waltz|Witkoff|Kirby|Psaki|Jean-Pierre|Leavitt|"
    r"Stoltenberg|Rutte|Zelenskyy|Zelensky|Putin|Lavrov|Lukashenko|Prigozhin|Navalny|Xi|Scholz|Macron|Sunak|Johnson|Starmer|"
    r"Meloni|Duda|Tusk|Erdogan|Erdoğan|Orbán|Orban|Kishida|Trudeau|"
    r"Kyiv|Kharkiv|Kherson|Mariupol|Bucha|Irpin|Odesa|Odessa|Lviv|Zaporizhzhia|Bakhmut|Avdiivka|Donbas|Donetsk|Luhansk|Crimea|"
    r"Kursk|Belgorod|Moscow|Minsk|Belarus|Georgia|Moldova|Poland|Romania|Lithuania|Latvia|Estonia|Baltic|Finland|Sweden|Hungary|"
    r"Germany|Turkey|Türkiye|Vilnius|Madrid|Brussels|Warsaw|Washington|Geneva|Jeddah|Riyadh|Istanbul|Alaska|Black Sea|"
    r"Wagner|Nord Stream|SWIFT|G7|G20|Ramstein|Patriot|HIMARS|Abrams|ATACMS|F-16|Javelin|Stinger|Bradley|Iran|China|"
    r"Congress|Senate|Pentagon|Ukraine Defense Contact Group|Bucharest Nine|European Union"
)
CURRENT_EVENTS = re.compile(
    rf"\b(?:\d|(?:{_MONTHS})\b|(?:{_TITLES})\s+[A-Z]|(?:{_NAMES})\b|(?:billion|million|thousands?|hundreds?|dozens?)\b|"
    r"(?:invasion|invaded|invade|war|ceasefire|sanctions?|summit|troops|weapons|missiles?|drones?|aid|assistance|"
    r"security assistance|refugees|grain|energy|oil|gas|nuclear|attacks?|strikes?|offensive|counteroffensive|"
    r"occupied|annex\w*|referend\w*|election|accession|ratif\w*|joined|membership)\b)"
)
_AUXILIARIES = (
    "is|are|was|were|be|been|being|am|has|have|had|having|will|would|shall|should|can|could|may|might|must|do|does|did|"
    "won't|can't|isn't|aren't|wasn't|weren't|hasn't|haven't|hadn't|doesn't|don't|didn't"
)
# A finite verb, roughly: an auxiliary or copula, a contraction of one ("we’re", "it’s", "won’t"), a
# past form in -ed or a common irregular one, a pronoun followed by a lower-case word ("we stand"),
# or a lower-case word in -s/-es ("Russia continues", "the alliance remains").
VERB = re.compile(
    rf"\b(?:{_AUXILIARIES}|[a-z]{{2,}}ed|said|made|met|took|gave|sent|began|became|led|held|spoke|told|saw|went|came|"
    r"brought|built|fought|lost|won|left|kept|paid|sought|thought|knew|stood|found|fell|rose|chose|grew|spent|[a-z]{2,}(?:s|es))\b|"
    r"\w[’'](?:re|ll|ve|m|d|t)\b|\b(?:[Ii]t|[Tt]hat|[Tt]here|[Hh]e|[Ss]he|[Ww]hat|[Ww]ho|[Hh]ere)[’']s\b|"
    r"\b(?:I|[Ww]e|[Yy]ou|[Tt]hey)\s+(?:also\s+|all\s+|now\s+|still\s+|never\s+|just\s+)?[a-z]{2,}\b"
)
QUOTES = re.compile('["“”«»‘]')  # ’ is an apostrophe in this text
# Markup and fragments that are no prose sentence: list items, headings, bracketed notes, speaker tags.
_NOT_PROSE = re.compile(r"^\s*(?:[-*•#>]|\d+[.)]\s|\[|\()|\b(?:https?://|www\.)|[|_*#\[\]{}<>]")
# Spoken hedges and fillers: a reply in a briefing rather than a statement of fact.
_SPOKEN = re.compile(
    r"^(?:(?:And|But|So|Or|Because|Well|Look|Yes|Yeah|Okay|OK|Oh|Um|Uh|Again|Listen|Thank|Thanks|Sure|Obviously|Clearly|Of course)\b|No,)|"
    r"\b(?i:you know|I think|I mean|I believe|I guess|I’m not going to|I'm not going to|let me|kind of|sort of)\b|"
    r"\b(?:inaudible|cross-?talk|laughter)\b|^\S+ —|"
    r"—.*—|\w- —|\b(\w+) — \1\b"  # two dashes, a cut-off word or a repeated word: speech, not prose
)
_QUESTION_STARTS = re.compile(r"^(?:Q|Question)\b[:.]?", re.I)
_SPEAKER = re.compile(r"^(?:(?:[A-Z][A-Z.’'-]*\s+){0,4}[A-Z][A-Z.’'-]+|Q)\s*:\s+")

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st gen sen rep reps gov lt col sgt adm maj capt jr sr no nos vol vs etc inc ltd co corp amb pres dept "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx est fig".split()
)
_SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")


def clean_text(text: str) -> list[str]:
    """The paragraphs of one background document as plain one-line prose: Markdown escapes
    undone, hard line breaks joined (a list item or heading line starts a paragraph of its own),
    speaker tags ("MS. PSAKI:") cut off, and reporters' questions ("Q ...") left out."""
    text = re.sub(r"\\(.)", r"\1", text.replace("\r\n", "\n").replace("\u00a0", " "))
    text = re.sub(r"\n(?=[ \t]*(?:[-*+•]|#+|\d{1,3}[.)])[ \t])", "\n\n", text)
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):
        line = re.sub(r"\s+", " ", block).strip()
        if not line or _QUESTION_STARTS.match(line):
            continue
        paragraphs.append(_SPEAKER.sub("", line, count=1))
    return paragraphs


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph: a break after ., ! or ? (and closing quotes or brackets) before
    a capital, a digit or an opening quote, except after a known abbreviation or a single letter
    ("U.S.", "Mr.", "Jan.")."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start() + 1]
        last_word = re.search(r"(\S+)$", before)
        word = last_word.group(1).rstrip(".").lower() if last_word else ""
        if match.group(0).startswith(".") and (word in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", word)):
            continue
        sentences.append(paragraph[start : match.end()].strip())
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def sentence_rejection(sentence: str) -> str | None:
    """Why `sentence` is not a near-topic claim, or None when it is one. The rule, in order: a
    prose sentence (no list mark, heading, link or markup) that starts with a capital letter, ends
    with a full stop, holds no question mark, exclamation mark or quotation marks (no question, no
    quote fragment), has 8 to 40 words, reads as a statement rather than speech (no opening filler
    such as "And", "So", "Well", no "you know" or "I think", at most one dash, no cut-off or repeated
    word), has a finite verb (roughly: `VERB`), names one of the subjects (NATO, Ukraine, Russia,
    Kremlin, Kyiv, Putin, Zelenskyy, North Atlantic, or the alliance and Allies unless the sentence
    names another alliance, such as the U.S.-ROK one), and names something only current events can
    settle (`CURRENT_EVENTS`: a digit, a month, a titled or listed person, state, place, weapon or
    body, or an event word such as war, sanctions, summit, troops, aid; Russia and Ukraine are on the
    list, so in effect only sentences about NATO alone need another)."""
    words = sentence.split()
    if _NOT_PROSE.search(sentence):
        return "not_prose"
    if not re.match(r"[A-Z]", sentence):
        return "no_capital_start"
    if not sentence.endswith(".") or sentence.endswith(".."):
        return "no_full_stop"
    if "?" in sentence or "!" in sentence:
        return "question_or_exclamation"
    if QUOTES.search(sentence):
        return "quotation"
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return "length"
    if _SPOKEN.search(sentence):
        return "spoken"
    if not VERB.search(sentence):
        return "no_verb"
    subjects = {match.group(0).lower() for match in SUBJECT.finditer(sentence)}
    if not subjects or (subjects <= {"alliance", "alliances", "allies", "ally", "allied"} and OTHER_ALLIANCE.search(sentence)):
        return "off_subject"
    if not CURRENT_EVENTS.search(sentence):
        return "no_current_events_marker"
    return None


def is_near_topic_sentence(sentence: str) -> bool:
    return sentence_rejection(sentence) is None


# --- documents, splits, sampling -----------------------------------------------------------------


@dataclass
class NearTopicClaim:
    id: str
    claim: str
    doc_id: str
    date: str
    title: str


def document_split(doc_id: str) -> str:
    """dev or test, by a hash of the document id: a document gives sentences to one split only."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{doc_id}".encode()).digest()
    return "dev" if digest[0] < 128 else "test"


def sentence_id(doc_id: str, sentence: str) -> str:
    return "nt-" + hashlib.sha256(f"{doc_id}\x00{sentence}".encode()).hexdigest()[:12]


def normalized(sentence: str) -> str:
    return re.sub(r"\W+", " ", sentence.lower()).strip()


def read_background(data_dir: Path) -> list[dict]:
    with open(data_dir / BACKGROUND_FILE, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def candidates(documents: Iterable[dict]) -> Iterator[NearTopicClaim]:
    """Every sentence of `documents` the rule keeps, first occurrence only (documents in order of
    date and id; duplicates compared case- and punctuation-blind across all documents)."""
    seen: set[str] = set()
    for document in sorted(documents, key=lambda d: (d["date"], d["id"])):
        for paragraph in clean_text(document["text"]):
            for sentence in split_sentences(paragraph):
                key = normalized(sentence)
                if key in seen or not is_near_topic_sentence(sentence):
                    continue
                seen.add(key)
                yield NearTopicClaim(sentence_id(document["id"], sentence), sentence, document["id"], document["date"], document["title"])


def sample_key(claim: NearTopicClaim, seed: int, stage: str) -> str:
    """A seeded order of the sentences: a hash of the seed, the sampling stage and the sentence id,
    so that a sentence in or out of the pool does not reshuffle the others."""
    return hashlib.sha256(f"{seed}:{stage}:{claim.id}".encode()).hexdigest()


def sample_splits(
    documents: Iterable[dict], per_split: int = PER_SPLIT, per_document: int = PER_DOCUMENT, seed: int = SEED
) -> dict[str, list[NearTopicClaim]]:
    """A seeded sample of `per_split` kept sentences per split, at most `per_document` from one
    document (the first in one seeded order), drawn from the pool in another seeded order (a
    document's share does not grow with its length), listed in order of document date and id."""
    by_document: dict[str, list[NearTopicClaim]] = {}
    for claim in candidates(documents):
        by_document.setdefault(claim.doc_id, []).append(claim)
    pools: dict[str, list[NearTopicClaim]] = {split: [] for split in SPLITS}
    for doc_id, found in by_document.items():
        pools[document_split(doc_id)] += sorted(found, key=lambda c: sample_key(c, seed, "document"))[:per_document]
    return {
        split: sorted(sorted(pool, key=lambda c: sample_key(c, seed, "split"))[:per_split], key=lambda c: (c.date, c.doc_id, c.id))
        for split, pool in pools.items()
    }


def read_exclusions(path: Path) -> dict[str, str]:
    """Sentence ids excluded by hand, each with its reason: `ID reason` per line; `#` starts a comment line."""
    excluded = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                identifier, _, reason = line.strip().partition(" ")
                excluded[identifier] = reason.strip()
    return excluded


def make_sets(data_dir: Path, out_dir: Path = SETS_DIR, per_split: int = PER_SPLIT, seed: int = SEED) -> dict[str, dict]:
    """Write `near_topic_{dev,test}.jsonl` to `out_dir` (less the exclusions there); the counts."""
    sampled = sample_splits(read_background(data_dir), per_split, seed=seed)
    excluded = read_exclusions(out_dir / EXCLUDED_FILE)
    counts = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, claims in sampled.items():
        kept = [c for c in claims if c.id not in excluded]
        with open(out_dir / f"near_topic_{split}.jsonl", "w", encoding="utf-8") as handle:
            for claim in kept:
                handle.write(json.dumps(asdict(claim), ensure_ascii=False) + "\n")
        counts[split] = {
            "sampled": len(claims),
            "excluded": len(claims) - len(kept),
            "claims": len(kept),
            "documents": len({c.doc_id for c in kept}),
        }
    return counts


# --- reading the sets and scoring ----------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_near_topic(split: str, sets_dir: Path = SETS_DIR) -> list[dict]:
    return _read_jsonl(sets_dir / f"near_topic_{split}.jsonl")


def load_treaty_settled(split: str | None = None, sets_dir: Path = SETS_DIR) -> list[dict]:
    rows = _read_jsonl(sets_dir / TREATY_SETTLED_FILE)
    return [r for r in rows if split is None or r["split"] == split]


def near_topic_report(claims: list[dict], results: list, examples: int = 8) -> dict:
    """Scores on near-topic claims, where every verdict but not_enough_info is wrong: the share of
    each verdict, the wrong-verdict share, and the most confident wrong verdicts with their best
    evidence. `results` are `service.results.ClaimResult`s, one per claim."""
    verdicts = [r.verdict for r in results]
    shares = {v: _share(sum(x == v for x in verdicts), len(verdicts)) for v in (*WRONG_VERDICTS, "not_enough_info")}
    wrong = [(c, r) for c, r in zip(claims, results, strict=True) if r.verdict in WRONG_VERDICTS]
    wrong.sort(key=lambda pair: (-pair[1].confidence, pair[0]["id"]))
    return {
        "claims": len(claims),
        "documents": len({c["doc_id"] for c in claims}),
        "wrong_verdict_share": _share(len(wrong), len(claims)),
        "verdict_shares": shares,
        "wrong_examples": [_example(c, r) for c, r in wrong[:examples]],
    }


def treaty_settled_report(claims: list[dict], results: list) -> dict:
    """Scores on claims the treaties settle: accuracy overall and on each gold label, and the
    precision and coverage of the decisive verdicts (supported or refuted)."""
    pairs = list(zip(claims, results, strict=True))
    by_label = {
        label: _share(sum(r.verdict == label for c, r in pairs if c["label"] == label), sum(c["label"] == label for c in claims))
        for label in ("supported", "refuted")
    }
    verdicts = [r.verdict for r in results]
    return {
        "claims": len(claims),
        "accuracy_on_supported": by_label["supported"],
        "accuracy_on_refuted": by_label["refuted"],
        **decisive_precision([c["label"] for c in claims], verdicts),
        "verdict_shares": {v: _share(verdicts.count(v), len(verdicts)) for v in (*WRONG_VERDICTS, "not_enough_info")},
        "errors": [_example(c, r) | {"gold": c["label"], "source": c["source"]} for c, r in pairs if r.verdict != c["label"]],
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _example(claim: dict, result) -> dict:
    best = result.evidence[0] if result.evidence else None  # the evidence the service shows first
    example = {"id": claim["id"], "claim": claim["claim"], "verdict": result.verdict, "confidence": round(result.confidence, 4)}
    if best is not None:
        sentence = best.sentence.text if best.sentence is not None else best.text
        example["evidence"] = {
            "doc_id": best.doc_id,
            "section": best.section,
            "stance": best.stance,
            "retrieval_rank": best.retrieval_rank,
            "retrieval_score": round(best.retrieval_score, 4),
            "text": re.sub(r"\s+", " ", sentence).strip()[:300],
        }
    return example
