"""The pipeline's composition (retrieval -> stance readings -> verdict -> evidence), with fake models:
the logic around the models, fast and deterministic."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from fakes import HashEmbedder, KeywordStance, SentenceSplitter

from service.config import Settings
from service.errors import InvalidInput
from service.index.build import build_index
from service.pipeline.pipeline import Pipeline

DOCUMENTS = [
    {
        "id": "treaty",
        "title": "Treaty",
        "text": "The parties agree that an armed attack on one is an attack on all. The treaty is open to new members.",
    },
    {"id": "charter", "title": "Charter", "text": "The council has fifteen members. Each member has one vote."},
    {"id": "weather", "title": "Weather", "text": "Rain fell on the coast all week, and the harbour stayed closed."},
]


@pytest.fixture(scope="module")
def fake_pipeline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fake")
    sources = folder / "sources.jsonl"
    sources.write_text("\n".join(json.dumps(d) for d in DOCUMENTS) + "\n")
    embedder = HashEmbedder()
    build_index([sources], folder / "index", embedder, show_progress=False)
    settings = Settings(index_dir=folder / "index", stance_model_dir=folder / "no-model")  # no verdict head: the rule decides
    pipeline = Pipeline(settings, embedder=embedder, extractor=SentenceSplitter(), stance=KeywordStance())
    pipeline.warm_up()
    yield pipeline
    pipeline.close()


def test_a_claim_the_passage_states_is_supported_by_it(fake_pipeline):
    [result] = fake_pipeline.verify(["The council has fifteen members."], top_k=3).results
    assert result.verdict == "supported"
    best = result.evidence[0]
    assert (best.doc_id, best.stance, best.retrieval_rank) == ("charter", "supports", 1)
    assert best.sentence is not None and best.sentence.text == "The council has fifteen members."
    assert DOCUMENTS[1]["text"][best.sentence.start : best.sentence.end] == best.sentence.text


def test_a_negated_claim_is_refuted(fake_pipeline, monkeypatch):
    monkeypatch.setattr(fake_pipeline.settings, "negation_check", True)
    [result] = fake_pipeline.verify(["The council has not fifteen members."], top_k=3).results
    assert result.verdict == "refuted"
    assert result.evidence[0].stance == "refutes"
    assert result.evidence[0].negation_consistent is True  # without "not", the same sentence supports the claim


class NegationCue(KeywordStance):
    """A reader that learnt "not" means refutes: any claim with it is refuted, whatever the passage says."""

    @staticmethod
    def _read(passage, claim):
        if "not" in claim.split():
            return {"supports": 0.02, "refutes": 0.9, "neutral": 0.08}
        return {"supports": 0.05, "refutes": 0.05, "neutral": 0.9}


def test_a_refutation_that_rests_on_the_word_not_gives_no_verdict(fake_pipeline, monkeypatch):
    cue = NegationCue()
    monkeypatch.setattr(fake_pipeline, "stance", cue)
    monkeypatch.setattr(fake_pipeline.settings, "negation_check", True)
    claim = "The council has not fifteen members."
    [result] = fake_pipeline.verify([claim], top_k=3).results
    assert result.verdict == "not_enough_info"
    above_floor = [e for e in result.evidence if e.retrieval_score >= fake_pipeline.settings.min_relevance]
    assert above_floor and all(e.negation_consistent is False and e.stance == "refutes" for e in above_floor)
    assert "The council has fifteen members." in {claim for _, claim in cue.pairs}  # the affirmative, read once more
    monkeypatch.setattr(fake_pipeline.settings, "negation_check", False)
    [unchecked] = fake_pipeline.verify([claim], top_k=3).results
    assert unchecked.verdict == "refuted" and unchecked.evidence[0].negation_consistent is None


def test_a_claim_without_a_negation_costs_no_extra_reading(fake_pipeline, monkeypatch):
    reader = KeywordStance()
    monkeypatch.setattr(fake_pipeline, "stance", reader)
    monkeypatch.setattr(fake_pipeline.settings, "negation_check", True)
    [result] = fake_pipeline.verify(["The council has fifteen members."], top_k=3).results
    assert all(claim == "The council has fifteen members." for _, claim in reader.pairs)
    assert all(e.negation_consistent is None for e in result.evidence)


def test_each_reading_is_checked_by_the_reader_that_gave_it(fake_pipeline, monkeypatch):
    first, rereader = NegationCue(), KeywordStance()
    monkeypatch.setattr(fake_pipeline, "stance", first)
    monkeypatch.setattr(fake_pipeline, "rereader", rereader)
    monkeypatch.setattr(fake_pipeline.settings, "rereader_passages", 1)
    monkeypatch.setattr(fake_pipeline.settings, "min_relevance", -1.0)  # every passage is about the claim: two the first reader read
    monkeypatch.setattr(fake_pipeline.settings, "negation_check", True)
    claim, affirmative = "The council has not fifteen members.", "The council has fifteen members."
    [result] = fake_pipeline.verify([claim], top_k=3).results
    by_rank = {e.retrieval_rank: e for e in result.evidence}
    assert by_rank[1].negation_consistent is True  # the rereader's reading flips without "not"
    assert by_rank[2].negation_consistent is False and by_rank[3].negation_consistent is False  # the first reader's does not
    assert [passage for passage, read in rereader.pairs if read == affirmative] == [by_rank[1].text]
    assert {passage for passage, read in first.pairs if read == affirmative} == {by_rank[2].text, by_rank[3].text}
    assert result.verdict == "refuted"


def test_a_claim_no_passage_addresses_gets_not_enough_info(fake_pipeline):
    [result] = fake_pipeline.verify(["Volcanoes erupt under glaciers in Iceland."], top_k=3).results
    assert result.verdict == "not_enough_info"
    assert len(result.evidence) == 3
    assert {e.stance for e in result.evidence} == {"neutral"}


def test_top_k_bounds_the_evidence_and_orders_it_by_rank(fake_pipeline):
    [result] = fake_pipeline.verify(["The treaty is open to new members."], top_k=2).results
    assert [e.retrieval_rank for e in result.evidence] == [1, 2]
    assert result.evidence[0].doc_id == "treaty"


def test_check_gives_each_sentence_its_verdict_with_its_offsets(fake_pipeline):
    text = "The council has fifteen members. Rain fell on the coast all week."
    checked = asyncio.run(fake_pipeline.check_async(text, top_k=2))
    assert [(text[r.start : r.end], r.verdict) for r in checked.results] == [
        ("The council has fifteen members.", "supported"),
        ("Rain fell on the coast all week.", "supported"),
    ]
    assert checked.index_build_id == fake_pipeline.index.build_id


def test_each_pair_is_read_once_however_often_a_claim_repeats(fake_pipeline):
    stance: KeywordStance = fake_pipeline.stance
    claim = "Each member has one vote."
    stance.pairs.clear()
    [once] = fake_pipeline.verify([claim], top_k=3).results
    read_once = len(stance.pairs)
    stance.pairs.clear()
    results = fake_pipeline.verify([claim, claim, claim], top_k=3).results
    assert read_once > 0 and len(stance.pairs) == read_once  # the repeated claim was computed once
    assert all(r.verdict == once.verdict and r.evidence == once.evidence for r in results) and len(results) == 3


@pytest.mark.parametrize("claims", [[""], ["  "], ["?!"], ["fine claim.", "\u200b"]])
def test_blank_claims_are_refused_naming_the_claim(fake_pipeline, claims):
    with pytest.raises(InvalidInput, match=rf"claims\.{len(claims) - 1} "):
        fake_pipeline.verify(claims, top_k=1)


def test_the_cascade_rereads_only_the_deciding_readings_of_the_best_passages(fake_pipeline, monkeypatch):
    claims = ["The council has fifteen members.", "The treaty is open to new members.", "Volcanoes erupt under glaciers in Iceland."]
    alone = fake_pipeline.verify(claims, top_k=3).results
    rereader = KeywordStance()
    monkeypatch.setattr(fake_pipeline, "rereader", rereader)
    monkeypatch.setattr(fake_pipeline.settings, "rereader_passages", 2)
    cascaded = fake_pipeline.verify(claims, top_k=3).results
    assert cascaded == alone  # the same model in both roles changes nothing
    floor = fake_pipeline.settings.min_relevance
    expected = sum(min(2, sum(e.retrieval_score >= floor for e in result.evidence)) for result in alone)
    assert 0 < len(rereader.pairs) == expected  # two readings a claim at most, none below the floor
    deciding = {(e.sentence.text if e.sentence else e.text, r.claim) for r in alone for e in r.evidence[:1] if e.retrieval_score >= floor}
    assert len(deciding) == 2
    assert deciding <= set(rereader.pairs)  # the best passage's deciding sentence is among them


def test_the_rereaders_probabilities_replace_the_first_readers(fake_pipeline, monkeypatch):
    class Doubter(KeywordStance):
        @staticmethod
        def _read(passage, claim):
            return {"supports": 0.02, "refutes": 0.03, "neutral": 0.95}

    monkeypatch.setattr(fake_pipeline, "rereader", Doubter())
    [result] = fake_pipeline.verify(["The council has fifteen members."], top_k=3).results
    assert result.verdict == "not_enough_info"
    assert result.evidence[0].stance == "neutral"


def test_the_operating_point_comes_from_the_settings_else_the_head_else_lets_everything_decide(fake_pipeline, monkeypatch):
    from service.pipeline.verdict import VerdictHead

    assert fake_pipeline.operating_point == (-1.0, 0.0, 0.0)  # no head, nothing configured: similarity, coverage, confidence
    head = VerdictHead(("supported", "not_enough_info"), {1: ((0.0, 0.0), (1.0, 0.0))}, {1: (0.0, 0.0)}, 1)
    point = {"min_claim_similarity": 0.45, "min_claim_coverage": 0.25}
    monkeypatch.setattr(fake_pipeline, "verdict_head", replace(head, operating_point=point))
    assert fake_pipeline.operating_point == (0.45, 0.25, 0.0)
    monkeypatch.setattr(fake_pipeline.settings, "min_claim_similarity", 0.2)
    monkeypatch.setattr(fake_pipeline.settings, "min_verdict_confidence", 0.6)
    monkeypatch.setattr(fake_pipeline.settings, "min_claim_coverage", 0.0)
    assert fake_pipeline.operating_point == (0.2, 0.0, 0.6)


def test_a_passage_that_does_not_address_the_claim_gives_no_verdict(fake_pipeline, monkeypatch):
    claim = "The council has fifteen members each."  # read whole: its words span both sentences of the passage
    [given] = fake_pipeline.verify([claim], top_k=3).results
    assert given.verdict == "supported" and given.evidence[0].sentence is None and 0.5 < given.evidence[0].claim_similarity < 0.999
    monkeypatch.setattr(fake_pipeline.settings, "min_claim_similarity", 0.999)
    [withheld] = fake_pipeline.verify([claim], top_k=3).results
    assert withheld.verdict == "not_enough_info"
    assert withheld.evidence[0].stance == "supports"  # the evidence keeps what the reader read


class Credulous(KeywordStance):
    """A reader that reads every passage as supporting every claim."""

    @staticmethod
    def _read(passage, claim):
        return {"supports": 0.9, "refutes": 0.02, "neutral": 0.08}


def test_a_passage_that_shares_too_few_of_the_claims_words_gives_no_verdict(fake_pipeline, monkeypatch):
    monkeypatch.setattr(fake_pipeline, "stance", Credulous())
    monkeypatch.setattr(fake_pipeline.settings, "min_relevance", -1.0)  # every passage is about the claim
    claim = "The harbour has fifteen ships."  # no passage says it; each carries one of its three words at most
    [given] = fake_pipeline.verify([claim], top_k=3).results
    assert given.verdict == "supported"
    assert {e.doc_id: e.claim_coverage for e in given.evidence} == {"charter": 0.3333, "weather": 0.3333, "treaty": 0.0}
    monkeypatch.setattr(fake_pipeline.settings, "min_claim_coverage", 0.5)
    [withheld] = fake_pipeline.verify([claim], top_k=3).results
    assert withheld.verdict == "not_enough_info"
    assert all(e.stance == "supports" for e in withheld.evidence)  # the evidence keeps what the reader read
    [settled] = fake_pipeline.verify(["The council has fifteen members."], top_k=3).results
    assert settled.verdict == "supported" and settled.evidence[0].doc_id == "charter" and settled.evidence[0].claim_coverage == 1.0
    monkeypatch.setattr(fake_pipeline.settings, "min_relevance", 0.99)  # nothing is about the claim: nothing measured
    [off_topic] = fake_pipeline.verify([claim], top_k=3).results
    assert all(e.claim_coverage is None and e.claim_similarity is None for e in off_topic.evidence)


def test_a_sentence_about_another_named_subject_gives_no_verdict(tmp_path):
    from service.pipeline.claims.extractor import load_spacy

    sources = tmp_path / "sources.jsonl"
    sources.write_text(json.dumps({"id": "painters", "title": "Painters", "text": "Paula Yates died of a heroin overdose in 2000."}))
    embedder = HashEmbedder()
    build_index([sources], tmp_path / "index", embedder, show_progress=False)
    nlp = load_spacy()

    class Parsing(SentenceSplitter):
        def parse(self, texts):
            return list(nlp.pipe(texts))

    settings = Settings(index_dir=tmp_path / "index", stance_model_dir=tmp_path / "no-model", min_relevance=-1.0)
    pipeline = Pipeline(settings, embedder=embedder, extractor=Parsing(), stance=Credulous())
    pipeline.warm_up()
    try:
        claims = ["Basquiat died of a heroin overdose in 2000.", "Paula Yates died of a heroin overdose in 2000."]
        someone_else, settled = pipeline.verify(claims, top_k=1).results
        assert (someone_else.verdict, someone_else.evidence[0].other_subject, someone_else.evidence[0].decides) == (
            "not_enough_info",
            "Paula Yates",
            False,
        )
        assert someone_else.evidence[0].stance == "supports"  # the evidence keeps what the reader read
        assert (settled.verdict, settled.evidence[0].other_subject) == ("supported", None)
        pipeline.settings.subject_check = False
        [unchecked] = pipeline.verify(claims[:1], top_k=1).results
        assert unchecked.verdict == "supported" and unchecked.evidence[0].other_subject is None
    finally:
        pipeline.close()


def test_a_long_passage_is_read_by_its_sentences_only(fake_pipeline, monkeypatch):
    claim = "The council has fifteen members each."  # only the whole two-sentence passage has all its words
    monkeypatch.setattr(fake_pipeline.settings, "max_sentences_read_whole", 1)
    [result] = fake_pipeline.verify([claim], top_k=3).results
    assert result.verdict == "not_enough_info"
    charter = next(e for e in result.evidence if e.doc_id == "charter")
    assert charter.sentence is not None  # its stance comes from one of its sentences
    [short] = fake_pipeline.verify(["The council has fifteen members."], top_k=3).results
    assert short.verdict == "supported" and short.evidence[0].sentence.text == "The council has fifteen members."
    monkeypatch.setattr(fake_pipeline.settings, "sentence_evidence", False)  # passages whole only, whatever their length
    [whole] = fake_pipeline.verify([claim], top_k=3).results
    assert whole.verdict == "supported" and whole.evidence[0].sentence is None
