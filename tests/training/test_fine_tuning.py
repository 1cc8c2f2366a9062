"""The shared fine-tuning loop: its learning-rate schedule follows the steps, or the clock when given a time budget."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from service.training import fine_tuning


class TinyClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)

    def forward(self, features):
        return SimpleNamespace(logits=self.linear(features))


pytestmark = pytest.mark.integration  # trains


@pytest.fixture
def learning_rates(monkeypatch):
    """The learning rate of every optimizer step the loop takes."""
    seen = []

    class RecordingAdamW(torch.optim.AdamW):
        def step(self, closure=None):
            seen.append(self.param_groups[0]["lr"])
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "AdamW", RecordingAdamW)
    return seen


def inputs_of(batch):
    return {"features": torch.ones(len(batch), 2), "labels": torch.tensor([i % 2 for i in batch])}


def test_without_a_budget_every_batch_is_trained_with_linear_warm_up_and_decay(learning_rates):
    steps = fine_tuning.fine_tune(TinyClassifier(), [[0, 1]] * 10, inputs_of, learning_rate=1.0, warmup_fraction=0.2)
    assert steps == 10
    assert learning_rates == pytest.approx([0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125])


@pytest.mark.parametrize(("batches", "warmup_fraction"), [(10, 0.15), (7, 0.06), (50, 0.118)])
def test_without_a_budget_the_schedule_is_transformers_linear_one(learning_rates, batches, warmup_fraction):
    from transformers import get_linear_schedule_with_warmup

    fine_tuning.fine_tune(TinyClassifier(), [[0, 1]] * batches, inputs_of, 1.0, warmup_fraction)
    optimizer = torch.optim.SGD(TinyClassifier().parameters(), lr=1.0)
    schedule = get_linear_schedule_with_warmup(optimizer, int(warmup_fraction * batches), batches)
    expected = []
    for _ in range(batches):
        expected.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert learning_rates == pytest.approx(expected)


def test_a_time_budget_stops_the_run_and_decays_the_rate_with_the_clock(learning_rates, monkeypatch):
    clock = iter(range(1000))  # every reading of the clock is one second later
    monkeypatch.setattr(fine_tuning.time, "monotonic", lambda: next(clock))
    steps = fine_tuning.fine_tune(TinyClassifier(), [[0, 1]] * 100, inputs_of, 1.0, 0.2, time_budget_s=10)
    assert steps == 9  # the clock, not the 100 batches, ended the run
    assert learning_rates == pytest.approx([0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125])


def test_a_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        fine_tuning.fine_tune(TinyClassifier(), [[0, 1]], inputs_of, 1.0, 0.1, time_budget_s=-1)


class Killed(Exception):
    pass


def test_a_killed_run_resumes_from_its_checkpoint_and_ends_where_an_unbroken_run_ends(tmp_path, learning_rates):
    batches = [[0, 1], [1, 2], [2, 3], [3, 4]] * 3
    torch.manual_seed(0)
    unbroken = TinyClassifier()
    first_weights = {name: value.clone() for name, value in unbroken.state_dict().items()}
    assert fine_tuning.fine_tune(unbroken, batches, inputs_of, 0.1, 0.2) == 12
    unbroken_rates = list(learning_rates)
    learning_rates.clear()

    def dies_at_step_8(batch, seen=[]):  # noqa: B006 - counts the calls of one run
        seen.append(batch)
        if len(seen) == 8:
            raise Killed
        return inputs_of(batch)

    killed = TinyClassifier()
    killed.load_state_dict(first_weights)
    with pytest.raises(Killed):
        fine_tuning.fine_tune(killed, batches, dies_at_step_8, 0.1, 0.2, checkpoint_dir=tmp_path, checkpoint_every_s=0)
    assert (tmp_path / fine_tuning.CHECKPOINT_FILE).is_file()
    resumed = TinyClassifier()  # a new process: fresh weights, restored from the checkpoint
    assert fine_tuning.fine_tune(resumed, batches, inputs_of, 0.1, 0.2, checkpoint_dir=tmp_path, checkpoint_every_s=0) == 12
    assert learning_rates == pytest.approx(unbroken_rates)  # 7 steps before the kill, 5 after the resume, on one schedule
    for name, value in unbroken.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value)
    assert not (tmp_path / fine_tuning.CHECKPOINT_FILE).exists()  # a finished run leaves none


def test_another_runs_checkpoint_is_refused(tmp_path):
    model = TinyClassifier()
    fine_tuning._save_checkpoint(tmp_path, "another-run", model, torch.optim.AdamW(model.parameters()), 2, 1.0)
    with pytest.raises(ValueError, match="checkpoint of another run"):
        fine_tuning.fine_tune(TinyClassifier(), [[0, 1]] * 4, inputs_of, 0.1, 0.2, checkpoint_dir=tmp_path)


def test_the_loss_reads_class_ids_or_target_probabilities():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    ids = torch.tensor([0, 1])
    one_hot = torch.nn.functional.one_hot(ids, 3).float()
    assert torch.isclose(fine_tuning.classification_loss(logits, ids), torch.nn.functional.cross_entropy(logits, ids))
    assert torch.isclose(fine_tuning.classification_loss(logits, one_hot), torch.nn.functional.cross_entropy(logits, ids))
    soft = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.6, 0.2]])
    expected = -(soft * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    assert torch.isclose(fine_tuning.classification_loss(logits, soft), expected)
    assert fine_tuning.classification_loss(logits, soft) > fine_tuning.classification_loss(logits, torch.softmax(logits, dim=-1)) - 1e-6
