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


def fine_tune(
    model, batches: list[list[int]], inputs_of: Callable[[list[int]], dict], learning_rate: float, warmup_fraction: float
) -> None:
    """Train `model` in place over `batches` of example numbers: AdamW (weight decay 0.01), linear
    decay after `warmup_fraction` of the steps, gradients clipped at 1.0, a progress bar with the
    running loss. `inputs_of(batch)` gives the model's keyword arguments, `labels` included."""
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_fraction * len(batches)), len(batches))
    model.train()
    progress = tqdm(batches, desc="training", unit="batch")
    running = None
    for batch in progress:
        loss = model(**inputs_of(batch)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        progress.set_postfix(loss=f"{running:.3f}")
    model.eval()
