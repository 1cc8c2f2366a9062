"""Running a PyTorch module under ONNX Runtime: exported in memory at start-up, never to a file.

ONNX Runtime gives the same outputs as PyTorch's eager mode (to about 1e-6) and is faster on
the small batches a request brings; its threads do not spin on the cores between calls.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import inspect
import io
import warnings
from typing import Literal

Backend = Literal["onnx", "torch"]  # how a model runs: exported to ONNX Runtime, or PyTorch's eager mode


def onnx_session(module, example: dict, output_name: str, threads: int | None = None):
    """An ONNX Runtime session computing `module` on inputs named as in `example` (tensors of a
    sample batch); batch size and sequence length stay dynamic."""
    import onnxruntime
    import torch

    names = [name for name in inspect.signature(module.forward).parameters if name in example]  # positional order
    exported = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are not for users
        torch.onnx.export(
            module.eval(),
            tuple(example[name] for name in names),
            exported,
            input_names=names,
            output_names=[output_name],
            dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in names}, output_name: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave the cores to others between calls
    session = onnxruntime.InferenceSession(exported.getvalue(), options, providers=["CPUExecutionProvider"])
    del exported
    release_freed_memory()
    return session


def release_freed_memory() -> None:
    """Hand memory freed by an export (the graph, the serialised model: a few hundred MB) back to
    the system, so that the next model's export does not stack its peak on top (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
