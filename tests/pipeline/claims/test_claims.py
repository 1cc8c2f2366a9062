"""Claim extraction with the real spaCy pipeline and scorer: offsets, standalone text, robustness."""

from __future__ import annotations

import json
import shutil
import sys
from typing import get_args

import numpy as np
import pytest
from conftest import SEED_TEXT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.config import Settings
from service.errors import NotLoaded
from service.pipeline.claims.checkworthiness import CheckworthinessModel
from service.pipeline.claims.extractor import ClaimExtractor
from service.pipeline.claims.standalone import MAX_CLAIM_TOKENS
from service.results import NOT_A_SENTENCE, Extraction, SkipReason
from service.training.datasets import CT24_FILES, ct24_sentences


@pytest.fixture(scope="module")
def extractor():
    loaded = ClaimExtractor(Settings().checkworthiness_model_dir)
    loaded.warm_up()
    return loaded


def assert_well_formed(text: str, extraction: Extraction) -> None:
    """Every span is exact, trimmed and in order; claims and skipped stretches never overlap."""
    spans = sorted([(c.start, c.end) for c in extraction.claims] + [(s.start, s.end) for s in extraction.skipped])
    assert [(c.start, c.end) for c in extraction.claims] == sorted((c.start, c.end) for c in extraction.claims)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    for claim in extraction.claims:
        assert text[claim.start : claim.end] == claim.text
        assert claim.text == claim.text.strip() and claim.text
        assert claim.checked_as and 0.0 <= claim.checkworthiness <= 1.0
    for skipped in extraction.skipped:
        assert 0 <= skipped.start < skipped.end <= len(text) and skipped.reason in get_args(SkipReason)


TEXTS = [
    SEED_TEXT,
    "  Leading spaces.\n\nFinland joined NATO in April 2023.   Sweden followed in March 2024!\n",
    "• NATO has 32 members.\n• Its headquarters are in Brussels.\n\n\n",
    "«Quoted» text — with dashes… and “curly quotes”. Another one?",
    "x.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_round_trip_and_do_not_overlap(extractor, text):
    extraction = extractor.extract(text)
    assert extraction.claims
    assert_well_formed(text, extraction)


def test_verbless_headings_and_table_cells_are_skipped_but_headlines_are_read(extractor):
    text = (
        "# Security Council deadlock\n\nSweden joins NATO\n\n| Year | Members |\n|---|---|\n| 1949 | 12 |\n| 2024 | 32 |\n\n"
        "Unemployment at record low\n\nTrillion-dollar deficits for the last four years.\n\nThe Council has 15 members"
    )
    extraction = extractor.extract(text)
    assert_well_formed(text, extraction)
    assert [c.text for c in extraction.claims] == [
        "Sweden joins NATO",
        "Unemployment at record low",  # a headline without a verb, on a line of its own
        "Trillion-dollar deficits for the last four years.",
        "The Council has 15 members",
    ]
    skipped = [(text[s.start : s.end], s.reason) for s in extraction.skipped]
    assert skipped == [
        ("Security Council deadlock", NOT_A_SENTENCE),
        ("Year | Members |\n|---|---|\n| 1949 | 12 |\n| 2024 | 32", NOT_A_SENTENCE),  # one entry for the whole table
    ]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("Do you think NATO will survive?", "Finland joined NATO in April 2023."),
        ("Hello everyone!", "The alliance was founded in 1949 by twelve countries."),
        ("Well, we will see what happens...", "Unemployment fell to 3.5 percent last year, the lowest in fifty years."),
        ("I think this summit is a disgrace.", "The summit cost 40 million euros."),
    ],
)
def test_checkworthiness_ranks_factual_claims_above_the_rest(extractor, low, high):
    [low_claim] = extractor.extract(low).claims
    [high_claim] = extractor.extract(high).claims
    assert low_claim.checkworthiness < extractor.threshold <= high_claim.checkworthiness


@pytest.mark.parametrize("text", ["", "   \n\t ", "<p></p><br/>", "- \n• \n", "... !!! ---"])
def test_text_without_sentences_gives_no_claims(extractor, text):
    assert extractor.extract(text) == Extraction([], [])


def test_claims_carry_their_standalone_text(extractor):
    text = "NATO was founded in 1949. It has 32 members. Stoltenberg said that Ukraine must prevail."
    claims = extractor.extract(text).claims
    assert [(c.text, c.checked_as, c.attribution) for c in claims] == [
        ("NATO was founded in 1949.", "NATO was founded in 1949.", None),
        ("It has 32 members.", "NATO has 32 members.", None),
        ("Stoltenberg said that Ukraine must prevail.", "Ukraine must prevail", "Stoltenberg"),
    ]


