"""Compact weights: matrices in 4 or 8 bits with group scales, expanded on load to a working model."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from service.runtime.compact_weights import (
    QUANTIZED,
    SCALE,
    WEIGHTS_FILE,
    compact_format,
    compact_tensors,
    expanded_tensors,
    write_compact,
)
from service.runtime.embedding import packaged_embedding_model_path
from service.runtime.mean_pooled import MeanPooledClassifier, load_classifier

LABELS = ["supports", "refutes", "neutral"]
PAIRS = [("The Council has fifteen members.", "The Security Council has 15 members."), ("Rain fell.", "It was a dry week, with no rain.")]


def state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {
        "layer.weight": torch.randn(6, 128),
        "layer.bias": torch.randn(6),
        "norm.weight": torch.ones(128),
        "odd.weight": torch.randn(4, 100),  # rows do not split into groups of 64: kept as it is
        "position_ids": torch.arange(8),
    }


@pytest.mark.parametrize("bits", [4, 8])
def test_each_weight_comes_back_within_half_a_step_of_its_group(bits):
    original = state()
    stored = compact_tensors(original, bits, 64)
    assert {"layer.weight" + QUANTIZED, "layer.weight" + SCALE, "odd.weight", "norm.weight", "position_ids"} <= set(stored)
    assert "layer.weight" not in stored
    assert stored["layer.weight" + SCALE].shape == (6, 2)  # one scale per row and group of 64
    assert stored["layer.weight" + QUANTIZED].numel() == 6 * 128 * bits // 8
    back = expanded_tensors(stored, bits)
    assert set(back) == set(original)
    steps = stored["layer.weight" + SCALE].float().repeat_interleave(64, dim=1)
    assert torch.all((back["layer.weight"] - original["layer.weight"]).abs() <= steps / 2 + 1e-6)
    assert torch.equal(back["position_ids"], original["position_ids"])
    torch.testing.assert_close(back["layer.bias"], original["layer.bias"].half().float())


def test_four_bits_keep_the_sign_and_the_largest_value_of_each_group():
    weight = torch.tensor([[-7.0, 7.0, -1.0, 0.0] * 16])
    back = expanded_tensors(compact_tensors({"w": weight}, 4, 64), 4)["w"]
    torch.testing.assert_close(back, weight, atol=1e-2, rtol=0)


def test_bad_formats_are_refused():
    with pytest.raises(ValueError, match="bits"):
        compact_tensors(state(), 3, 64)
    with pytest.raises(ValueError, match="group"):
        compact_tensors(state(), 4, 7)


@pytest.mark.integration  # a real encoder
def test_a_compact_folder_loads_as_the_model_it_was_made_from(tmp_path):
    torch.manual_seed(0)
    model = MeanPooledClassifier.from_base(packaged_embedding_model_path(), LABELS).eval()
    folder, compact = tmp_path / "model", tmp_path / "compact"
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(packaged_embedding_model_path())
    tokenizer.save_pretrained(folder)
    write_compact(folder, compact, bits=8, group=64)
    assert compact_format(folder) is None and compact_format(compact) == {"bits": 8, "group": 64}
    assert (compact / WEIGHTS_FILE).stat().st_size < 0.6 * (folder / WEIGHTS_FILE).stat().st_size
    loaded = load_classifier(compact)
    assert not loaded.encoder.training  # no dropout: as the ordinary folder loads
    assert isinstance(loaded, MeanPooledClassifier) and [loaded.config.id2label[i] for i in range(3)] == LABELS
    encoded = tokenizer([p for p, _ in PAIRS], [c for _, c in PAIRS], padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected, got = model(**encoded).logits, loaded(**encoded).logits
    torch.testing.assert_close(got, expected, atol=0.02, rtol=0.05)
    with pytest.raises(ValueError, match="compact already"):
        write_compact(compact, tmp_path / "again")


@pytest.mark.integration  # the shipped stance model
def test_the_shipped_transformers_classifier_compacts_to_8_bits_and_reads_as_before(tmp_path):
    from service.config import Settings
    from service.runtime.sequence_classifier import SequenceClassifier

    shipped = Settings().stance_model_dir
    write_compact(shipped, tmp_path / "compact", bits=8)
    loaded = load_classifier(tmp_path / "compact")
    assert type(loaded).__name__.endswith("ForSequenceClassification") and not loaded.training
    before, after = (SequenceClassifier.load(folder) for folder in (shipped, tmp_path / "compact"))
    encoded = dict(before.tokenizer([p for p, _ in PAIRS], [c for _, c in PAIRS]))
    torch.testing.assert_close(
        torch.from_numpy(after.probabilities(encoded, 8)), torch.from_numpy(before.probabilities(encoded, 8)), atol=0.03, rtol=0
    )
