"""How much of a claim's wording a deciding sentence carries (service/pipeline/wording.py)."""

from __future__ import annotations

import pytest

from service.pipeline.wording import claim_coverage, content_words

pytestmark = pytest.mark.unit


def test_content_words_leave_out_stop_words_and_short_words_and_keep_numbers():
    assert content_words("The UN has 5 members, and it is not one state.") == {"un", "membe", "5", "one", "state"}


def test_a_word_meets_its_other_forms_by_its_first_letters():
    sentence = "Ukrainian officials want Ukraine to become a member."
    assert claim_coverage("Ukraine seeks membership.", sentence) == 0.6667  # "seeks" is not there
    assert content_words("attack") == content_words("attacks")


def test_the_sentence_names_what_the_claim_says_or_it_does_not():
    claim = "Russia has cited Ukraine's aspirations to join NATO as a root cause of the war."
    settling = "Moscow's officials cited Ukraine's aspirations to join NATO as the war's root cause."
    assert claim_coverage(claim, settling, None, "Russia") == 1.0  # the title names the subject
    shared_topic = claim_coverage(claim, "The United States supports Ukraine's aspirations to join NATO.")
    assert 0.3 < shared_topic < 0.6  # Russia, cited, root cause and war are not there


def test_a_number_is_one_word_with_or_without_its_thousands_separator():
    assert content_words("2,000 troops, a 9.5% rise, 1,234,567 votes") == {"2000", "troop", "9.5", "rise", "1234567", "votes"}
    assert claim_coverage("It sent 2,000 troops.", "It sent 2000 troops.") == 1.0
    assert claim_coverage("It sent 2,000 troops.", "It sent 2,500 troops.") == 0.6667  # "sent", "troops"; not the number


def test_a_contraction_leaves_no_stub_and_an_acronym_counts():
    assert content_words("NATO doesn't plan to expand.") == content_words("NATO does not plan to expand.") == {"nato", "plan", "expan"}
    assert content_words("The UN and the EU, not us.") == {"un", "eu"}


def test_the_section_heading_and_document_title_stand_for_the_subject_a_sentence_leaves_out():
    claim = "The North Atlantic Treaty binds each ally to consult when one is threatened."
    sentence = "The Parties will consult together whenever one of them is threatened."
    alone = claim_coverage(claim, sentence)
    with_title = claim_coverage(claim, sentence, "Article 4", "North Atlantic Treaty")
    assert with_title > alone
    assert claim_coverage(claim, sentence, None, None) == alone  # a passage without a heading or a title
    heading_only = ("Article 4 binds each ally to consult.", "The Parties will consult together.")
    assert (claim_coverage(*heading_only), claim_coverage(*heading_only, "Article 4")) == (0.2, 0.6)


def test_a_claim_without_content_words_has_no_coverage():
    assert claim_coverage("It is what it is.", "Anything at all.") is None
