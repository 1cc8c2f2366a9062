"""Corpus pairs: the claims a reference sentence settles (one fact changed: refuted) and one it does not."""

from __future__ import annotations

import json

import pytest

from service.training.corpus_pairs import (
    add_corpus_pairs,
    held_out_sections,
    is_claim_like,
    is_held_out,
    news_register,
    number_value,
    number_words,
    respelled_number,
    sentence_pairs,
    swapped_number,
    swapped_place,
    treaty_pairs,
)
from service.training.datasets import StancePair
from service.training.hard_neutrals import TREATY_SOURCES
from service.training.stance import PAIRS_SETTINGS, read_pairs, save_split_pairs, write_pairs


@pytest.fixture(scope="module")
def nlp():
    import spacy

    from service.pipeline.claims.language import SPACY_MODEL

    return spacy.load(SPACY_MODEL)


def test_legal_wording_is_put_as_news_would_put_it():
    assert news_register("2.  Each Member shall have not more than five representatives in the General Assembly.") == (
        "Each Member will have no more than five representatives in the General Assembly."
    )
    assert news_register("b. the present Charter shall not apply.") == "The UN Charter will not apply."
    # names that only begin like the legal wording stay as they are
    assert news_register("We accept the present Charter of the United Nations.") == "We accept the present Charter of the United Nations."
    assert news_register("Members of the United Nations Security Council met.") == "Members of the United Nations Security Council met."
    assert news_register("The Parties to this Treaty agree.") == "The Parties to the treaty agree."
    assert news_register("The Organization for Security and Co-operation in Europe met.").startswith("The Organization for Security")


@pytest.mark.parametrize("value", [2, 9, 13, 20, 54, 99])
def test_numbers_in_words_read_back(value):
    assert number_value(number_words(value)) == value


def test_a_number_is_respelled_but_not_a_bound_nor_an_article():
    assert respelled_number("The Council has fifty-four members.") == "The Council has 54 members."
    assert respelled_number("The Council had fiftyfour members.") == "The Council had 54 members."  # the export's spelling
    assert respelled_number("The Council has 15 members.") == "The Council has fifteen members."
    assert respelled_number("Fifteen members sit on the Council.") == "15 members sit on the Council."
    assert respelled_number("Each Member has no more than five representatives.") is None
    assert respelled_number("Article 5 covers an attack on one ally.") is None
    for text in ("Aid rose to $1.77 billion.", "Growth was 4.9 percent.", "Support fell to 40% in May.", "We end at 4:00 today."):
        assert respelled_number(text) is None, text


def test_a_swapped_number_is_another_number_written_the_same_way():
    swapped = swapped_number("The Economic and Social Council has fifty-four members.")
    assert swapped is not None and "fifty-four" not in swapped
    assert number_value(swapped.split()[-2]) not in (None, 54)
    year = swapped_number("The treaty was signed in 1949.")
    assert year != "The treaty was signed in 1949." and 1944 <= int(year.split()[-1].rstrip(".")) <= 1954
    fraction = swapped_number("Important questions need a two-thirds majority.")
    assert fraction is not None and "two-thirds" not in fraction and ("three-quarters" in fraction or "one-" in fraction)
    assert swapped_number("Each Member has no more than five representatives.") is None  # five or ten: both true of a bound
    assert swapped_number("Article 5 covers an attack on one ally.") is None
    assert swapped_number("The treaty was signed in Washington.") is None
    for text in (
        "Allies pledged more than $50 billion.",  # money, and a bound
        "Spending will exceed $1.4 trillion.",
        "Two or more members may ask for a meeting.",  # a bound after the number
        "Spending stays above 2 percent of output.",
        "It cites Articles 33, 34 and 37 of the Charter.",  # one of a list of articles
        "The Charter was signed in one thousand nine hundred and forty-five.",  # a larger number in words
        "Two thirds of the members must agree.",  # a fraction without its hyphen
    ):
        assert swapped_number(text) is None, text
    doubled = swapped_number("The council grew from twenty-seven to fifty-four members.")
    assert doubled is not None and doubled.count("fifty-four") <= 1  # never a number the claim names already


