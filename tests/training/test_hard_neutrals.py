"""Hard neutral pairs (service/training/hard_neutrals.py): splits respected, labels, sources, lengths, determinism."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from itertools import count
from pathlib import Path

import pytest
from fakes import HashEmbedder

from service.evaluation.near_topic import BACKGROUND_FILE, document_split, load_near_topic, normalized
from service.training import hard_neutrals as hn
from service.training.datasets import StancePair, default_data_dir, fever_claims, read_fnc1, split_of

# --- fixtures -------------------------------------------------------------------------------------

OFF_SUBJECT = [  # news the treaties cannot settle, naming neither NATO, Ukraine nor Russia
    "President Biden announced new sanctions on Iran in March 2023 after the talks in Geneva collapsed.",
    "The Department of Energy released 30 million barrels of oil from the reserve to lower gas prices.",
    "Secretary Blinken met the foreign minister of Japan in Tokyo on Tuesday to discuss trade and energy.",
    "The administration announced 500 million dollars in new aid for farmers hit by the drought this summer.",
]
NEAR_TOPIC = [  # pass the near-topic rule itself: the benchmark samples them
    "Russia launched 40 missiles at Kyiv overnight, damaging the city's power grid.",
    "President Biden met NATO Secretary General Stoltenberg in Vilnius on July 11, 2023.",
    "NATO Allies agreed to lift the Membership Action Plan for Ukraine at the summit.",
]
RESTATING = [
    "In 2023 the President reaffirmed that Article 5 commits every ally to defend Poland.",
    "The treaty says that sanctions on Iran will stay in place until March 2024.",
]
VENEZUELA = "The Treasury announced 20 new sanctions on Venezuela in June 2022."
SHARED = "The Secretary of State visited Brazil in May 2022 to sign a new energy agreement."
TREATY = """# Test Treaty

## Article 1

The Parties will settle their disputes by peaceful means and refrain from the use of force.

## Article 2

