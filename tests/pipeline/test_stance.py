"""The committed stance model: loads offline, reads its label order from its config, and works."""

from __future__ import annotations

import json
import shutil

import pytest

from service.config import Settings
from service.errors import NotLoaded
from service.pipeline.stance import StanceClassifier

pytestmark = pytest.mark.integration  # the shipped stance model


MODEL_DIR = Settings().stance_model_dir
ARTICLE_5 = (
    "The Parties agree that an armed attack against one or more of them in Europe or North America shall be "
    "considered an attack against them all."
)


@pytest.fixture(scope="module")
def classifier():
    loaded = StanceClassifier(MODEL_DIR)
    loaded.warm_up()
    return loaded


def test_model_is_small_and_has_a_card():
    weights = sum(p.stat().st_size for p in MODEL_DIR.glob("*.safetensors"))
    assert 0 < weights < 60_000_000
    card = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert "FEVER" in card and "SNLI" in card and "accuracy" in card.lower()


@pytest.mark.parametrize(
    ("claim", "stance"),
    [
        ("An armed attack on one of the Parties is considered an attack against them all.", "supports"),
        ("An armed attack on one of the Parties is not considered an attack against the others.", "refutes"),
        ("The Parties agree to hold the Olympic Games every four years.", "neutral"),
    ],
)
def test_obvious_pairs(classifier, claim, stance):
    [probs] = classifier.predict([(ARTICLE_5, claim)])
    assert max(probs, key=probs.get) == stance, probs


def test_label_order_comes_from_the_config(classifier, tmp_path):
    """Permuting the classifier head and id2label together must not change the answers."""
    import torch
    from safetensors.torch import load_file, save_file

    permuted = tmp_path / "permuted"
    shutil.copytree(MODEL_DIR, permuted)
    config = json.loads((permuted / "config.json").read_text())
    order = [2, 0, 1]
    config["id2label"] = {str(new): config["id2label"][str(old)] for new, old in enumerate(order)}
    config["label2id"] = {label: int(i) for i, label in config["id2label"].items()}
    (permuted / "config.json").write_text(json.dumps(config))
    [weights_file] = permuted.glob("*.safetensors")
    tensors = load_file(weights_file)
    for name in ("classifier.weight", "classifier.bias"):
        tensors[name] = tensors[name][torch.tensor(order)].contiguous()
    save_file(tensors, weights_file, metadata={"format": "pt"})
    other = StanceClassifier(permuted)
    other.warm_up()
    assert other.labels != classifier.labels
    pairs = [(ARTICLE_5, "An attack on one Party is an attack on all.")]
    [expected], [actual] = classifier.predict(pairs), other.predict(pairs)
    assert actual == pytest.approx(expected, abs=2e-3)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(NotLoaded, match="train_stance"):
        StanceClassifier(tmp_path).warm_up()


PAIRS = [
    (ARTICLE_5, "An armed attack on one of the Parties is not considered an attack against the others."),
    ("Short.", "NATO exists."),
    (ARTICLE_5 + " " + ARTICLE_5, "The Parties agree to hold the Olympic Games every four years."),
    (ARTICLE_5, "An attack on one Party is an attack on all."),
]


@pytest.fixture(scope="module")
def torch_reference():
    reference = StanceClassifier(MODEL_DIR, backend="torch", batch_size=3)
    reference.warm_up()
    return reference.predict(PAIRS)


def test_onnx_runtime_in_fp32_gives_the_probabilities_of_the_torch_model(torch_reference):
    """The fp32 ONNX Runtime backend (exported at start-up) must match PyTorch, padded batches included."""
    fp32 = StanceClassifier(MODEL_DIR, backend="onnx", batch_size=3)
    fp32.warm_up()
    for ours, theirs in zip(fp32.predict(PAIRS), torch_reference, strict=True):
        assert ours == pytest.approx(theirs, abs=2e-4)


def test_the_default_int8_backend_stays_close_to_fp32_and_ignores_batch_mates(classifier, torch_reference):
    assert classifier.backend == "onnx-int8"
    batched = classifier.predict(PAIRS)
    for ours, theirs in zip(batched, torch_reference, strict=True):
        assert max(ours, key=ours.get) == max(theirs, key=theirs.get)
        assert ours == pytest.approx(theirs, abs=0.05)
    assert any(ours != pytest.approx(theirs, abs=1e-4) for ours, theirs in zip(batched, torch_reference, strict=True)), "not int8"
    for alone, together in zip([classifier.predict([pair])[0] for pair in PAIRS], batched, strict=True):
        assert alone == pytest.approx(together, abs=1e-3)  # up to fp32 rounding, which padding changes


def test_a_pair_repeated_in_a_batch_is_read_once_and_answered_each_time(classifier, monkeypatch):
    pairs = [(ARTICLE_5, "An attack on one is an attack on all."), (ARTICLE_5, "The Parties meet every year.")]
    alone = classifier.predict(pairs)
    rows_read = []
    probabilities = classifier._classifier.probabilities
    monkeypatch.setattr(
        classifier._classifier,
        "probabilities",
        lambda encoded, batch: rows_read.append(len(encoded["input_ids"])) or probabilities(encoded, batch),
    )
    answers = classifier.predict([pairs[0], pairs[1], pairs[0], pairs[0]])
    assert rows_read == [2]
    assert answers == [alone[0], alone[1], alone[0], alone[0]]
    answers[0]["supports"] = -1.0  # each answer is its own
    assert answers[2] == alone[0]


def test_the_cascade_with_the_shipped_model_in_both_roles_changes_no_verdict(pipeline, monkeypatch):
    from conftest import REFUTED_CLAIM

    from service.pipeline.polarity import affirmative

    claims = [
        "Article 5 of the NATO Charter stipulates that an attack against one member must be treated as an attack against the alliance.",
        REFUTED_CLAIM,
        "The Security Council has fifteen members.",
        "The moon is made of cheese.",
    ]
    monkeypatch.setattr(pipeline.settings, "negation_check", True)  # its readings too are checked by the reader that gave them
    alone = pipeline.verify(claims, top_k=5).results
    reread_pairs = []

    class Counting:
        def predict(self, pairs):
            reread_pairs.extend(pairs)
            return pipeline.stance.predict(pairs)

    monkeypatch.setattr(pipeline, "rereader", Counting())
    cascaded = pipeline.verify(claims, top_k=5).results
    assert [(r.verdict, [e.stance for e in r.evidence]) for r in cascaded] == [(r.verdict, [e.stance for e in r.evidence]) for r in alone]
    assert [r.confidence for r in cascaded] == pytest.approx([r.confidence for r in alone], abs=1e-4)
    rereads = [pair for pair in reread_pairs if pair[1] in claims]
    assert 0 < len(rereads) <= pipeline.settings.rereader_passages * len(claims)
    assert {claim for _, claim in rereads} <= set(claims[:3])  # the off-topic claim has no passage above the floor
    assert {claim for _, claim in reread_pairs} - set(claims) == {affirmative(REFUTED_CLAIM)}  # the negation check of its readings


def test_a_blank_rereader_setting_runs_without_a_cascade(monkeypatch):
    monkeypatch.setenv("CLAIMCHECK_STANCE_REREADER_MODEL_DIR", " ")
    settings = Settings()
    assert settings.stance_rereader_model_dir is None
    assert StanceClassifier.rereader_configured(settings) is None