@pytest.mark.integration
def test_a_swapped_place_is_another_place_of_the_corpus(nlp):
    doc = nlp("The treaty was signed in Washington in April.")
    assert swapped_place(doc, ["Washington", "London"]) == "The treaty was signed in London in April."
    assert swapped_place(doc, ["Washington"]) is None
    assert swapped_place(nlp("The council meets at any time."), ["London"]) is None
    assert swapped_place(doc, ["London", "Paris"]) is None  # Washington is not among the corpus's places


@pytest.mark.integration
def test_a_refuted_claim_changes_a_fact_of_the_main_clause_and_none_is_made_from_a_negation(nlp):
    from service.training.corpus_pairs import refuted_claim

    assert refuted_claim(nlp("The General Assembly will adopt its own rules of procedure."), []) == (
        "The General Assembly will not adopt its own rules of procedure."
    )
    subordinate = nlp("The parties to any dispute, the continuance of which is likely to endanger peace, will seek a solution.")
    assert refuted_claim(subordinate, []) in (
        None,
        "The parties to any dispute, the continuance of which is likely to endanger peace, will not seek a solution.",
    )
    assert refuted_claim(nlp("We are not looking for a war with Iran."), ["Iran", "Iraq"]) is None


def test_only_a_sentence_that_stands_alone_is_a_claim():
    assert is_claim_like("1.  The Security Council shall consist of fifteen Members of the United Nations.")
    assert not is_claim_like("a. promoting international cooperation in the political field;")
    assert not is_claim_like("It may call international conferences on matters within its competence.")
    assert not is_claim_like("Done at Washington.")


@pytest.mark.integration
def test_each_sentence_gives_a_supported_a_refuted_and_a_neutral_claim(nlp):
    council = ["The Security Council shall consist of fifteen Members.", "The Council shall be able to meet promptly at any time."]
    signing = ["The treaty was signed in Washington by twelve states.", "The depositary is the Government of the United States."]
    pairs = sentence_pairs([council, signing], nlp, "corpus-treaty", read_whole=[False, True])
    by_label = {}
    for pair in pairs:
        by_label.setdefault(pair.stance, []).append(pair)
        assert pair.source == "corpus-treaty"
    first = [pair for pair in pairs if pair.premise == council[0]]
    assert {pair.stance for pair in first} == {"supports", "refutes", "neutral"}
    supported = next(pair.hypothesis for pair in first if pair.stance == "supports")
    assert supported in ("The Security Council will consist of fifteen Members.", "The Security Council will consist of 15 Members.")
    refuted = next(pair.hypothesis for pair in first if pair.stance == "refutes")
    assert "fifteen" not in refuted and "15" not in refuted
    neutral = next(pair.hypothesis for pair in first if pair.stance == "neutral")
    assert neutral == "The Council will be able to meet promptly at any time."
    # the last sentence of a group takes the first of the next group as its neutral claim
    assert StancePair(council[1], news_register(signing[0]), "neutral", "corpus-treaty") in pairs
    # neutral premises are one sentence, never a passage holding the claim's own sentence
    assert all(pair.premise in council + signing for pair in by_label["neutral"])
    # only a group read whole may give a whole passage as the premise, and one of them does
    assert all(pair.premise in council + signing + [" ".join(signing)] for pair in pairs)
    seeds = [sentence_pairs([council, signing], nlp, "corpus-treaty", seed, read_whole=[False, True]) for seed in range(4)]
    assert any(pair.premise == " ".join(signing) for pairs in seeds for pair in pairs)
    unread = sentence_pairs([council, signing], nlp, "corpus-treaty", read_whole=[False, False])
    assert all(pair.premise in council + signing for pair in unread)


@pytest.mark.integration
def test_fragments_and_sentences_met_before_give_no_pairs(nlp):
    fragment = "To be a centre for harmonizing the actions of nations in the attainment of these ends."
    council = "The Security Council shall consist of fifteen Members."
    pairs = sentence_pairs([[fragment, council], [council]], nlp, "corpus-treaty")
    assert all(fragment not in (pair.premise, pair.hypothesis) for pair in pairs)
    assert len([pair for pair in pairs if pair.stance == "supports"]) == 1  # the repeated sentence once


