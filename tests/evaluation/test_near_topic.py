"""The near-topic benchmark: the sentence rule, the split by document, the scores, and the committed sets."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from service.evaluation import near_topic
from service.evaluation.near_topic import (
    SETS_DIR,
    clean_text,
    document_split,
    load_near_topic,
    load_treaty_settled,
    make_sets,
    near_topic_report,
    read_exclusions,
    sample_splits,
    sentence_rejection,
    split_sentences,
    treaty_settled_report,
)
from service.results import ClaimResult, Evidence, EvidenceSentence
from service.training.datasets import default_data_dir

KEPT = "Russia launched 40 missiles at Kyiv overnight, damaging the city's power grid."


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        (KEPT, None),
        ("President Biden met NATO Secretary General Stoltenberg in Vilnius on July 11, 2023.", None),
        ("NATO Allies agreed to lift the Membership Action Plan for Ukraine at the summit.", None),
        ("- Russia launched 40 missiles at Kyiv overnight, damaging the city's grid.", "not_prose"),
        ("(Applause.) Russia launched missiles at Kyiv overnight, damaging the grid.", "not_prose"),
        ("russia launched 40 missiles at Kyiv overnight, damaging the city's power grid.", "no_capital_start"),
        ("Russia launched 40 missiles at Kyiv overnight, damaging the city's power grid", "no_full_stop"),
        ("Did Russia launch 40 missiles at Kyiv overnight, damaging the power grid?", "no_full_stop"),
        ("Russia launched 40 missiles at Kyiv overnight?! The power grid is damaged.", "question_or_exclamation"),
        ("Russia said the 40 missiles were “a response” to attacks on its territory.", "quotation"),
        ("Russia attacked Kyiv in 2022.", "length"),
        ("And Russia launched 40 missiles at Kyiv overnight, damaging the city's power grid.", "spoken"),
        ("I think Russia launched 40 missiles at Kyiv overnight, damaging the city's grid.", "spoken"),
        ("We — we know Russia launched 40 missiles at Kyiv overnight, damaging the grid.", "spoken"),
        ("Ukraine in the long cold winter of 2022 along the Dnipro river near Kyiv.", "no_verb"),
        ("The United States announced 40 new sanctions on Iranian oil companies today.", "off_subject"),
        ("The U.S.-ROK Alliance has kept the peace on the Korean Peninsula for 70 years.", "off_subject"),
        ("NATO is a defensive alliance that threatens no one and seeks no confrontation.", "no_current_events_marker"),
    ],
)
def test_the_sentence_rule_keeps_declarative_news_sentences_about_the_subjects_only(sentence, reason):
    assert sentence_rejection(sentence) == reason


def test_clean_text_joins_wrapped_lines_cuts_speaker_tags_and_leaves_questions_out():
    text = (
        "MS. PSAKI: Russia has massed\ntroops near Ukraine \\[since March\\].\n\n"
        "Q Is NATO going to respond\nto that?\n\n"
        "THE PRESIDENT: We will.\n- first item\n- second item\n"
    )
    assert clean_text(text) == [
        "Russia has massed troops near Ukraine [since March].",
        "THE PRESIDENT: We will."[len("THE PRESIDENT: ") :],
        "- first item",
        "- second item",
    ]


def test_sentences_break_at_full_stops_but_not_after_abbreviations_or_initials():
    paragraph = "The U.S. and Mr. Zelenskyy met on Jan. 5 in Kyiv. Russia attacked again. 12 drones fell."
    assert split_sentences(paragraph) == ["The U.S. and Mr. Zelenskyy met on Jan. 5 in Kyiv.", "Russia attacked again.", "12 drones fell."]


def _documents(count: int = 40, sentences: int = 5) -> list[dict]:
    documents = []
    for number in range(count):
        text = " ".join(f"Russia fired {number * 10 + k} missiles at Kyiv on day {k} of the war in Ukraine." for k in range(sentences))
        documents.append(
            {"id": f"doc-{number:03d}", "date": f"2022-03-{1 + number % 28:02d}", "title": f"Statement {number}", "text": text}
        )
    documents.append({"id": "doc-late", "date": "2023-01-01", "title": "Copy", "text": documents[0]["text"]})  # a repeat
    return documents


def test_the_splits_are_by_document_and_each_document_gives_at_most_its_share():
    sampled = sample_splits(_documents(), per_split=1000, per_document=3)
    assert sampled["dev"] and sampled["test"]
    for split, claims in sampled.items():
        assert all(document_split(claim.doc_id) == split for claim in claims)
        assert max(Counter(claim.doc_id for claim in claims).values()) == 3
    dev_documents = {c.doc_id for c in sampled["dev"]}
    assert dev_documents.isdisjoint(c.doc_id for c in sampled["test"])
    assert "doc-late" not in dev_documents | {c.doc_id for c in sampled["test"]}  # its sentences were seen first in doc-000


def test_the_sample_is_fixed_by_the_seed_and_a_sentence_more_or_less_does_not_reshuffle_the_rest():
    documents = _documents()
    first = sample_splits(documents, per_split=20)
    assert first == sample_splits(documents, per_split=20)
    assert first != sample_splits(documents, per_split=20, seed=7)
    fewer = sample_splits([d for d in documents if d["id"] != "doc-005"], per_split=1000)
    everything = sample_splits(documents, per_split=1000)
    for split in ("dev", "test"):
        assert {c.id for c in fewer[split]} == {c.id for c in everything[split] if c.doc_id != "doc-005"}


def test_make_sets_writes_both_splits_less_the_sentences_excluded_by_hand(tmp_path):
    data = tmp_path / "data"
    (data / "background").mkdir(parents=True)
    with open(data / near_topic.BACKGROUND_FILE, "w", encoding="utf-8") as handle:
        for document in _documents():
            handle.write(json.dumps(document) + "\n")
    out = tmp_path / "sets"
    counts = make_sets(data, out, per_split=10)
    first_dev = load_near_topic("dev", out)
    assert counts["dev"]["claims"] == len(first_dev) == 10
    out.joinpath(near_topic.EXCLUDED_FILE).write_text(f"# a comment\n\n{first_dev[0]['id']} states a treaty provision\n")
    counts = make_sets(data, out, per_split=10)
    assert counts["dev"] == {**counts["dev"], "sampled": 10, "excluded": 1, "claims": 9}
    assert [row["id"] for row in load_near_topic("dev", out)] == [row["id"] for row in first_dev[1:]]
    assert set(first_dev[0]) == {"id", "claim", "doc_id", "date", "title"}


def _result(verdict: str, confidence: float = 0.9) -> ClaimResult:
    evidence = Evidence(
        "north_atlantic_treaty_1949_en.md",
        "North Atlantic Treaty",
        None,
        "The Parties agree that an armed attack against one or more of them shall be considered an attack against them all.",
        0,
        100,
        0.6,
        1,
        "supports",
        {"supports": 0.8, "refutes": 0.1, "neutral": 0.1},
        section="Article  5",
        sentence=EvidenceSentence(0, 100, "The Parties agree that an armed attack against one shall be an attack against them all."),
    )
    return ClaimResult("claim", None, None, verdict, confidence, [evidence])


def test_the_near_topic_report_counts_every_verdict_but_not_enough_info_as_wrong_and_shows_the_most_confident():
    claims = [{"id": f"nt-{n}", "claim": f"Claim {n}.", "doc_id": f"d{n}"} for n in range(4)]
    results = [_result("not_enough_info"), _result("supported", 0.7), _result("conflicting", 0.95), _result("not_enough_info")]
    report = near_topic_report(claims, results, examples=1)
    assert report["wrong_verdict_share"] == 0.5
    assert report["verdict_shares"] == {"supported": 0.25, "refuted": 0.0, "conflicting": 0.25, "not_enough_info": 0.5}
    [example] = report["wrong_examples"]
    assert (example["id"], example["verdict"], example["evidence"]["section"]) == ("nt-2", "conflicting", "Article  5")


def test_the_treaty_settled_report_scores_each_label_and_the_decisive_verdicts():
    claims = [{"id": str(n), "claim": "c.", "label": label, "source": "UN Charter, Article 23"} for n, label in enumerate("SSRR")]
    for claim in claims:
        claim["label"] = {"S": "supported", "R": "refuted"}[claim["label"]]
    results = [_result("supported"), _result("not_enough_info"), _result("supported"), _result("refuted")]
    report = treaty_settled_report(claims, results)
    assert (report["accuracy_on_supported"], report["accuracy_on_refuted"]) == (0.5, 0.5)
    assert (report["decisive_precision"], report["decisive_coverage"]) == (round(2 / 3, 4), 0.75)
    assert [error["id"] for error in report["errors"]] == ["1", "2"]


# --- the committed sets -----------------------------------------------------------------------------


def test_the_committed_near_topic_sets_are_well_formed_and_split_by_document():
    dev, test = load_near_topic("dev"), load_near_topic("test")
    rows = dev + test
    assert len(dev) >= 250 and len(test) >= 250
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({near_topic.normalized(r["claim"]) for r in rows}) == len(rows)
    assert {r["doc_id"] for r in dev}.isdisjoint(r["doc_id"] for r in test)
    assert all(document_split(r["doc_id"]) == split for split, part in (("dev", dev), ("test", test)) for r in part)
    assert all(sentence_rejection(r["claim"]) is None and r["claim"].endswith(".") for r in rows)
    excluded = read_exclusions(SETS_DIR / near_topic.EXCLUDED_FILE)
    assert excluded and all(reason for reason in excluded.values())
    assert excluded.keys().isdisjoint(r["id"] for r in rows)


def test_the_committed_treaty_settled_set_is_well_formed_and_balanced():
    rows = load_treaty_settled()
    assert len(rows) >= 80
    assert len({r["id"] for r in rows}) == len(rows) and len({r["claim"] for r in rows}) == len(rows)
    assert {r["label"] for r in rows} == {"supported", "refuted"} and {r["split"] for r in rows} == {"dev", "test"}
    for split in (None, "dev", "test"):
        part = load_treaty_settled(split)
        assert 0.4 <= sum(r["label"] == "refuted" for r in part) / len(part) <= 0.6
    assert all(r["claim"].endswith(".") for r in rows)
    assert all(re.fullmatch(r"(North Atlantic Treaty|UN Charter), (Article \d+|preamble|final clause)", r["source"]) for r in rows)
    near = {near_topic.normalized(r["claim"]) for r in load_near_topic("dev") + load_near_topic("test")}
    assert near.isdisjoint(near_topic.normalized(r["claim"]) for r in rows)


def test_the_committed_near_topic_sets_are_what_the_script_makes_from_the_background_data(tmp_path):
    data = default_data_dir()
    if not (data / near_topic.BACKGROUND_FILE).is_file():
        pytest.skip(f"no background data at {data}")
    (tmp_path / near_topic.EXCLUDED_FILE).write_text((SETS_DIR / near_topic.EXCLUDED_FILE).read_text(encoding="utf-8"))
    make_sets(data, tmp_path)
    for split in ("dev", "test"):
        assert (tmp_path / f"near_topic_{split}.jsonl").read_text(encoding="utf-8") == (SETS_DIR / f"near_topic_{split}.jsonl").read_text(
            encoding="utf-8"
        )
