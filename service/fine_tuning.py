"""What the two fine-tuning scripts share: length-grouped batches and the training loop."""

from __future__ import annotations

import random
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
) -> None:
    """Train `model` in place over `batches` of example numbers: AdamW (weight decay 0.01), linear
    decay after `warmup_fraction` of the steps, gradients clipped at 1.0, a progress bar with the
    running loss. `inputs_of(batch)` gives the model's keyword arguments, `labels` included. On
    `cuda` the forward pass runs under bf16 autocast."""
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_fraction * len(batches)), len(batches))
    model.train()
    every = 50 if device == "cuda" else 1  # reading the loss waits for the GPU
    progress = tqdm(batches, desc="training", unit="batch", mininterval=10 if device == "cuda" else 0.1)
    running = None
    for step, batch in enumerate(progress, start=1):
        inputs = {name: value.to(device) for name, value in inputs_of(batch).items()}
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if step % every == 0:
            weight = 0.02 * every**0.5
            running = loss.item() if running is None else (1 - weight) * running + weight * loss.item()
            progress.set_postfix(loss=f"{running:.3f}", refresh=False)
    model.eval()
