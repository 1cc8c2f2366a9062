"""The curated subset a CPU run of the base-size reader trains on: balanced across the sets, sentences first."""

from __future__ import annotations

import random
from collections import Counter

from service.training.datasets import StancePair
from service.training.stance import CURATED_SHARES, SENTENCE_CHARS, curated_subset


def pairs() -> list[StancePair]:
    made = []
    for source in [*CURATED_SHARES, "unlisted"]:
        for number in range(400):
            premise = ("A short sentence. " if number % 2 else "A long passage. " * 40) + f"{source} {number}"
            made.append(StancePair(premise, f"claim {number}", ("supports", "refutes", "neutral")[number % 3], source))
    return made


def test_each_set_gives_its_share_sentences_first_and_unlisted_sets_nothing():
    chosen = curated_subset(pairs(), 1000, random.Random(0))
    counts = Counter(p.source for p in chosen)
    assert counts == {source: int(share * 1000) for source, share in CURATED_SHARES.items()}
    for source, count in counts.items():
        short = sum(len(p.premise) <= SENTENCE_CHARS for p in chosen if p.source == source)
        assert short == min(count, 200)  # the 200 sentence-level pairs of each set come before any passage


def test_a_set_with_fewer_pairs_than_its_share_gives_what_it_has_and_the_choice_is_repeatable():
    few = [p for p in pairs() if p.source != "snli" or p.hypothesis in ("claim 1", "claim 3")]
    chosen = curated_subset(few, 1000, random.Random(0))
    assert Counter(p.source for p in chosen)["snli"] == 2
    assert chosen == curated_subset(few, 1000, random.Random(0))
    assert chosen != curated_subset(few, 1000, random.Random(1))


def test_shares_given_replace_the_default_ones():
    chosen = curated_subset(pairs(), 1000, random.Random(0), {"unlisted": 0.1, "snli": 0.2})
    assert Counter(p.source for p in chosen) == {"unlisted": 100, "snli": 200}


def test_shares_naming_a_source_the_pairs_lack_are_refused_and_sources_left_out_are_named(capsys):
    import pytest

    from service.training.stance import check_shares

    available = Counter({"snli": 5, "reading-fever": 3})
    with pytest.raises(ValueError, match=r"\['reading-fevr'\], which the train pairs lack"):
        check_shares({"snli": 0.5, "reading-fevr": 0.5}, available)
    check_shares({"snli": 0.5, "reading-fever": 0.5}, available)
    assert capsys.readouterr().err == ""
    check_shares(None, available)  # the default shares: a warning, not an error, for what they leave out
    assert "leaves out ['reading-fever']" in capsys.readouterr().err


def test_the_script_refuses_bad_shares_and_reading_sets_before_reading_any_pairs(tmp_path):
    import subprocess
    import sys

    def refusal(*options: str) -> str:
        done = subprocess.run(
            [sys.executable, "scripts/train_stance.py", "--pairs", str(tmp_path), *options], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2, done.stderr
        return done.stderr

    assert "FRACTION above 0" in refusal("--max-train-pairs", "10", "--share", "snli=nan")
    assert "FRACTION above 0" in refusal("--max-train-pairs", "10", "--share", "snli=1.5")
    assert "add up to at most 1" in refusal("--max-train-pairs", "10", "--share", "snli=0.6", "fever=0.6")
    assert "each source once" in refusal("--max-train-pairs", "10", "--share", "snli=0.2", "snli=0.3")
    assert "give --max-train-pairs" in refusal("--share", "snli=0.2")
    assert "SET one of fever" in refusal("--write-pairs", str(tmp_path / "out"), "--reading-pairs", "snli=10")
    assert "CLAIMS above 0" in refusal("--write-pairs", str(tmp_path / "out"), "--reading-pairs", "fever=0")
    assert "each set once" in refusal("--write-pairs", str(tmp_path / "out"), "--reading-pairs", "fever=1", "fever=2")
    assert not (tmp_path / "out").exists()


def test_a_model_folder_changed_in_place_has_a_new_fingerprint(tmp_path):
    import os

    from service.training.stance import model_fingerprint

    (tmp_path / "model.safetensors").write_bytes(b"weights")
    before = model_fingerprint(tmp_path)
    assert model_fingerprint(tmp_path) == before
    os.utime(tmp_path / "model.safetensors", ns=(1, 1))
    assert model_fingerprint(tmp_path) != before


def test_a_distillation_runs_settings_are_kept_as_json_teachers_included(tmp_path):
    import json
    from pathlib import Path

    from service.training.stance import TrainingConfig, config_record

    config = TrainingConfig(tmp_path, tmp_path / "out", teacher_dirs=(Path("a/teacher"), Path("b")), curated_shares={"snli": 0.5})
    record = json.loads(json.dumps(config_record(config)))
    assert record["teacher_dirs"] == ["a/teacher", "b"] and record["output_dir"] == str(tmp_path / "out")
    assert record["curated_shares"] == {"snli": 0.5}