The Parties agree that an armed attack against one of them shall be considered an attack against them all.
"""


def _id_in(split: str, key, prefix: str = "") -> str:
    """The first `prefix + n` that `key(...)` puts into `split`."""
    return next(f"{prefix}{n}" for n in count() if key(f"{prefix}{n}") == split)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def background(tmp_path):
    """A data folder with five background documents and a sets folder listing one more as held out."""
    dev_doc = _id_in("dev", document_split, "dev-doc-")
    test_doc = _id_in("test", document_split, "test-doc-")
    listed_doc = _id_in("dev", document_split, "listed-doc-")  # in the committed dev set only
    documents = [
        {"id": "train-doc-1", "date": "2022-01-01", "title": "t", "text": " ".join(OFF_SUBJECT[:2] + RESTATING)},
        {"id": "train-doc-2", "date": "2022-02-01", "title": "t", "text": f"{OFF_SUBJECT[2]}\n\n{SHARED}"},
        {"id": dev_doc, "date": "2022-03-01", "title": "t", "text": f"{NEAR_TOPIC[0]} {NEAR_TOPIC[1]}\n\n{OFF_SUBJECT[3]} {SHARED}"},
        {"id": test_doc, "date": "2022-04-01", "title": "t", "text": NEAR_TOPIC[2]},
        {
            "id": listed_doc,
            "date": "2022-05-01",
            "title": "t",
            "text": VENEZUELA,
        },
    ]
    data = tmp_path / "data"
    _write_jsonl(data / BACKGROUND_FILE, documents)
    sets = tmp_path / "sets"
    _write_jsonl(sets / "near_topic_dev.jsonl", [{"id": "nt-x", "claim": "A claim.", "doc_id": listed_doc, "date": "", "title": ""}])
    _write_jsonl(sets / "near_topic_test.jsonl", [])
    treaty = tmp_path / "treaty"
    treaty.mkdir()
    (treaty / "test_treaty.md").write_text(TREATY, encoding="utf-8")
    return {"data": data, "sets": sets, "treaty": treaty, "dev_doc": dev_doc, "test_doc": test_doc, "listed_doc": listed_doc}


def _fnc1_fixture(data: Path) -> dict:
    """Four stories: A and D in train, B in dev, C in test (split by each story's smallest body id)."""
    ids: dict[str, list[int]] = {"train": [], "dev": [], "test": []}
    for n in count(1):
        split = split_of("fnc1", n)
        if len(ids[split]) < 3:
            ids[split].append(n)
        if all(len(found) == 3 for found in ids.values()):
            break
    a1, a2, d1 = ids["train"]
    b1, c1 = ids["dev"][0], ids["test"][0]
    bodies = {
        a1: "Officials met on Monday to talk about the budget for next year.\n"
        "The city council reportedly voted to close the old bridge over the river next month.\n"
        "Residents have asked for a new bridge since the floods of last spring.",
        a2: "The old bridge over the river will close next month, the mayor said on Tuesday at noon.",
        d1: "A rare white whale was seen off the coast of Norway by a fishing crew this week.",
        b1: "A famous singer was rumored to have bought an island in the Pacific Ocean last year.",
        c1: "The football club fired its coach after a long run of losses in the league this season.",
    }
    headlines = {
        "A": "City council votes to close the old bridge over the river",
        "B": "Singer buys island in the Pacific",
        "C": "Football club fires coach after losses",
        "D": "White whale seen off Norway",
    }
    rows = [
        (headlines["A"], a1, "discuss"),
        (headlines["A"], a2, "agree"),
        (headlines["B"], b1, "discuss"),
        (headlines["C"], c1, "discuss"),
        (headlines["D"], d1, "discuss"),
        (headlines["A"], d1, "unrelated"),  # both train: kept
        (headlines["A"], b1, "unrelated"),  # train headline, dev body: left out
        (headlines["B"], a1, "unrelated"),  # dev headline, train body: left out
    ]
    folder = data / "stance-extra" / "fnc1"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "competition_test_bodies.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows(bodies.items())
    with open(folder / "competition_test_stances.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Headline", "Body ID", "Stance"])
        writer.writerows(rows)
    return {"headlines": headlines, "bodies": bodies, "ids": {"a1": a1, "a2": a2, "b1": b1, "c1": c1, "d1": d1}}


def _fever_fixture(data: Path) -> dict:
    """One page, Alpha_Band, with five known sentences, each the evidence of one claim."""
    ids: dict[str, list[int]] = {"train": [], "dev": [], "test": []}
    for n in count(1000):
        split = split_of("fever", n)
        if len(ids[split]) < 6:
            ids[split].append(n)
        if all(len(found) >= 2 for found in ids.values()) and len(ids["train"]) >= 6:
            break
    train, dev, test = ids["train"], ids["dev"], ids["test"]
    sentences = {
        0: "Alpha Band is a rock band from Oslo",
        3: "The band released its debut album Sunrise in 1995",
        5: "Its drummer left the group to study medicine abroad",
        7: "The band toured Japan with three other groups in the summer",
        9: "The group still rehearses in Oslo every single week",
        11: "The singer of the band once appeared on a cooking show",
    }
    users = {0: train[0], 3: train[1], 5: dev[0], 7: train[2], 9: train[3], 11: test[0]}
    claims = {
        train[0]: "Alpha Band is from Oslo.",
        train[1]: "Alpha Band released an album.",
        dev[0]: "Alpha Band had a drummer.",
        train[2]: "Alpha Band toured Japan.",
        train[3]: "Alpha Band rehearses weekly.",
        test[0]: "Alpha Band's singer cooked on television.",
    }
    passages, rows = [], []
    for number, (line, sentence) in enumerate(sentences.items()):
        passage_id = f"fever-ev-{number:05d}"
        passages.append({"id": passage_id, "text": f"{sentence} .", "pages": ["Alpha_Band"]})
        claim_id = users[line]
        evidence = [[[1, 2, "Alpha_Band", line]]]
        rows.append(
            {
                "id": claim_id,
                "claim": claims[claim_id],
                "label": "SUPPORTS",
                "evidence": evidence,
                "evidence_text": f"{sentence} .",
                "evidence_passage_id": passage_id,
            }
        )
    mismatched = train[4]  # two annotated lines, one sentence: skipped
    rows.append(
        {
            "id": mismatched,
            "claim": "Alpha Band won a prize.",
            "label": "SUPPORTS",
            "evidence": [[[1, 2, "Alpha_Band", 0]], [[1, 2, "Alpha_Band", 1]]],
            "evidence_text": f"{sentences[0]} .",
            "evidence_passage_id": "fever-ev-00000",
        }
    )
    rows.append({"id": train[5], "claim": "Alpha Band likes tea.", "label": "NOT ENOUGH INFO", "evidence": [[[1, None, None, None]]]})
    _write_jsonl(data / "fever" / "corpus_evidence_passages.jsonl", passages)
    _write_jsonl(data / "fever" / "fever_paper_dev.jsonl", rows)
    return {"sentences": sentences, "claims": claims, "train": train, "dev": dev, "test": test, "mismatched": mismatched}


