"""The language-identification comparison's measures, with stand-in detectors."""

from __future__ import annotations

from service.evaluation.language_id import MIXED, foreign_sentences, measure


def test_the_measures_count_what_each_detector_takes_for_foreign():
    english = {"a": ["NATO has 32 members.", "Hola amigos, this is English."], "b": ["Finland joined in 2023."]}
    foreign = [("de", "Die NATO wurde 1949 gegründet."), ("es", "La OTAN fue fundada en 1949.")]
    says_foreign_when_spanish = measure(lambda text: "Hola" in text or "OTAN" in text, english, foreign)
    assert says_foreign_when_spanish["english_taken_for_foreign"] == {"a": 0.5, "b": 0.0}
    assert says_foreign_when_spanish["foreign_found"] == 0.5
    assert says_foreign_when_spanish["mixed_read_as_english"] == f"{len(MIXED)}/{len(MIXED)}"
    assert measure(lambda text: True, english, foreign)["mixed_read_as_english"] == f"0/{len(MIXED)}"


def test_the_foreign_set_is_spacys_example_sentences_in_many_languages():
    found = foreign_sentences()
    assert len({code for code, _ in found}) >= 15 and len(found) > 100
