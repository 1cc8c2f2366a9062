"""Model weights stored in fewer bits, so that a base-size reader fits the repository's weight budget.

A compact folder is a model folder whose `model.safetensors` keeps each matrix (a linear layer's
weight, an embedding table) as signed integers of `bits` bits, in groups of `group` values along
a row with one fp16 scale per group (symmetric, rounded to nearest), and every other tensor
(biases, layer norms) in fp16. 4 bits make all-mpnet-base-v2's 110M weights 58 MB, against
219 MB in fp16. `load_classifier` (service/runtime/mean_pooled.py) expands such a folder to fp32
and builds the model from its config; the service then quantizes the matrices once more for its
int8 runtime, as it does with any folder. The loss of accuracy is measured, not assumed
(docs/training.md). Imports torch where it works, so that its names can be read at start-up.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

WEIGHTS_FILE = "model.safetensors"
METADATA_KEY = "claimcheck_compact"  # in the safetensors metadata: {"bits": 4, "group": 64}
QUANTIZED, SCALE = ".quantized", ".scale"  # suffixes of a matrix's integers and of its group scales


def compact_tensors(state: dict[str, torch.Tensor], bits: int, group: int) -> dict[str, torch.Tensor]:
    """`state`'s tensors with every floating matrix whose rows split into groups of `group` quantized
    to `bits` bits (4: two values per byte; 8: one), the rest in fp16."""
    import torch

    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, not {bits}")
    if group < 2 or group % 2:
        raise ValueError(f"group must be an even number of at least 2, not {group}")
    levels = 2 ** (bits - 1) - 1
    out = {}
    for name, tensor in state.items():
        if not quantizable(tensor, group):
            out[name] = tensor.half() if tensor.is_floating_point() else tensor
            continue
        groups = tensor.float().reshape(tensor.shape[0], -1, group)
        scale = (groups.abs().amax(dim=-1, keepdim=True) / levels).half().float().clamp(min=1e-8)
        integers = torch.round(groups / scale).clamp(-levels, levels).to(torch.int8).reshape(tensor.shape)
        if bits == 4:  # two values per byte: the even column in the low half, the odd one in the high half
            unsigned = (integers + 8).to(torch.uint8)
            integers = unsigned[:, 0::2] | (unsigned[:, 1::2] << 4)
        out[name + QUANTIZED] = integers.contiguous()
        out[name + SCALE] = scale.squeeze(-1).half().contiguous()
    return out


def quantizable(tensor: torch.Tensor, group: int) -> bool:
    """Whether `compact_tensors` stores `tensor` in integers: a floating matrix whose rows split into groups of `group`."""
    return tensor.is_floating_point() and tensor.ndim == 2 and tensor.shape[1] % group == 0


def expanded_tensors(tensors: dict[str, torch.Tensor], bits: int) -> dict[str, torch.Tensor]:
    """The fp32 tensors of `compact_tensors`' output (`bits` as it was given)."""
    import torch

    out = {}
    for name, tensor in tensors.items():
        if name.endswith(SCALE):
            continue
        if not name.endswith(QUANTIZED):
            out[name] = tensor.float() if tensor.is_floating_point() else tensor
            continue
        base = name[: -len(QUANTIZED)]
        scale = tensors[base + SCALE].float()
        if bits == 4:
            low, high = (tensor & 0x0F).to(torch.int8) - 8, (tensor >> 4).to(torch.int8) - 8
            tensor = torch.stack((low, high), dim=-1).reshape(tensor.shape[0], -1)
        groups = tensor.float().reshape(tensor.shape[0], scale.shape[1], -1)
        out[base] = (groups * scale.unsqueeze(-1)).reshape(tensor.shape[0], -1)
    return out


def compact_format(model_dir: Path | str) -> dict | None:
    """The compact format ({"bits", "group"}) of the folder's weights, or None for ordinary weights."""
    from safetensors import safe_open

    path = Path(model_dir) / WEIGHTS_FILE
    if not path.is_file():
        return None
    with safe_open(path, framework="pt") as handle:
        found = (handle.metadata() or {}).get(METADATA_KEY)
    return json.loads(found) if found else None


def load_expanded(model, model_dir: Path | str) -> None:
    """Copy the weights of the compact folder `model_dir` into `model` (built from its config), one
    tensor at a time so that no second copy of the model is ever held; raises ValueError when the
    names differ from the model's."""
    import torch
    from safetensors import safe_open

    form = compact_format(model_dir)
    if form is None:
        raise ValueError(f"{model_dir} does not hold compact weights")
    bits, state = int(form["bits"]), model.state_dict()
    with safe_open(Path(model_dir) / WEIGHTS_FILE, framework="pt") as handle:
        stored = set(handle.keys())
        names = {name.removesuffix(QUANTIZED) for name in stored if not name.endswith(SCALE)}
        if names != set(state):
            raise ValueError(f"{model_dir} does not fit the model: {sorted(names ^ set(state))[:5]} differ")
        with torch.no_grad():
            for name in names:
                parts = [name + QUANTIZED, name + SCALE] if name + QUANTIZED in stored else [name]
                state[name].copy_(expanded_tensors({part: handle.get_tensor(part) for part in parts}, bits)[name])


def write_compact(model_dir: Path | str, out_dir: Path | str, bits: int = 4, group: int = 64) -> Path:
    """A copy of the model folder `model_dir` in `out_dir` with its weights compact; every other file
    (config, tokenizer, a mean-pooling head, the verdict head) copied as it is."""
    from safetensors.torch import load_file, save_file

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if compact_format(model_dir) is not None:
        raise ValueError(f"{model_dir} is compact already")
    if out_dir.resolve() == model_dir.resolve():
        raise ValueError("write the compact folder somewhere else than the model folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in model_dir.iterdir():
        if path.is_file() and path.name != WEIGHTS_FILE:
            shutil.copy2(path, out_dir / path.name)
    tensors = compact_tensors(load_file(model_dir / WEIGHTS_FILE), bits, group)
    metadata = {"format": "pt", METADATA_KEY: json.dumps({"bits": bits, "group": group})}
    save_file(tensors, out_dir / WEIGHTS_FILE, metadata=metadata)
    return out_dir