@pytest.mark.integration
def test_a_neutral_claim_that_restates_its_premise_is_left_out(nlp):
    first = "We are in active talks with Congress about more funding for Ukraine and for Israel."
    second = "We are in active talks with members of Congress about more funding for Israel and for Ukraine."
    pairs = sentence_pairs([[first, second]], nlp, "corpus-news")
    assert not [pair for pair in pairs if pair.stance == "neutral"]


def test_the_articles_the_benchmark_cites_are_held_out():
    held = held_out_sections([{"source": "UN Charter, Article 23"}, {"source": "North Atlantic Treaty, final clause"}])
    assert is_held_out("un_charter_en.md", "CHAPTER V / The Security Council / Composition / Article 23", held)
    assert not is_held_out("un_charter_en.md", "Article 24", held)
    assert not is_held_out("un_charter_en.md", "Article 123", held)
    # the final clause is in the last article's passage ("Done at Washington ..."), not in an unnumbered one
    assert is_held_out("north_atlantic_treaty_1949_en.md", "Article 14", held, last_article="Article 14")
    assert not is_held_out("north_atlantic_treaty_1949_en.md", "Article 13", held, last_article="Article 14")
    assert not is_held_out("north_atlantic_treaty_1949_en.md", "North Atlantic Treaty", held, last_article="Article 14")
    preamble = held_out_sections([{"source": "North Atlantic Treaty, preamble"}])
    assert is_held_out("north_atlantic_treaty_1949_en.md", "North Atlantic Treaty", preamble)
    assert not is_held_out("un_charter_en.md", "Preamble", preamble)


@pytest.mark.integration
def test_no_treaty_pair_comes_from_a_passage_the_benchmark_tests(nlp):
    from service.training.corpus_pairs import benchmark_claims
    from service.training.hard_neutrals import coverage, treaty_passages

    pairs = treaty_pairs(TREATY_SOURCES, nlp)
    assert pairs and {pair.stance for pair in pairs} == {"supports", "refutes", "neutral"}
    premises = {pair.premise for pair in pairs}
    held = held_out_sections(benchmark_claims())
    cited = [passage.text for passage, _ in treaty_passages() if is_held_out(passage.doc_id, passage.section, held)]
    assert len(cited) > 40
    for premise in premises:
        assert not any(premise in text for text in cited), premise
    claims = [claim["claim"] for claim in benchmark_claims()]
    assert all(coverage(claim, premise) <= 0.5 for premise in premises for claim in claims)
    assert any("Trusteeship Council" in premise for premise in premises)  # articles no benchmark claim cites give pairs


@pytest.mark.integration
def test_corpus_pairs_join_the_train_pairs_once_and_are_not_copied(tmp_path):
    from service.training.stance import TrainingConfig

    labelled = StancePair("The council meets yearly.", "The council meets every year.", "supports", "fever")
    write_pairs([labelled], tmp_path / "train.jsonl.gz")
    (tmp_path / PAIRS_SETTINGS).write_text(json.dumps({"hard_neutrals": 0, "pairs": {"train": {"fever": 1}}}))
    first = add_corpus_pairs(tmp_path, tmp_path / "no-data", news_limit=0)
    assert set(first) == {"corpus-treaty"} and first["corpus-treaty"] > 100
    assert add_corpus_pairs(tmp_path, tmp_path / "no-data", news_limit=0) == first  # replaced, not added twice
    train = read_pairs(tmp_path / "train.jsonl.gz")
    assert len(train) == 1 + first["corpus-treaty"]
    settings = json.loads((tmp_path / PAIRS_SETTINGS).read_text())
    assert settings["pairs"]["train"] == {"fever": 1, **first}
    assert sum(settings["corpus_pairs"]["pairs"].values()) == first["corpus-treaty"]
    for split in ("dev", "test"):
        write_pairs([], tmp_path / f"{split}.jsonl.gz")
    copied = tmp_path / "copied"
    counts = save_split_pairs(TrainingConfig(tmp_path, tmp_path / "out", pairs_dir=tmp_path), copied)
    assert counts["train"] == {"fever": 1}
    assert "corpus_pairs" not in json.loads((copied / PAIRS_SETTINGS).read_text())
