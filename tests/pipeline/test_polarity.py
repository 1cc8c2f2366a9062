"""The negation check (service/pipeline/polarity.py): which claims it reads again without their negation, and how."""

from __future__ import annotations

import pytest

from service.pipeline.polarity import affirmative, flips


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Ukraine would not become a member of NATO during the summit.", "Ukraine would become a member of NATO during the summit."),
        ("We do not anticipate an invitation.", "We do anticipate an invitation."),
        ("Paris isn't in France.", "Paris is in France."),
        ("The film doesn’t star Tom Cruise.", "The film does star Tom Cruise."),  # a curly apostrophe
        ("Obama can't swim.", "Obama can swim."),
        ("He won't go.", "He will go."),
        ("Birds cannot fly.", "Birds can fly."),
        ("He never won an Oscar.", "He won an Oscar."),
        ("Not all birds fly.", "All birds fly."),
        ("He is not.", "He is."),
        ("Won't they sign?", "Will they sign?"),
        ("HE WON'T GO.", "HE WILL GO."),
        ('"Not all birds fly," he said.', '"All birds fly," he said.'),
    ],
)
def test_the_one_negation_of_a_claim_is_dropped(claim, expected):
    assert affirmative(claim) == expected


@pytest.mark.parametrize(
    "claim",
    [
        "The council has fifteen members.",  # nothing to drop
        "He did not say that he would not go.",  # two negations
        "There is no evidence that it works.",  # a negation the check cannot drop by one word
        "Neither France nor Germany signed it, and it was not ratified.",
        "Not only France but also Germany signed it.",  # "not only": no negation of the claim
        "Whether or not it passes, the vote is on Monday.",
        "Notably, Nottingham is a city.",  # words that only begin with "not"
        "The charity is a not-for-profit organisation.",  # a negation inside a hyphenated word is part of the word
        "It was a never-ending story.",
        "Not.",  # nothing left to read
    ],
)
def test_a_claim_without_exactly_one_negation_it_can_drop_is_not_checked(claim):
    assert affirmative(claim) is None


def test_a_reading_settles_a_negated_claim_only_if_it_takes_the_other_side_of_the_affirmative():
    refutes = {"supports": 0.05, "refutes": 0.9, "neutral": 0.05}
    supports = {"supports": 0.8, "refutes": 0.1, "neutral": 0.1}
    neutral = {"supports": 0.2, "refutes": 0.1, "neutral": 0.7}
    assert flips(refutes, supports) and flips(supports, refutes)
    assert not flips(refutes, refutes)  # "not born in Kenya" and "born in Kenya" both refuted: the word decided
    assert not flips(refutes, neutral) and not flips(supports, supports)
