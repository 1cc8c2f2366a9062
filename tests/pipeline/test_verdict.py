"""Verdict logic on hand-made evidence (no model needed: this is about the aggregation)."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace

import numpy as np
import pytest

from service.config import Settings
from service.errors import NotLoaded
from service.pipeline.verdict import (
    HEAD_FILE,
    HEAD_PASSAGES,
    VerdictHead,
    decide,
    head_features,
    verdict_probabilities,
    weights_fingerprint,
)
from service.results import Evidence
from service.training.verdict import cross_validated, fit_head


def evidence(supports: float, refutes: float, retrieval: float = 0.5, doc: str = "d") -> Evidence:
    probs = {"supports": supports, "refutes": refutes, "neutral": round(1 - supports - refutes, 4)}
    return Evidence(doc, None, None, "text", 0, 4, retrieval, round(100 * (1 - retrieval)), max(probs, key=probs.get), probs)


def ranked(*stances: tuple[float, float]) -> list[Evidence]:
    """Evidence in retrieval order: the first pair is the best-retrieved passage."""
    return [evidence(s, r, retrieval=0.9 - rank / 10, doc=f"p{rank}") for rank, (s, r) in enumerate(stances)]


def second_passage_world(size: int, seed: int = 0) -> list[tuple[str, list[Evidence]]]:
    """Claims whose deciding passage is as often the second-retrieved as the first: the best-ranked
    passage alone (the rule) misses half of them; a head that reads both need not."""
    rng = random.Random(seed)
    examples = []
    for _ in range(size):
        gold = rng.choice(["supported", "refuted", "not_enough_info"])
        noise = [(rng.uniform(0, 0.2), rng.uniform(0, 0.2)) for _ in range(HEAD_PASSAGES)]
        if gold != "not_enough_info":
            strong = rng.uniform(0.7, 0.99)
            noise[rng.choice([0, 1])] = (strong, 0.01) if gold == "supported" else (0.01, strong)
        examples.append((gold, ranked(*noise)))
    return examples


@pytest.mark.parametrize(
    ("items", "verdict"),
    [
        ([evidence(0.95, 0.01), evidence(0.02, 0.03)], "supported"),
        ([evidence(0.01, 0.9), evidence(0.1, 0.1)], "refuted"),
        ([evidence(0.9, 0.01), evidence(0.02, 0.92)], "conflicting"),
        ([evidence(0.2, 0.1), evidence(0.1, 0.3)], "not_enough_info"),
        ([], "not_enough_info"),
    ],
)
def test_verdicts(items, verdict):
    assert decide("claim", None, None, items, verdict_passages=3, strong_stance=0.6).verdict == verdict


def test_probabilities_sum_to_one_and_confidence_is_the_winners():
    items = [evidence(0.7, 0.05), evidence(0.1, 0.4)]
    probabilities = verdict_probabilities(0.7, 0.4)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    result = decide("claim", 3, 9, items, verdict_passages=2, strong_stance=0.6)
    assert result.verdict == "supported"  # the 0.4 refutation is below the strong-stance floor
    assert result.confidence == pytest.approx(probabilities["supported"], abs=1e-4)
    assert (result.start, result.end) == (3, 9)


def test_weak_evidence_either_way_is_not_enough_info():
    assert decide("claim", None, None, [evidence(0.55, 0.02), evidence(0.03, 0.5)], 2, strong_stance=0.6).verdict == "not_enough_info"
    assert decide("claim", None, None, [evidence(0.55, 0.02)], strong_stance=0.5).verdict == "supported"


def test_by_default_the_best_ranked_passage_alone_decides():
    best, second = evidence(0.1, 0.8, retrieval=0.9), evidence(0.95, 0.01, retrieval=0.8)
    assert decide("claim", None, None, [second, best]).verdict == "refuted"
    assert decide("claim", None, None, [second, best], verdict_passages=2).verdict == "conflicting"


def test_only_the_best_retrieved_passages_vote():
    close = [evidence(0.05, 0.05, retrieval=0.8 - i / 10) for i in range(3)]
    far_but_decisive = evidence(0.95, 0.01, retrieval=0.3)
    assert decide("claim", None, None, [*close, far_but_decisive], verdict_passages=3).verdict == "not_enough_info"
    assert decide("claim", None, None, [*close, far_but_decisive], verdict_passages=4).verdict == "supported"


def test_a_passage_below_the_relevance_floor_counts_as_neutral_and_keeps_the_stance_it_was_read_with():
    on_topic = evidence(0.05, 0.05, retrieval=0.3, doc="on topic")
    off_topic = replace(evidence(0.95, 0.01, retrieval=0.2, doc="off topic"), retrieval_rank=1)  # BM25 ranked it first
    result = decide("claim", None, None, [off_topic, on_topic], verdict_passages=2)
    assert result.verdict == "not_enough_info"
    assert [(e.doc_id, e.stance) for e in result.evidence] == [("on topic", "neutral"), ("off topic", "supports")]
    assert decide("claim", None, None, [off_topic, on_topic], verdict_passages=2, min_relevance=0.1).verdict == "supported"


def test_evidence_is_ordered_decisive_first_then_by_retrieval():
    weak_but_close = evidence(0.1, 0.1, retrieval=0.9, doc="close")
    decisive = evidence(0.9, 0.05, retrieval=0.4, doc="decisive")
    neutral_far = evidence(0.05, 0.05, retrieval=0.2, doc="far")
    ordered = decide("claim", None, None, [neutral_far, weak_but_close, decisive]).evidence
    assert [e.doc_id for e in ordered] == ["decisive", "close", "far"]


def test_the_head_learns_what_the_best_ranked_passage_alone_misses():
    examples = second_passage_world(600)
    head = fit_head(examples, sentence_passages=1)
    assert head.labels == ("not_enough_info", "refuted", "supported")
    assert sorted(head.weights) == list(range(1, HEAD_PASSAGES + 1))
    second_supports = ranked((0.05, 0.05), (0.95, 0.01), (0.1, 0.1), (0.1, 0.05), (0.05, 0.1))
    assert decide("claim", None, None, second_supports).verdict == "not_enough_info"  # the rule reads the first only
    result = decide("claim", None, None, second_supports, head=head)
    assert result.verdict == "supported" and result.confidence > 0.8
    report = cross_validated({"world": examples}, sentence_passages=1)["world"]
    by_passages = report["head_out_of_fold_by_passages"]
    assert by_passages["5"]["accuracy"] > 0.95 > 0.8 > report["rule"]["accuracy"]
    assert abs(by_passages["1"]["accuracy"] - report["rule"]["accuracy"]) < 0.05  # one passage read: no better than the rule


def test_the_stored_head_gives_scikit_learns_probabilities_and_reads_passages_by_retrieval_rank():
    from sklearn.linear_model import LogisticRegression

    examples = second_passage_world(300, seed=1)
    head = fit_head(examples, sentence_passages=1)
    reference = LogisticRegression(C=1.0, max_iter=5000).fit(
        [head_features(e, HEAD_PASSAGES) for _, e in examples], [g for g, _ in examples]
    )
    for _, items in examples[:20]:
        shuffled = random.Random(0).sample(items, len(items))
        probabilities = head.probabilities(shuffled)
        expected = reference.predict_proba([head_features(items, HEAD_PASSAGES)])[0]
        assert [probabilities[label] for label in reference.classes_] == pytest.approx(expected.tolist(), abs=1e-6)


def test_fewer_passages_than_the_head_reads_use_the_head_fitted_for_that_many():
    from sklearn.linear_model import LogisticRegression

    examples = second_passage_world(600, seed=2)
    head = fit_head(examples, sentence_passages=1)
    two_passages = LogisticRegression(C=1.0, max_iter=5000).fit([head_features(e, 2) for _, e in examples], [g for g, _ in examples])
    refuting_first = ranked((0.01, 0.95), (0.1, 0.1))
    probabilities = head.probabilities(refuting_first)
    expected = two_passages.predict_proba([head_features(refuting_first, 2)])[0]
    assert [probabilities[label] for label in two_passages.classes_] == pytest.approx(expected.tolist(), abs=1e-6)
    assert decide("c", None, None, refuting_first, head=head).verdict == "refuted"
    assert decide("c", None, None, ranked((0.05, 0.05)), head=head).verdict == "not_enough_info"
    assert decide("c", None, None, [], head=head).verdict == "not_enough_info"  # no evidence: the rule


def test_a_two_verdict_head_stores_both_rows(tmp_path):
    examples = [(gold, items) for gold, items in second_passage_world(400, seed=3) if gold != "not_enough_info"]
    head = fit_head(examples, sentence_passages=1)
    assert head.labels == ("refuted", "supported")
    assert decide("c", None, None, ranked((0.97, 0.01), *[(0.1, 0.1)] * 4), head=head).verdict == "supported"
    assert decide("c", None, None, ranked((0.01, 0.97), *[(0.1, 0.1)] * 4), head=head).verdict == "refuted"
    head.save(tmp_path, {"claims": len(examples)})
    assert VerdictHead.load(tmp_path) == head
    assert VerdictHead.load(tmp_path / "elsewhere") is None


def test_the_head_refuses_claims_with_too_few_passages_or_one_verdict():
    examples = second_passage_world(50)
    with pytest.raises(ValueError, match="--top-k 5"):
        fit_head([*examples, ("supported", ranked((0.9, 0.0)))], sentence_passages=1)
    with pytest.raises(ValueError, match="at least two verdicts"):
        fit_head([("supported", items) for _, items in examples], sentence_passages=1)


def test_the_shipped_head_fits_the_service_defaults_and_reads_clear_evidence_plainly():
    settings = Settings()
    head = VerdictHead.load(settings.stance_model_dir)
    assert head is not None and head.sentence_passages == settings.verdict_passages
    assert (head.stance_weights, head.stance_backend) == (weights_fingerprint(settings.stance_model_dir), settings.stance_backend)
    assert {"supported", "refuted", "not_enough_info"} <= set(head.labels)
    quiet = [(0.03, 0.03)] * (HEAD_PASSAGES - 1)
    assert decide("c", None, None, ranked((0.97, 0.01), *quiet), head=head).verdict == "supported"
    assert decide("c", None, None, ranked((0.01, 0.97), *quiet), head=head).verdict == "refuted"
    assert decide("c", None, None, ranked((0.03, 0.03), *quiet), head=head).verdict == "not_enough_info"
    supported = [head.probabilities(ranked((s, 0.01), *quiet))["supported"] for s in np.linspace(0.6, 0.99, 5)]
    assert supported == sorted(supported)  # surer support, a likelier supported verdict


def test_a_head_fitted_on_other_readings_weights_or_runtime_is_flagged(caplog, tmp_path):
    from service.pipeline.pipeline import load_verdict_head

    with caplog.at_level("WARNING", logger="claimcheck"):
        assert load_verdict_head(Settings()) is not None
    assert caplog.text == ""  # the shipped head fits the shipped model as the service runs it
    rereader = tmp_path / "rereader"
    rereader.mkdir()
    (rereader / "model.safetensors").write_bytes(b"a second reader's weights")
    for settings, warning in (
        (Settings(verdict_passages=3), "read sentence by sentence"),
        (
            Settings(max_sentences_read_whole=None),
            "fitted with CLAIMCHECK_MAX_SENTENCES_READ_WHOLE=3 and the service reads passages with None",
        ),
        (Settings(stance_backend="onnx"), "fitted on onnx-int8 stance outputs and the stance model runs on onnx"),
        (Settings(min_relevance=0.4), "fitted with CLAIMCHECK_MIN_RELEVANCE=0.25 and the service runs with 0.4"),
        (Settings(stance_rereader_model_dir=rereader), f"fitted without a re-reader and the service runs the one in {rereader}"),
    ):
        caplog.clear()
        with caplog.at_level("WARNING", logger="claimcheck"):
            assert load_verdict_head(settings) is not None
        assert warning in caplog.text
    other_weights = tmp_path / "other"
    other_weights.mkdir()
    shutil.copy(Settings().stance_model_dir / HEAD_FILE, other_weights)
    (other_weights / "model.safetensors").write_bytes(b"not the weights the head was fitted on")
    caplog.clear()
    with caplog.at_level("WARNING", logger="claimcheck"):
        assert load_verdict_head(Settings(stance_model_dir=other_weights)) is not None
    assert "other stance weights" in caplog.text


def test_without_a_head_the_rule_decides_and_the_log_says_so(caplog, tmp_path):
    from service.pipeline.pipeline import load_verdict_head

    with caplog.at_level("WARNING", logger="claimcheck"):
        assert load_verdict_head(Settings(stance_model_dir=tmp_path)) is None
    assert "the fixed rule decides verdicts" in caplog.text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda data: data.update(labels=["supported", "maybe", "refuted"]), r"\['maybe'\] are not verdicts"),
        (lambda data: data["heads"].pop("3"), "one regression for each number of passages from 1 up"),
        (lambda data: data.update(heads={}), "one regression for each number of passages from 1 up"),
        (lambda data: data["heads"]["2"]["weights"][0].pop(), "must have 3 rows of 4 weights and 3 biases"),
        (lambda data: data["heads"]["1"]["biases"].pop(), "must have 3 rows of 2 weights and 3 biases"),
        (lambda data: data.update(labels=["refuted", "refuted", "supported"]), "at least two labels, each once"),
        (lambda data: data.pop("heads"), "is not a verdict head"),
        (lambda data: data["heads"]["1"].update(weights="abc"), "is not a verdict head"),
        (lambda data: data.update(max_sentences_read_whole="3"), "is not a verdict head"),
    ],
)
def test_a_malformed_head_stops_the_start_with_what_is_wrong(tmp_path, edit, message):
    data = json.loads((Settings().stance_model_dir / HEAD_FILE).read_text(encoding="utf-8"))
    data["labels"] = data["labels"][:3]
    for head in data["heads"].values():
        head["weights"], head["biases"] = head["weights"][:3], head["biases"][:3]
    assert VerdictHead.load(Settings().stance_model_dir).labels[:3] == tuple(data["labels"])
    edit(data)
    (tmp_path / HEAD_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotLoaded, match=message):
        VerdictHead.load(tmp_path)


def addressing(supports: float, similarity: float | None, retrieval: float = 0.3) -> Evidence:
    return replace(evidence(supports, 0.02, retrieval=retrieval), claim_similarity=similarity)


@pytest.mark.parametrize(
    ("retrieval", "similarity", "may_decide"),
    [
        (0.2, 0.9, False),  # under the relevance floor, whatever its sentence
        (0.3, None, True),  # not measured
        (0.3, 0.5, True),  # its deciding sentence addresses the claim
        (0.5, 0.1, True),  # the passage as a whole does
        (0.3, 0.4, False),  # neither does: same topic, not the same content
    ],
)
def test_a_passage_decides_only_when_it_or_its_sentence_addresses_the_claim(retrieval, similarity, may_decide):
    from service.pipeline.verdict import counted, counts

    passage = addressing(0.9, similarity, retrieval)
    assert counts(passage, min_relevance=0.25, min_claim_similarity=0.45) is may_decide
    [read] = counted([passage], min_relevance=0.25, min_claim_similarity=0.45)
    assert (read.stance_probs == passage.stance_probs) is may_decide


@pytest.mark.parametrize(
    ("coverage", "may_decide"),
    [
        (None, True),  # not measured: under the relevance floor, or a claim without content words
        (0.5, True),  # its deciding sentence carries half the claim's words
        (0.25, True),  # at the floor
        (0.2, False),  # same topic, few of the claim's words: it does not say what the claim says
    ],
)
def test_a_passage_decides_only_when_its_sentence_carries_enough_of_the_claims_words(coverage, may_decide):
    from service.pipeline.verdict import counted, counts

    passage = replace(addressing(0.9, 0.8), claim_coverage=coverage)
    assert counts(passage, min_relevance=0.25, min_claim_similarity=0.45, min_claim_coverage=0.25) is may_decide
    [read] = counted([passage], min_relevance=0.25, min_claim_similarity=0.45, min_claim_coverage=0.25)
    assert (read.stance_probs == passage.stance_probs) is may_decide
    gated = decide("c", None, None, [passage], min_claim_coverage=0.25)
    assert gated.verdict == ("supported" if may_decide else "not_enough_info")
    assert gated.evidence[0].decides is may_decide  # the answer says which passages may decide


def test_a_passage_about_another_named_subject_does_not_decide():
    from service.pipeline.verdict import counts

    passage = addressing(0.9, 0.8)
    assert counts(passage, min_relevance=0.25, min_claim_similarity=0.45)
    about_someone_else = replace(passage, other_subject="Yates")
    assert not counts(about_someone_else, min_relevance=0.25, min_claim_similarity=0.45)
    gated = decide("c", None, None, [about_someone_else])
    assert gated.verdict == "not_enough_info" and gated.evidence[0].decides is False
    assert gated.evidence[0].stance == "supports"  # the evidence keeps what the reader read


def test_the_gate_turns_a_confident_reading_of_a_passage_that_does_not_address_the_claim_into_not_enough_info():
    off_claim = [addressing(0.95, 0.3), addressing(0.1, 0.6)]
    ungated = decide("c", None, None, off_claim, min_claim_similarity=-1.0)
    gated = decide("c", None, None, off_claim, min_claim_similarity=0.45)
    assert (ungated.verdict, gated.verdict) == ("supported", "not_enough_info")
    assert gated.evidence[0].claim_similarity == 0.6  # the passage that may decide is listed first


def test_a_verdict_below_the_confidence_floor_is_withheld_with_the_probability_of_not_enough_info():
    weak = [evidence(0.7, 0.05)]
    probabilities = verdict_probabilities(0.7, 0.05)
    given = decide("c", None, None, weak, min_confidence=0.0)
    withheld = decide("c", None, None, weak, min_confidence=0.9)
    assert given.verdict == "supported" and given.confidence == round(probabilities["supported"], 4)
    assert withheld.verdict == "not_enough_info" and withheld.confidence == round(probabilities["not_enough_info"], 4)


def test_an_operating_point_out_of_range_or_misspelt_is_refused(tmp_path):
    head = VerdictHead(("supported", "not_enough_info"), {1: ((0.0, 0.0), (1.0, 0.0))}, {1: (0.0, 0.0)}, 1)
    point = {"min_claim_similarity": 0.45, "min_claim_coverage": 0.25, "min_verdict_confidence": 0.0}
    assert replace(head, operating_point=point).problem() is None
    assert "unknown" in replace(head, operating_point={"min_claim_similarity_": 0.45}).problem()
    assert "out of range" in replace(head, operating_point={"min_verdict_confidence": 2.0}).problem()
    assert "out of range" in replace(head, operating_point={"min_claim_coverage": -0.1}).problem()


class LeaningHead:
    """A head that answers fixed probabilities, whatever the evidence: it stands for one that sums weak leanings."""

    def __init__(self, probabilities: dict[str, float]):
        self.fixed = probabilities

    def probabilities(self, evidence: list[Evidence]) -> dict[str, float]:
        return dict(self.fixed)


@pytest.mark.parametrize(
    ("verdict", "stances", "given"),
    [
        ("refuted", [(0.1, 0.4), (0.2, 0.35)], False),  # every passage leans, none is read as refuting: the seed article's case
        ("refuted", [(0.1, 0.4), (0.1, 0.7)], True),
        ("supported", [(0.1, 0.7)], False),  # a refuting passage does not settle a claim as supported
        ("supported", [(0.6, 0.1)], True),
        ("conflicting", [(0.8, 0.1), (0.45, 0.2)], False),
        ("conflicting", [(0.8, 0.1), (0.1, 0.8)], True),
    ],
)
def test_a_verdict_needs_a_passage_read_as_taking_its_side(verdict, stances, given):
    head = LeaningHead({v: (0.7 if v == verdict else 0.1) for v in ("supported", "refuted", "conflicting", "not_enough_info")})
    result = decide("c", None, None, ranked(*stances), head=head)
    assert result.verdict == (verdict if given else "not_enough_info")
    assert result.confidence == (0.7 if given else 0.1)


def test_a_reading_of_a_negated_claim_that_does_not_flip_without_the_negation_counts_as_neutral():
    from service.pipeline.verdict import counts

    refuting = evidence(0.02, 0.9)
    assert counts(refuting) and counts(replace(refuting, negation_consistent=True))
    unsettled = replace(refuting, negation_consistent=False)
    assert not counts(unsettled)
    result = decide("c", None, None, [unsettled, evidence(0.1, 0.1, retrieval=0.4)])
    assert result.verdict == "not_enough_info"
    assert result.evidence[-1].stance == "refutes"  # listed after the passages that count, with what the reader read
