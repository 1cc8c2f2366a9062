"""The evaluation harness end to end on a tiny custom set: index the pool, verify each claim as the service does, score, dump."""

from __future__ import annotations

import json

import pytest

from service.evaluation.harness import dump_reading, evaluate_claims, load_custom

pytestmark = pytest.mark.integration  # real models

CORPUS = [
    {
        "id": "article-5",
        "title": "North Atlantic Treaty",
        "text": "The Parties agree that an armed attack against one or more of them in Europe or North America shall be considered"
        " an attack against them all.",
    },
    {"id": "bread", "title": "Baking", "text": "Knead the dough for ten minutes and let it rise in a warm place."},
]
CLAIMS = [
    {
        "claim": "An armed attack against one NATO member is considered an attack against all members.",
        "label": "supported",
        "evidence_ids": ["article-5"],
    },
    {"claim": "The moon landing took place in 1969.", "label": "not_enough_info"},
]


def test_a_custom_set_is_indexed_verified_scored_and_dumped(tmp_path):
    (tmp_path / "claims.jsonl").write_text("".join(json.dumps(row) + "\n" for row in CLAIMS))
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in CORPUS))
    name, claims, corpus = load_custom(tmp_path / "claims.jsonl", tmp_path / "corpus.jsonl")
    report = evaluate_claims(name, "custom", claims, corpus, tmp_path / "work" / "index", 2, tmp_path / "dump.jsonl")
    assert report["claims"] == 2 and report["passage_pool"]["documents"] == 2
    assert (tmp_path / "work" / "claims-corpus.jsonl").is_file()  # the pool, as the build script read it
    assert report["evidence_recall"]["@1"] == 1.0  # Article 5 ranks first for the claim it settles
    rows = [json.loads(line) for line in (tmp_path / "dump.jsonl").read_text().splitlines()]
    assert [row["gold"] for row in rows] == ["supported", "not_enough_info"]
    assert rows[1]["verdict"] == "not_enough_info"  # nothing in the pool is about the moon
    assert report["accuracy"] == pytest.approx(sum(row["verdict"] == row["gold"] for row in rows) / 2)
    assert all(len(row["evidence"]) == 2 for row in rows)
    assert (report["verdict_logic"], report["negation_check"], report["rereader"]) == ("head", False, None)
    assert report["max_sentences_read_whole"] == 3
    assert {dump_reading(row) for row in rows} == {(1, 3)}  # how the passages were read, for the head fitted on the dump
    assert dump_reading({}) == (3, None)  # a dump older than the fields: three passages by sentence, every passage whole
    assert set(report["operating_point"]) == {"min_claim_similarity", "min_claim_coverage", "min_verdict_confidence"}  # read with these
    assert all("claim_coverage" in e for row in rows for e in row["evidence"])  # for scripts/choose_operating_point.py


def test_a_dump_keeps_what_the_verdict_reads_the_negation_check_included():
    from service.evaluation.harness import dumped, dumped_evidence
    from service.results import Evidence

    probs = {"supports": 0.02, "refutes": 0.9, "neutral": 0.08}
    evidence = Evidence(
        "d", None, None, "text", 0, 4, 0.6, 1, "refutes", probs, claim_similarity=0.5, claim_coverage=0.4, negation_consistent=False
    )
    [back] = dumped_evidence({"sentence_passages": 1, "evidence": [dumped(evidence)]}, 1)
    assert (back.stance_probs, back.claim_similarity, back.claim_coverage, back.negation_consistent) == (probs, 0.5, 0.4, False)