def _assert_hard_neutral(pairs: list[StancePair], source: str) -> None:
    assert pairs
    assert {p.stance for p in pairs} == {"neutral"}
    assert {p.source for p in pairs} == {source}


# --- 1. treaty neighbours -----------------------------------------------------------------------


def test_news_sentences_keep_to_their_document_split_and_leave_the_near_topic_sets_out(background):
    data, sets = background["data"], background["sets"]
    found = {split: hn.news_sentences(data, split, sets) for split in hn.SPLITS}
    documents = {split: {doc for doc, _ in found[split]} for split in hn.SPLITS}
    sentences = {split: [s for _, s in found[split]] for split in hn.SPLITS}

    assert documents["train"] == {"train-doc-1", "train-doc-2"}
    assert background["dev_doc"] in documents["dev"] and background["listed_doc"] in documents["dev"]
    assert not documents["test"]  # its one sentence is in the near-topic test set
    assert set(sentences["train"]) == set(OFF_SUBJECT[:3])  # the restating ones and the one shared with dev are out
    assert set(sentences["dev"]) == {OFF_SUBJECT[3], SHARED, VENEZUELA}
    held = {normalized(s) for s in NEAR_TOPIC}
    assert not held & {normalized(s) for split in hn.SPLITS for s in sentences[split]}
    assert hn.background_split(json_lines(data / BACKGROUND_FILE), sets) == {
        "train-doc-1": "train",
        "train-doc-2": "train",
        background["dev_doc"]: "dev",
        background["test_doc"]: "test",
        background["listed_doc"]: "dev",
    }
    assert [hn.news_sentence_rejection(s) for s in RESTATING] == ["restates_treaty", "restates_treaty"]
    assert all(hn.news_sentence_rejection(s) is None for s in OFF_SUBJECT + NEAR_TOPIC)


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_treaty_neighbours_pair_train_sentences_with_the_passages_ranked_first(background):
    data, sets, treaty = background["data"], background["sets"], background["treaty"]
    pairs = hn.treaty_neighbours(data, "train", HashEmbedder(), sources_dir=treaty, sets_dir=sets)
    _assert_hard_neutral(pairs, "treaty-neighbours")
    passages = {passage.text for passage, _ in hn.treaty_passages(treaty)}
    assert len(passages) == 2 and {p.premise for p in pairs} <= passages
    assert sorted(p.hypothesis for p in pairs) == sorted(OFF_SUBJECT[:3])
    assert hn.treaty_neighbours(data, "train", HashEmbedder(), sources_dir=treaty, sets_dir=sets) == pairs  # deterministic
    assert len(hn.treaty_neighbours(data, "train", HashEmbedder(), limit=2, sources_dir=treaty, sets_dir=sets)) == 2
    both = hn.treaty_neighbours(data, "train", HashEmbedder(), per_sentence=2, sources_dir=treaty, sets_dir=sets)
    assert Counter(p.hypothesis for p in both) == dict.fromkeys(OFF_SUBJECT[:3], 2) and {p.premise for p in both} == passages
    dense = hn.treaty_neighbours(data, "train", HashEmbedder(), sources_dir=treaty, sets_dir=sets, fusion=False)
    assert [p.hypothesis for p in dense] == [p.hypothesis for p in pairs]