def test_zero_width_and_bidi_characters_do_not_join_sentences(extractor):
    text = "\u202bNATO was founded in 1949.\u200b\u202c Finland joined NATO in 2023.\u2060Sweden joined in 20\u200b24\u200b."
    claims = extractor.extract(text).claims
    assert [text[c.start : c.end] for c in claims] == [c.text for c in claims]
    assert [c.checked_as for c in claims] == ["NATO was founded in 1949.", "Finland joined NATO in 2023.", "Sweden joined in 2024."]


def test_markup_and_bullets_stay_out_of_the_spans(extractor):
    text = "<ul><li>NATO has 32 members</li>\n<li>Its headquarters are in Brussels</li></ul><p>AT&amp;T cut 5,000 jobs in 2023.</p>"
    claims = extractor.extract(text).claims
    assert [c.text for c in claims] == ["NATO has 32 members", "Its headquarters are in Brussels", "AT&amp;T cut 5,000 jobs in 2023."]
    assert [c.checked_as for c in claims] == ["NATO has 32 members", "NATO's headquarters are in Brussels", "AT&T cut 5,000 jobs in 2023."]
    numbered = "1. Finland joined NATO in 2023\n2. Sweden joined in 2024"
    assert [c.text for c in extractor.extract(numbered).claims] == ["Finland joined NATO in 2023", "Sweden joined in 2024"]


def test_entities_stay_whole_in_the_spans_and_read_as_their_characters(extractor):
    text = "Trump called climate change &quot;a hoax&quot; in 2012 &amp; again in 2016.<script>var x = 1;</script>"
    [claim] = extractor.extract(text).claims
    assert claim.text == "Trump called climate change &quot;a hoax&quot; in 2012 &amp; again in 2016."
    assert claim.checked_as == 'Trump called climate change "a hoax" in 2012 & again in 2016.'


def test_text_in_another_language_is_skipped_with_the_reason(extractor):
    german = "Die NATO wurde 1949 in Washington gegründet. Sie hat heute 32 Mitglieder und ihren Sitz in Brüssel."
    text = f"Finland joined NATO in April 2023.\n\n{german}"
    extraction = extractor.extract(text)
    assert [c.text for c in extraction.claims] == ["Finland joined NATO in April 2023."]
    [skipped] = extraction.skipped
    assert text[skipped.start : skipped.end] == german and "German" in skipped.message
    assert extractor.extract("НАТО было основано в 1949 году.").claims == []


