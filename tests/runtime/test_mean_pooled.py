"""The mean-pooled classifier: saved and loaded like the shipped models, run by the service's ONNX runtime."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from service.config import Settings
from service.runtime.embedding import packaged_embedding_model_path
from service.runtime.mean_pooled import CLASSIFIER_HEAD_FILE, MeanPooledClassifier, load_classifier
from service.runtime.sequence_classifier import SequenceClassifier

pytestmark = pytest.mark.integration  # a real encoder
LABELS = ["supports", "refutes", "neutral"]
PAIRS = [("The Council has fifteen members.", "The Security Council has 15 members."), ("Rain fell.", "It was a dry week, with no rain.")]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = MeanPooledClassifier.from_base(packaged_embedding_model_path(), LABELS)
    folder = tmp_path_factory.mktemp("mean-pooled")
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(packaged_embedding_model_path()).save_pretrained(folder)
    return model.eval(), folder


def logits(model, tokenizer, pairs):
    encoded = tokenizer([p for p, _ in pairs], [c for _, c in pairs], padding=True, return_tensors="pt")
    with torch.inference_mode():
        return model(**encoded).logits


def test_a_saved_classifier_loads_with_its_labels_and_gives_the_same_logits(saved):
    model, folder = saved
    assert (folder / CLASSIFIER_HEAD_FILE).is_file()
    loaded = load_classifier(folder)
    assert isinstance(loaded, MeanPooledClassifier)
    assert [loaded.config.id2label[i] for i in range(3)] == LABELS
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.testing.assert_close(logits(loaded.eval(), tokenizer, PAIRS), logits(model, tokenizer, PAIRS))


def test_padding_does_not_change_a_pairs_logits(saved):
    model, folder = saved
    tokenizer = AutoTokenizer.from_pretrained(folder)
    alone = logits(model, tokenizer, PAIRS[1:])
    padded = logits(model, tokenizer, PAIRS)[1:]  # the first pair is longer: the second is padded
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-4)


def test_the_service_runs_it_on_onnx_runtime_as_torch_does(saved):
    _, folder = saved
    on_torch = SequenceClassifier.load(folder, backend="torch")
    on_onnx = SequenceClassifier.load(folder, backend="onnx")
    encoded = on_torch.tokenizer([p for p, _ in PAIRS], [c for _, c in PAIRS])
    assert on_onnx.labels == LABELS
    expected = torch.from_numpy(on_torch.probabilities(dict(encoded), 8))
    torch.testing.assert_close(torch.from_numpy(on_onnx.probabilities(dict(encoded), 8)), expected, atol=1e-5, rtol=1e-4)


def test_a_transformers_classifier_folder_still_loads_as_one():
    model = load_classifier(Settings().stance_model_dir)
    assert not isinstance(model, MeanPooledClassifier)
    assert type(model).__name__.endswith("ForSequenceClassification")