def test_rank_passages_puts_the_passage_sharing_the_words_first():
    texts = ["peaceful means and disputes", "an armed attack against one of them"]
    assert hn.rank_passages(HashEmbedder(), ["an armed attack against one ally"], texts, 2) == [[1, 0]]
    assert hn.rank_passages(HashEmbedder(), ["disputes settled by peaceful means"], texts, 1, fusion=False) == [[0]]
    assert hn.rank_passages(HashEmbedder(), [], texts, 1) == []


# --- 2. FNC-1 -------------------------------------------------------------------------------------


def test_fnc1_neutrals_split_by_story_and_take_sentences(tmp_path):
    fixture = _fnc1_fixture(tmp_path)
    headlines, ids = fixture["headlines"], fixture["ids"]
    splits = hn.fnc1_story_splits(read_fnc1(tmp_path)[1])
    assert splits[str(ids["a2"])] == splits[str(ids["a1"])] == splits[f"headline:{headlines['A']}"] == "train"  # agree joins a2 to A
    assert splits[str(ids["b1"])] == "dev" and splits[str(ids["c1"])] == "test"

    train = hn.fnc1_neutrals(tmp_path, "train")
    assert {p.source for p in train} == {"fnc1-unrelated", "fnc1-discuss"}
    assert {p.stance for p in train} == {"neutral"}
    discuss = {p.hypothesis: p.premise for p in train if p.source == "fnc1-discuss"}
    assert discuss == {
        headlines["A"]: "The city council reportedly voted to close the old bridge over the river next month.",
        headlines["D"]: fixture["bodies"][ids["d1"]],
    }
    unrelated = [p for p in train if p.source == "fnc1-unrelated"]
    assert [(p.hypothesis, p.premise) for p in unrelated] == [(headlines["A"], fixture["bodies"][ids["d1"]])]
    dev = hn.fnc1_neutrals(tmp_path, "dev")
    assert [(p.source, p.hypothesis) for p in dev] == [("fnc1-discuss", headlines["B"])]  # the cross-split unrelated pairs are out
    assert [p.hypothesis for p in hn.fnc1_neutrals(tmp_path, "test")] == [headlines["C"]]
    hedged = hn.fnc1_neutrals(tmp_path, "train", ("discuss-hedged",))
    assert [(p.source, p.hypothesis) for p in hedged] == [("fnc1-discuss-hedged", headlines["A"])]  # D's body hedges nothing
    assert hn.fnc1_neutrals(tmp_path, "train") == train
    assert len(hn.fnc1_neutrals(tmp_path, "train", ("discuss",), limit=1)) == 1
    with pytest.raises(ValueError, match="unknown FNC-1 kinds"):
        hn.fnc1_neutrals(tmp_path, "train", ("agree",))


def test_sentence_premise_is_one_or_two_sentences():
    sentences = ["A short first sentence of seven words.", "This second sentence is long enough to stand on its own in a pair.", "Tiny."]
    assert hn.sentence_premise(sentences, 0) == f"{sentences[0]} {sentences[1]}"
    assert hn.sentence_premise(sentences, 1) == sentences[1]
    assert hn.sentence_premise(sentences, 2) is None
    assert hn.sentence_premise(["word " * 70], 0) is None


# --- 3. sibling sentences ---------------------------------------------------------------------------


