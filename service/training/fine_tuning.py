"""What the two fine-tuning scripts share: length-grouped batches and the training loop."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

CHECKPOINT_FILE = "checkpoint.pt"


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then sort within windows of 50 batches so each batch has similar lengths."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def training_device() -> str:
    """`cuda` when a GPU is visible to PyTorch, else `cpu`."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def hardware_description(device: str) -> str:
    """A few words naming what a run trained on, for reports and model cards."""
    import os

    import torch

    if device == "cuda":
        return f"one {torch.cuda.get_device_name(0)} GPU (bf16 autocast)"
    return f"{os.cpu_count()} CPU cores"


def fine_tune(
    model,
    batches: list[list[int]],
    inputs_of: Callable[[list[int]], dict],
    learning_rate: float,
    warmup_fraction: float,
    device: str = "cpu",
    time_budget_s: float | None = None,
    checkpoint_dir: Path | None = None,
    checkpoint_every_s: float = 600.0,
) -> int:
    """Train `model` in place over `batches` of example numbers: AdamW (weight decay 0.01), linear
    decay after `warmup_fraction` of the run, gradients clipped at 1.0, a progress bar with the
    running loss; returns the number of steps taken. `inputs_of(batch)` gives the model's keyword
    arguments and `labels`: class ids (cross-entropy, as transformers' own loss), or rows of target
    probabilities (cross-entropy against them: a teacher's, in distillation). On `cuda` the forward pass runs
    under bf16 autocast.

    With `time_budget_s`, the run's progress is the larger of its share of the batches and its
    share of the budget: the learning rate then warms up and decays with the clock, and training
    stops when the budget is spent, at a learning rate near zero, whatever the hardware's speed.
    Without one, warm-up lasts `int(warmup_fraction * len(batches))` steps, as in transformers'
    `get_linear_schedule_with_warmup`.

    With `checkpoint_dir`, the model, the optimizer, the step and the training time spent are saved
    there every `checkpoint_every_s` seconds, and a run started again with the same batches and
    schedule resumes from the last checkpoint (a killed CPU run loses at most that much); another
    run's checkpoint is refused. The checkpoint is removed when the run ends."""
    import torch
    from tqdm import tqdm

    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    if time_budget_s is not None and time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}")
    run_id = _run_fingerprint(batches, learning_rate, warmup_fraction, time_budget_s)
    step, spent_before = _resume(checkpoint_dir, run_id, model, optimizer, device)
    started = time.monotonic() - spent_before
    saved_at = time.monotonic() if checkpoint_dir is not None else 0.0
    if not time_budget_s:
        warmup_fraction = int(warmup_fraction * len(batches)) / len(batches)

    def progress(step: int) -> float:
        share = step / len(batches)
        return max(share, (time.monotonic() - started) / time_budget_s) if time_budget_s else share

    def learning_rate_at(done: float) -> float:
        if done < warmup_fraction:
            return learning_rate * done / warmup_fraction
        return learning_rate * max(0.0, 1 - done) / max(1 - warmup_fraction, 1 / len(batches))

    model.train()
    every = 50 if device == "cuda" else 1  # reading the loss waits for the GPU
    bar = tqdm(total=len(batches), initial=step, desc="training", unit="batch", mininterval=10 if device == "cuda" else 0.1)
    running = None
    while step < len(batches) and (done := progress(step)) < 1:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(done)
        inputs = {name: value.to(device) for name, value in inputs_of(batches[step]).items()}
        labels = inputs.pop("labels")
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(**inputs).logits.float()
        loss = classification_loss(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        step += 1
        bar.update()
        if step % every == 0:
            weight = 0.02 * every**0.5
            running = loss.item() if running is None else (1 - weight) * running + weight * loss.item()
            bar.set_postfix(loss=f"{running:.3f}", refresh=False)
        if checkpoint_dir is not None and time.monotonic() - saved_at >= checkpoint_every_s:
            _save_checkpoint(checkpoint_dir, run_id, model, optimizer, step, time.monotonic() - started)
            saved_at = time.monotonic() if checkpoint_dir is not None else 0.0
    bar.close()
    model.eval()
    if checkpoint_dir is not None:
        (Path(checkpoint_dir) / CHECKPOINT_FILE).unlink(missing_ok=True)
    return step


def classification_loss(logits, labels):
    """Mean cross-entropy of `logits` against class ids, or against rows of target probabilities."""
    import torch

    if labels.is_floating_point():
        return -(labels * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    return torch.nn.functional.cross_entropy(logits, labels)


def _run_fingerprint(batches: list[list[int]], learning_rate: float, warmup_fraction: float, time_budget_s: float | None) -> str:
    """What a checkpoint must match to be resumed: the same batches in the same order, and the same schedule."""
    described = json.dumps([batches, learning_rate, warmup_fraction, time_budget_s])
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def _save_checkpoint(checkpoint_dir: Path, run_id: str, model, optimizer, step: int, spent_s: float) -> None:
    """Write the checkpoint atomically: a killed save leaves the previous one."""
    import torch

    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    partial = checkpoint_dir / (CHECKPOINT_FILE + ".partial")
    state = {"run_id": run_id, "step": step, "spent_s": spent_s, "model": model.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save(state, partial)
    os.replace(partial, checkpoint_dir / CHECKPOINT_FILE)
    print(f"checkpoint: step {step}, {spent_s / 60:.1f} min of training, in {checkpoint_dir}", flush=True)


def _resume(checkpoint_dir: Path | None, run_id: str, model, optimizer, device: str) -> tuple[int, float]:
    """(step, training seconds already spent) from a matching checkpoint, else (0, 0.0)."""
    import torch

    path = Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None
    if path is None or not path.is_file():
        return 0, 0.0
    state = torch.load(path, map_location=device, weights_only=True)
    if state["run_id"] != run_id:
        raise ValueError(f"{path} is the checkpoint of another run (other data or schedule): remove it or use another --checkpoint-dir")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    print(f"resuming from {path}: step {state['step']}, {state['spent_s'] / 60:.1f} min of training done", flush=True)
    return int(state["step"]), float(state["spent_s"])
