"""What the two fine-tuning scripts share: length-grouped batches and the training loop."""

from __future__ import annotations

import random
import time
from collections.abc import Callable


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
) -> int:
    """Train `model` in place over `batches` of example numbers: AdamW (weight decay 0.01), linear
    decay after `warmup_fraction` of the run, gradients clipped at 1.0, a progress bar with the
    running loss; returns the number of steps taken. `inputs_of(batch)` gives the model's keyword
    arguments, `labels` included. On `cuda` the forward pass runs under bf16 autocast.

    With `time_budget_s`, the run's progress is the larger of its share of the batches and its
    share of the budget: the learning rate then warms up and decays with the clock, and training
    stops when the budget is spent, at a learning rate near zero, whatever the hardware's speed.
    Without one, warm-up lasts `int(warmup_fraction * len(batches))` steps, as in transformers'
    `get_linear_schedule_with_warmup`."""
    import torch
    from tqdm import tqdm

    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    started = time.monotonic()
    if time_budget_s is not None and time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}")
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
    bar = tqdm(total=len(batches), desc="training", unit="batch", mininterval=10 if device == "cuda" else 0.1)
    running = None
    step = 0
    while step < len(batches) and (done := progress(step)) < 1:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(done)
        inputs = {name: value.to(device) for name, value in inputs_of(batches[step]).items()}
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(**inputs).loss
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
    bar.close()
    model.eval()
    return step
