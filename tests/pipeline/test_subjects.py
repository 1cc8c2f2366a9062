"""The subject check with the real spaCy parse (service/pipeline/subjects.py): a sentence about someone else does not settle a claim."""

from __future__ import annotations

import pytest

from service.pipeline.claims.extractor import load_spacy
from service.pipeline.claims.markup import mask
from service.pipeline.subjects import PARSED_CHARACTERS, claim_subject, named_subject, other_subjects, subject_text

RUSSIA = "Russia has cited Ukraine's aspirations to join NATO as one of the root causes of the current conflict."
US_BULLET = (
    "-   **Supporting Ukraine's Euro-Atlantic Aspirations:**  As the United\n    States and Allies reaffirmed in the June 2021"
    " NATO Summit\n    Communique, the United States supports Ukraine's right to decide its\n    own future foreign policy"
    " course, including with respect to Ukraine's aspirations to join NATO."
)


@pytest.fixture(scope="module")
def parse():
    nlp = load_spacy()
    return lambda text: nlp(mask(text)[0])


@pytest.fixture(scope="module")
def other(parse):
    """other_subjects for one (claim, deciding text, heading, title), parsing as the pipeline does."""
    return lambda claim, text, *context: other_subjects(lambda texts: [parse(t) for t in texts], [(claim, text, context)])[0]


def test_the_subject_is_a_name_of_the_main_clause_or_of_what_it_reports(parse):
    assert named_subject(parse("Jean-Michel Basquiat died from an overdose of heroin.")) == "Jean-Michel Basquiat"
    assert named_subject(parse("In 2000, Yates died of a heroin overdose.")) == "Yates"  # a proper noun the parser names no entity
    assert named_subject(parse("Stoltenberg said that Ukraine must prevail in the war.")) == "Ukraine"
    assert named_subject(parse("Article 23 provides for fifteen members of the Security Council.")) is None  # a text, no one
    assert named_subject(parse("He died of a heroin overdose at his studio.")) is None
    assert named_subject(parse("The Parties will consult together whenever the security of any of them is threatened.")) is None


def test_a_claim_is_about_its_named_subject_unless_another_clause_has_a_subject_that_is_no_name(parse, other):
    assert claim_subject(parse("Russia has cited Ukraine's aspirations to join NATO as a root cause of the war.")) == "Russia"
    assert claim_subject(parse("Stoltenberg said that Ukraine must prevail in the war.")) == "Ukraine"
    comments = "Jens Stoltenberg made the comments as NATO countries are set to meet for an annual summit in Washington on July 9-11."
    assert claim_subject(parse(comments)) is None  # also about the countries
    summit = "Poland is hosting the 2024 NATO Summit, July 9-11, 2024, in Washington, D.C."
    assert other(comments, summit) is None
    assert other("Jens Stoltenberg met NATO countries in Washington on July 9-11.", summit) == "Poland"


def test_a_sentence_about_another_named_subject_does_not_settle_the_claim(other):
    assert other("Jean-Michel Basquiat died from an overdose of heroin.", "In 2000, Yates died of a heroin overdose.") == "Yates"
    assert other(RUSSIA, US_BULLET, None, "Joint Statement on the U.S.-Ukraine Partnership") == "the United States"


def test_a_sentence_that_names_the_claims_subject_or_has_no_named_subject_may_settle_it(other):
    claim = "Jean-Michel Basquiat died from an overdose of heroin."
    assert other(claim, "He died of a heroin overdose at his studio.") is None  # a pronoun is no other subject
    assert other(claim, "In 1988, Yates found Basquiat dead of a heroin overdose.") is None  # names him
    assert other(claim, "In 2000, Yates died of a heroin overdose.", None, "Jean-Michel Basquiat") is None  # the title does
    treaty = "The Parties will consult together whenever the security of any of them is threatened."
    assert other("NATO allies consult whenever one of them is threatened.", treaty) is None  # no named subject
    assert other("NATO consults whenever one of its members is threatened.", treaty) is None  # "The Parties" is no name
    # the sentence's subject is named in the claim: the claim is about both
    assert other("Russia attacked Ukraine in 2022.", "Ukraine was attacked in February 2022.") is None
    assert other("Russia attacked Ukraine in 2022.", "Belarus was attacked in February 2022.") == "Belarus"


def test_another_name_of_the_same_state_or_body_is_the_same_subject(other):
    assert other("Kiev has asked for a timetable to join NATO.", "Kyiv has asked the allies for a timetable.") is None
    assert other("Russia has cited NATO's expansion as a cause of the war.", "Moscow has cited the alliance's growth.") is None
    assert other("The EU imposed new sanctions.", "The European Union imposed sanctions on Iran.") is None
    assert other("The UK signed a security pact.", "Britain signed a security agreement.") is None
    assert other("The United States supports Ukraine.", "The U.S. supports Ukraine's right to choose.") is None
    assert other("The WHO declared a pandemic.", "The World Health Organization declared a pandemic in March.") is None
    assert other("Kiev has asked for a timetable to join NATO.", "Warsaw has asked the allies for a timetable.") == "Warsaw"


def test_each_claim_is_parsed_once_and_a_deciding_text_only_when_needed(parse):
    parsed = []

    def counting(texts):
        parsed.extend(texts)
        return [parse(text) for text in texts]

    claim = "Jean-Michel Basquiat died from an overdose of heroin."
    asked = [(claim, "In 2000, Yates died of a heroin overdose.", ()), (claim, "Basquiat died in 1988.", ()), (claim, "He died.", ())]
    assert other_subjects(counting, asked) == ["Yates", None, None]
    assert parsed == [claim, "In 2000, Yates died of a heroin overdose.", "He died."]  # "Basquiat died ..." names him: not parsed


def test_the_subject_is_read_after_a_heading_or_a_label_and_not_from_an_article(other):
    assert subject_text("FACT SHEET: The United States will host the summit.") == "The United States will host the summit."
    assert subject_text("-   **Support for Ukraine:**\u00a0 The allies agreed.") == "The allies agreed."  # Markdown around the label
    assert subject_text("The treaty says one thing: allies consult.") == "The treaty says one thing: allies consult."  # a sentence
    assert subject_text("Allies agreed on three points at the long summit in the capital: aid, arms and training.").startswith("Allies")
    article = "### Article  10\n\nThe Parties may, by unanimous agreement, invite any other European State to accede to this Treaty."
    assert subject_text(article).startswith("The Parties may")
    assert subject_text("Biden met Putin at 10:30 in Geneva: talks went on.").startswith("Biden")  # a time, and not a label
    assert subject_text("### Article 10\n") == ""  # a heading alone: no subject
    assert len(subject_text("word " * 500)) == PARSED_CHARACTERS
    claim = "The General Assembly elects ten non-permanent members of the Security Council."
    assert other(claim, "Article 23 provides for fifteen members of the Security Council.") is None  # a text, no one else