def test_a_sentence_without_end_is_cut_into_claims_of_bounded_length(extractor):
    text = " ".join(f"member {i} of the alliance agreed on budgets plans and timetables" for i in range(500))  # 5,500 words, no period
    extraction = extractor.extract(text)
    assert_well_formed(text, extraction)
    assert len(extraction.claims) == -(-5500 // MAX_CLAIM_TOKENS)  # as few as the bound allows ...
    assert sum(len(claim.text.split()) for claim in extraction.claims) == 5500  # ... and every word in one
    assert all(len(claim.text.split()) <= MAX_CLAIM_TOKENS for claim in extraction.claims)


FRAGMENTS = [
    "NATO was founded in 1949.", "It has 32 members.", "Finland applied in 2022, and the alliance refused a timetable.",
    "Stoltenberg said that Ukraine must prevail.", "“Ukraine must prevail,” he said.", "According to NATO, Finland joined in 2023.",
    "Its headquarters are in Brussels", "the treaty", "and", ";", ",", ".", "?", "\"", "'", "«", "»", "—", "…",
    "- ", "• ", "1. ", "(a) ", "<p>", "</p>", "<br/>", "<li>", "<", ">", "</", "<!--", "-->", "&amp;", "&nbsp;", "&",
    "&quot;", "&#39;", "&lt;", "&gt;", "&shy;", "&#8212;", "<script>", "</script>", "<style>",
    " ", "  ", "\n", "\n\n", "\t", "\r\n", "\u200f", "\u202e", "\u200b", "\xa0", "😀", "é", "Die NATO wurde 1949 gegründet.",
    "НАТО было основано в 1949 году.", "北大西洋公约组织", "حلف الناتو",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(" ".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
@example(text="&011&A1; 1")  # a span widened into an entity mask had left as text overlapped the one before it
def test_any_text_gives_exact_ordered_spans(extractor, text):
    assert_well_formed(text, extractor.extract(text))


def test_several_texts_at_once_give_what_each_gives_alone(extractor):
    for together, text in zip(extractor.extract_many(TEXTS), TEXTS, strict=True):
        alone = extractor.extract(text)
        assert [(c.start, c.end, c.checked_as) for c in together.claims] == [(c.start, c.end, c.checked_as) for c in alone.claims]
        assert [c.checkworthiness for c in together.claims] == pytest.approx([c.checkworthiness for c in alone.claims], abs=1e-3)


def test_checkworthiness_model_is_small_and_has_a_card():
    model_dir = Settings().checkworthiness_model_dir
    assert 0 < sum(p.stat().st_size for p in model_dir.glob("*.safetensors")) < 60_000_000
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    stored = json.loads((model_dir / "checkworthiness.json").read_text(encoding="utf-8"))
    assert "fine-tuned with a 2-way head" in card and "CheckThat! 2024 English train sentences" in " ".join(card.split())
    assert "| CT24 dev-test (later debates) |" in card and "| CT24 train, latest debates (tuning) |" in card
    assert f"({stored['threshold']:.2f}, in `checkworthiness.json`" in card
    assert stored["report"]["dev_test"]["sentences"] == 318 and stored["report"]["config"]["epochs"] >= 1
    scorer = CheckworthinessModel(model_dir)
    scorer.warm_up()
    assert scorer.threshold == stored["threshold"] and 0.0 < scorer.threshold < 1.0
    assert scorer.platt == tuple(stored["platt"]) != (1.0, 0.0)


def test_the_stored_platt_scaling_maps_the_models_probability(tmp_path):
    shutil.copytree(Settings().checkworthiness_model_dir, tmp_path / "raw")
    settings = json.loads((tmp_path / "raw" / "checkworthiness.json").read_text(encoding="utf-8"))
    scale, bias = settings["platt"]
    (tmp_path / "raw" / "checkworthiness.json").write_text(json.dumps(settings | {"platt": [1.0, 0.0]}), encoding="utf-8")
    raw, calibrated = (
        CheckworthinessModel(tmp_path / "raw", backend="torch"),
        CheckworthinessModel(Settings().checkworthiness_model_dir, backend="torch"),
    )
    raw.warm_up()
    calibrated.warm_up()
    sentences = ["Finland joined NATO in April 2023.", "Thank you all for coming tonight.", "Unemployment fell to 3.5 percent last year."]
    expected = 1 / (1 + np.exp(-(scale * np.log(raw.predict(sentences) / (1 - raw.predict(sentences))) + bias)))
    assert calibrated.predict(sentences).tolist() == pytest.approx(expected.tolist(), abs=1e-4)


def test_ct24_sentences_can_be_taken_by_a_range_of_sentence_ids(tmp_path):
    folder = tmp_path / "checkworthiness" / "ct24_english"
    folder.mkdir(parents=True)
    rows = [
        "Sentence_id\tText\tclass_label",
        "5\tWe cut taxes by 10 percent.\tYes",
        "29999\tThank you.\tNo",
        "30000\tIt's 3 million jobs.\tYes",
    ]
    (folder / CT24_FILES["train"]).write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert ct24_sentences(tmp_path, "train") == (["We cut taxes by 10 percent.", "Thank you.", "It's 3 million jobs."], [1, 0, 1])
    assert ct24_sentences(tmp_path, "train", range(30000)) == (["We cut taxes by 10 percent.", "Thank you."], [1, 0])
    assert ct24_sentences(tmp_path, "train", range(30000, 10**9)) == (["It's 3 million jobs."], [1])


@pytest.mark.integration
def test_checkworthiness_on_onnx_runtime_matches_torch_and_int8_stays_close(extractor):
    model_dir = Settings().checkworthiness_model_dir
    reference = CheckworthinessModel(model_dir, backend="torch", batch_size=2)
    reference.warm_up()
    fp32 = CheckworthinessModel(model_dir, backend="onnx")
    fp32.warm_up()
    sentences = ["Finland joined NATO in April 2023.", "Hello!", "The summit cost 40 million euros, twice the budget of 2019."]
    expected = reference.predict(sentences).tolist()
    assert fp32.predict(sentences).tolist() == pytest.approx(expected, abs=2e-4)
    assert extractor.scorer.backend == "onnx-int8"
    int8 = extractor.scorer.predict(sentences).tolist()
    assert int8 == pytest.approx(expected, abs=0.03)
    assert int8 != pytest.approx(expected, abs=1e-4), "not int8"
    assert [float(extractor.scorer.predict([sentence])[0]) for sentence in sentences] == pytest.approx(int8, abs=1e-3)  # alone or batched
    assert extractor.scorer.predict([]).shape == (0,)


def test_the_checkworthiness_calibration_was_fitted_on_the_runtime_the_service_uses():
    stored = json.loads((Settings().checkworthiness_model_dir / "checkworthiness.json").read_text(encoding="utf-8"))
    assert stored["backend"] == Settings().checkworthiness_backend == "onnx-int8"
    assert stored["threshold"] == stored["report"]["threshold"]


def test_a_missing_checkworthiness_model_is_a_clear_error(tmp_path):
    with pytest.raises(NotLoaded, match="train_checkworthiness"):
        CheckworthinessModel(tmp_path).warm_up()
    shutil.copytree(Settings().checkworthiness_model_dir, tmp_path / "copy")
    (tmp_path / "copy" / "checkworthiness.json").unlink()
    with pytest.raises(NotLoaded, match="checkworthiness.json"):
        CheckworthinessModel(tmp_path / "copy").warm_up()


def test_checkworthiness_settings_without_platt_scaling_load_and_malformed_ones_are_refused(tmp_path):
    shutil.copytree(Settings().checkworthiness_model_dir, tmp_path / "copy")
    path = tmp_path / "copy" / "checkworthiness.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({"threshold": stored["threshold"]}), encoding="utf-8")  # a model trained before calibration
    older = CheckworthinessModel(tmp_path / "copy", backend="torch")
    older.warm_up()
    assert older.platt == (1.0, 0.0) and older.threshold == stored["threshold"]
    path.write_text(json.dumps({"threshold": 0.5, "platt": [0.7]}), encoding="utf-8")
    with pytest.raises(NotLoaded, match=r"`platt` in .*checkworthiness.json must be \[scale, bias\]"):
        CheckworthinessModel(tmp_path / "copy", backend="torch").warm_up()


def test_a_missing_threshold_is_a_clear_error_and_a_runtime_mismatch_is_logged(tmp_path, caplog):
    shutil.copytree(Settings().checkworthiness_model_dir, tmp_path / "copy")
    path = tmp_path / "copy" / "checkworthiness.json"
    path.write_text(json.dumps({"platt": [1.0, 0.0]}), encoding="utf-8")
    with pytest.raises(NotLoaded, match="no `threshold`.*--calibrate-only"):
        CheckworthinessModel(tmp_path / "copy", backend="torch").warm_up()
    path.write_text(json.dumps({"threshold": 0.3, "backend": "onnx-int8"}), encoding="utf-8")
    with caplog.at_level("WARNING", logger="claimcheck"):
        CheckworthinessModel(tmp_path / "copy", backend="torch").warm_up()
    assert "fitted on onnx-int8 scores and the model runs on torch" in caplog.text


@pytest.mark.integration
def test_calibration_is_fitted_on_held_out_debates_as_the_service_scores_them(tmp_path, monkeypatch):
    """What train() leaves before calibrating (weights, an uncalibrated settings file) is enough
    for calibrate() to fit the Platt scaling and the threshold and write them and the card."""
    from service.training import checkworthiness as checkworthiness_training

    shutil.copytree(Settings().checkworthiness_model_dir, tmp_path / "model")
    stored = json.loads((tmp_path / "model" / "checkworthiness.json").read_text(encoding="utf-8"))
    training_part = {key: stored["report"][key] for key in ("config", "train_sentences", "train_checkworthy", "hardware", "seconds")}
    (tmp_path / "model" / "checkworthiness.json").write_text(json.dumps({"threshold": 0.5, "platt": [1.0, 0.0], "report": training_part}))
    (tmp_path / "model" / "README.md").unlink()
    sentences = [
        ("NATO has 32 members.", 1),
        ("Unemployment fell to 3.5 percent last year.", 1),
        ("The budget doubled between 2010 and 2020.", 1),
        ("Thank you very much.", 0),
        ("Good evening, everyone.", 0),
        ("I want to say something.", 0),
    ]
    asked = []

    def fixture_sentences(data_dir, split, ids=None):
        asked.append((split, ids))
        return [text for text, _ in sentences], [label for _, label in sentences]

    monkeypatch.setattr(checkworthiness_training, "ct24_sentences", fixture_sentences)
    report = checkworthiness_training.calibrate(tmp_path / "model", tmp_path, "onnx-int8")
    assert asked[0] == ("train", range(stored["report"]["config"]["tuning_from_id"], sys.maxsize))  # the held-out debates
    written = json.loads((tmp_path / "model" / "checkworthiness.json").read_text(encoding="utf-8"))
    assert written["backend"] == report["backend"] == "onnx-int8"
    assert written["platt"] != [1.0, 0.0] and 0.1 <= written["threshold"] <= 0.9
    assert report["tuning"]["f1"] == 1.0  # the model separates these six sentences
    assert report["train_sentences"] == training_part["train_sentences"]  # the training part is kept
    assert "`onnx-int8` runtime" in (tmp_path / "model" / "README.md").read_text(encoding="utf-8")
    reloaded = CheckworthinessModel(tmp_path / "model")
    reloaded.warm_up()
    assert reloaded.threshold == written["threshold"]


def test_teasers_cut_off_with_an_ellipsis_are_skipped_one_by_one(extractor):
    text = (
        "NATO has 32 members.\n"
        "Hundreds of people gathered in Tehran on Friday morning in front of the United Nations…\n"
        "An international law expert has revealed the U.S. plans to impose punitive measures…\n"
        "Well, we will see what happens..."
    )
    extraction = extractor.extract(text)
    truncated = [text[s.start : s.end] for s in extraction.skipped if s.reason == "truncated"]
    assert truncated == [
        "Hundreds of people gathered in Tehran on Friday morning in front of the United Nations…",
        "An international law expert has revealed the U.S. plans to impose punitive measures…",
    ]
    assert [c.text for c in extraction.claims] == ["NATO has 32 members.", "Well, we will see what happens..."]


def test_an_ellipsis_ends_a_line_only_before_a_new_sentence(extractor):
    text = "First teaser about NATO members…\r\nSecond teaser about the summit…\r\nNATO has 32 members."
    assert len([s for s in extractor.extract(text).skipped if s.reason == "truncated"]) == 2
    wrapped = "NATO leaders spoke about the future of…\nthe alliance and its members at the summit."
    extraction = extractor.extract(wrapped)
    assert extraction.skipped == [] and len(extraction.claims) == 1


def test_the_speakers_own_expectation_is_skipped_and_what_they_report_is_checked(extractor):
    text = (
        "“I expect that allies will make important announcements at the summit,” Stoltenberg told reporters. "
        "“We do not anticipate that there'll be an invitation for Ukraine to join NATO,” O'Brien said. "
        "Ukraine applied to join NATO in September 2022. "
        "Analysts expect the summit to approve a new package of aid."
    )
    extraction = extractor.extract(text)
    assert_well_formed(text, extraction)
    expectations = [text[s.start : s.end] for s in extraction.skipped if s.reason == "expectation"]
    assert len(expectations) == 1  # neighbours skipped for the same reason are reported as one stretch
    assert "allies will make important announcements" in expectations[0] and "an invitation for Ukraine" in expectations[0]
    assert "September 2022" not in expectations[0]
    checked = [claim.checked_as for claim in extraction.claims]
    assert "Ukraine applied to join NATO in September 2022." in checked
    assert any(claim.startswith("Analysts expect") for claim in checked)  # someone else's expectation, reported: a claim


@pytest.mark.parametrize(
    ("checked_as", "expected"),
    [
        ("I expect that allies will make important announcements.", True),
        ("We also expect specific decisions regarding Ukraine's membership.", True),
        ("We do not anticipate an invitation.", True),
        ("I'd hoped the treaty would be signed.", True),
        ("We predicted a recession in 2023.", True),
        ("I'm hoping the summit will agree.", True),
        ("We are expecting a decision in July.", True),
        ("We would not expect an invitation.", True),
        ("We've long expected this.", True),
        ("we all expect a vote.", True),
        ("Weapons expected in May have arrived.", False),
        ("We expanded the alliance in 2023.", False),
        ("Analysts expect the summit to approve aid.", False),
        ("I signed the treaty in 1949.", False),
    ],
)
def test_an_expectation_is_the_speakers_own(checked_as, expected):
    from service.pipeline.claims.standalone import states_an_expectation

    assert states_an_expectation(checked_as) is expected