def test_sibling_sentences_are_the_pages_other_sentences_of_the_same_or_train_split(tmp_path):
    fixture = _fever_fixture(tmp_path)
    sentences, claims, train = fixture["sentences"], fixture["claims"], fixture["train"]
    pairs = hn.sibling_sentences(tmp_path, "train", per_claim=10)
    _assert_hard_neutral(pairs, "fever-siblings")
    by_claim: dict[str, set[str]] = {}
    for pair in pairs:
        by_claim.setdefault(pair.hypothesis, set()).add(pair.premise)
    # Oslo claim: not its own evidence, not the dev or test claims' evidence, not the sentence that repeats "Oslo"
    assert by_claim[claims[train[0]]] == {sentences[3], sentences[7]}
    assert set(by_claim) <= {claims[c] for c in train[:4]}  # train claims only; the mismatched and NEI ones give none
    assert all(sentences[5] not in premises and sentences[11] not in premises for premises in by_claim.values())
    dev = hn.sibling_sentences(tmp_path, "dev", per_claim=10)
    assert {p.hypothesis for p in dev} == {claims[fixture["dev"][0]]}
    assert {p.premise for p in dev} == {sentences[line] for line in (0, 3, 7, 9)}  # train claims' evidence may serve dev, test's may not
    assert hn.sibling_sentences(tmp_path, "train", per_claim=10) == pairs
    assert max(Counter(p.hypothesis for p in hn.sibling_sentences(tmp_path, "train", per_claim=1)).values()) == 1
    assert len(hn.sibling_sentences(tmp_path, "train", limit=2, per_claim=10)) == 2


# --- 4. COVID-Fact neighbours ----------------------------------------------------------------------


def test_covidfact_neighbours_are_other_articles_sentences_on_the_topic_that_do_not_restate_the_claim(tmp_path):
    def article(split: str, prefix: str) -> str:
        return _id_in(split, lambda key: split_of("covidfact", key), f"https://news.example/{prefix}")

    train_a, train_b, dev_c, dev_d = article("train", "a"), article("train", "b"), article("dev", "c"), article("dev", "d")
    own = "Patients given remdesivir recovered in 11 days against 15 days with placebo in the trial."
    restates = "Hospitalised covid-19 patients in the ward wore masks at all times."  # 4 of the claim's 8 content words
    on_topic = "Most covid-19 patients in the trial wore masks while nurses recorded each case."  # 3 of them
    barely = "Nurses recorded every covid-19 case in the wards where masks were worn."  # 2 of them
    dev_only = "Covid-19 patients recovered faster in the dev trial of another drug with many volunteers."
    shared = "Covid-19 patients and volunteers were followed for twelve months in both of the studies."  # train and dev evidence
    claim = "Remdesivir shortens recovery time in hospitalised covid-19 patients"
    counter = "Remdesivir lengthens recovery time in hospitalised covid-19 patients"
    brazil = "Covid-19 patients in Brazil queue for hospital beds as cases climb"
    rows = [
        {"claim": claim, "label": "SUPPORTED", "evidence": [own], "gold_source": train_a},
        {"claim": counter, "label": "REFUTED", "evidence": [own], "gold_source": train_a},
        {"claim": "Masks cut covid-19 spread in wards", "label": "SUPPORTED",
         "evidence": [restates, on_topic, barely, "Tiny covid-19 note."], "gold_source": train_b},
        {"claim": "Volunteers were followed in the studies", "label": "SUPPORTED", "evidence": [shared], "gold_source": train_b},
        {"claim": "Another drug speeds covid-19 recovery", "label": "SUPPORTED", "evidence": [dev_only, shared], "gold_source": dev_c},
        {"claim": brazil, "label": "SUPPORTED", "evidence": ["Hospitals in Brazil ran out of beds for the sick in the spring."],
         "gold_source": dev_d},
    ]  # fmt: skip
    _write_jsonl(tmp_path / "covidfact" / "COVIDFACT_dataset.jsonl", rows)

    pairs = hn.covidfact_neighbours(tmp_path, "train")
    _assert_hard_neutral(pairs, "covidfact-neighbours")
    # not the article's own evidence, not a sentence with half the claim's words, not dev or shared evidence: the others,
    # for the claim and its counter-claim alike
    assert sorted((p.hypothesis, p.premise) for p in pairs) == sorted(
        [(claim, on_topic), (claim, barely), (counter, on_topic), (counter, barely)]
    )
    first = hn.covidfact_neighbours(tmp_path, "train", per_claim=1)
    assert {(p.hypothesis, p.premise) for p in first} == {(claim, on_topic), (counter, on_topic)}  # the most words shared first
    assert hn.covidfact_neighbours(tmp_path, "train") == pairs
    assert len(hn.covidfact_neighbours(tmp_path, "train", limit=1)) == 1
    assert len(hn.covidfact_neighbours(tmp_path, "train", min_shared=3)) == 2
    # dev reads dev-only evidence: the other dev article's sentence, never a train one
    assert [(p.hypothesis, p.premise) for p in hn.covidfact_neighbours(tmp_path, "dev")] == [(brazil, dev_only)]


# --- the sets named, and the pair files -------------------------------------------------------------


def test_parse_sets_expands_aliases_and_refuses_unknown_names():
    assert hn.parse_sets("fnc1, treaty") == ("treaty", "fnc1-unrelated", "fnc1-discuss")
    assert hn.parse_sets("all") == tuple(set_ for set_ in hn.SET_SOURCES if set_ != "covidfact-neighbours")  # the shipped recipe's
    assert hn.parse_sets("all,covidfact-neighbours") == tuple(hn.SET_SOURCES)
    assert hn.parse_sets("none") == () and hn.parse_sets("") == ()
    with pytest.raises(ValueError, match="unknown hard-neutral set"):
        hn.parse_sets("treaty,snli")


def test_saved_pairs_carry_each_set_into_dev_and_test_and_the_train_sets_into_train(tmp_path, background):
    from service.training.stance import PAIRS_SETTINGS, TrainingConfig, read_pairs, write_pairs

    data = background["data"]
    _fnc1_fixture(data)
    _fever_fixture(data)
    base = tmp_path / "base"
    for split in hn.SPLITS:
        write_pairs(
            [StancePair("a premise", "a hypothesis", "supports", "snli"), StancePair("stale", "claim", "neutral", "fever-siblings")],
            base / f"{split}.jsonl.gz",
        )
    (base / PAIRS_SETTINGS).write_text(json.dumps({"hard_neutrals": 3, "pairs": {}}))
    config = TrainingConfig(data, tmp_path / "model", pairs_dir=base)
    out = tmp_path / "out"
    sets = ("treaty", "fnc1-discuss", "siblings")
    counts = hn.save_split_pairs_with_hard_neutrals(config, out, sets, ("siblings",), train_cap=50, eval_cap=5, embedder=HashEmbedder())

    written = {split: read_pairs(out / f"{split}.jsonl.gz") for split in hn.SPLITS}
    assert {split: dict(found) for split, found in counts.items()} == {
        split: dict(Counter(p.source for p in pairs)) for split, pairs in written.items()
    }
    assert set(counts["train"]) == {"snli", "fever-siblings"}
    assert "stale" not in {p.premise for split in hn.SPLITS for p in written[split]}
    assert {"treaty-neighbours", "fnc1-discuss", "fever-siblings"} <= set(counts["dev"])
    assert all(count <= 5 for source, count in counts["dev"].items() if source in hn.HARD_NEUTRAL_SOURCES)
    settings = json.loads((out / PAIRS_SETTINGS).read_text())
    assert settings["hard_neutrals"] == 3
    assert settings["hard_neutral_sets"] == {"sets": list(sets), "train_sets": ["siblings"], "train_cap": 50, "eval_cap": 5}
    again = tmp_path / "again"
    hn.save_split_pairs_with_hard_neutrals(config, again, sets, ("siblings",), train_cap=50, eval_cap=5, embedder=HashEmbedder())
    for split in hn.SPLITS:
        assert gzip.decompress((again / f"{split}.jsonl.gz").read_bytes()) == gzip.decompress((out / f"{split}.jsonl.gz").read_bytes())
    with pytest.raises(ValueError, match="not among the sets"):
        hn.save_split_pairs_with_hard_neutrals(config, again, ("siblings",), ("treaty",), embedder=HashEmbedder())


# --- the real data ------------------------------------------------------------------------------------

REAL_DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    not (REAL_DATA / BACKGROUND_FILE).is_file() or not (REAL_DATA / "stance-extra" / "fnc1").is_dir(),
    reason=f"no shared data at {REAL_DATA}",
)


@needs_data
def test_on_the_real_data_no_held_out_claim_or_document_reaches_train():
    held_documents = {row["doc_id"] for split in ("dev", "test") for row in load_near_topic(split)}
    held_sentences = {normalized(row["claim"]) for split in ("dev", "test") for row in load_near_topic(split)}
    news = {split: hn.news_sentences(REAL_DATA, split) for split in ("train", "dev")}
    assert len(news["train"]) > 1000 and len(news["dev"]) > 1000
    assert not {doc for doc, _ in news["train"]} & held_documents
    assert all(document_split(doc) == "dev" for doc, _ in news["dev"])
    assert not {normalized(s) for split in news for _, s in news[split]} & held_sentences
    assert all(hn.news_sentence_rejection(s) is None and len(s.split()) <= 40 for split in news for _, s in news[split])

    story = {
        " ".join(node.removeprefix("headline:").split()): split
        for node, split in hn.fnc1_story_splits(read_fnc1(REAL_DATA)[1]).items()
        if node.startswith("headline:")
    }
    fnc1 = {split: hn.fnc1_neutrals(REAL_DATA, split, hn.FNC1_KINDS, limit=400) for split in ("train", "dev")}
    for split, pairs in fnc1.items():
        assert {p.source for p in pairs} == {f"fnc1-{kind}" for kind in hn.FNC1_KINDS}
        assert all(story[p.hypothesis] == split for p in pairs)
        assert all(len(p.premise) <= hn.SENTENCE_CHARS and p.stance == "neutral" for p in pairs)
    assert not {p.hypothesis for p in fnc1["train"]} & {p.hypothesis for p in fnc1["dev"]}

    claim_splits: dict[str, set[str]] = {}
    for claim in fever_claims(REAL_DATA):
        claim_splits.setdefault(claim.claim, set()).add(claim.split)
    siblings = {split: hn.sibling_sentences(REAL_DATA, split, limit=500) for split in ("train", "dev")}
    for split, pairs in siblings.items():
        _assert_hard_neutral(pairs, "fever-siblings")
        assert all(split in claim_splits[p.hypothesis] for p in pairs)
        assert all(len(p.premise) <= hn.SENTENCE_CHARS for p in pairs)
    assert siblings["train"] == hn.sibling_sentences(REAL_DATA, "train", limit=500)


@needs_data
@pytest.mark.integration
def test_on_the_real_data_treaty_neighbours_are_shipped_treaty_passages():
    from service.runtime.embedding import Embedder

    embedder = Embedder()
    embedder.warm_up()
    pairs = hn.treaty_neighbours(REAL_DATA, "dev", embedder, limit=12)
    _assert_hard_neutral(pairs, "treaty-neighbours")
    assert len(pairs) == 12
    passages = {passage.text for passage, _ in hn.treaty_passages()}
    assert {p.premise for p in pairs} <= passages
    assert [p.hypothesis for p in pairs] == [s for _, s in hn.news_sentences(REAL_DATA, "dev")[:12]]
