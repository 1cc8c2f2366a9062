"""Running a PyTorch module under ONNX Runtime: exported in memory at start-up, never to a file.

ONNX Runtime gives the same outputs as PyTorch's eager mode (to about 1e-6) and is faster on
the small batches a request brings. Each call runs on one core; `ParallelSession` runs several
batches side by side, one per core, which on a few cores beats one call spread over all of them.

`int8=True` computes every MatMul by a constant weight matrix in int8 (`int8_matmuls`): weights
quantized per output column, activations per token as they come. Each token's result depends on
that token alone (up to the fp32 rounding that padding brings anyway), so an answer does not
depend on what else shares its batch. ONNX Runtime's own dynamic quantization scales a whole
batch at once: there, 25 of 385 stance pairs changed their label when scored alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import inspect
import io
import math
import os
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Literal

import numpy as np

Backend = Literal["onnx", "torch"]  # how a model runs: exported to ONNX Runtime, or PyTorch's eager mode
# How a classifier runs: ONNX Runtime with int8 or fp32 matrix products, or PyTorch's eager mode.
ClassifierBackend = Literal["onnx-int8", "onnx", "torch"]
WEIGHT_LEVELS = 63  # 7-bit weights: an 8-bit activation times two of them fits the int16 sums of CPUs without VNNI


def onnx_session(module, example: dict, output_name: str, int8: bool = False):
    """A single-threaded ONNX Runtime session computing `module` on inputs named as in `example`
    (tensors of a sample batch); batch size and sequence length stay dynamic. `int8`: see
    `int8_matmuls`. Several threads may run it at once (`ParallelSession`). `module` may be given
    in a one-item list (`onnx_model`)."""
    import onnxruntime

    proto = onnx_model(module, example, output_name, int8)
    model = proto.SerializeToString()
    del proto
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # cores are used by running batches side by side
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    del model
    release_freed_memory()
    return session


def onnx_model(module, example: dict, output_name: str, int8: bool = False):
    """The ONNX model (a ModelProto) of `module`, as `onnx_session` runs it.

    The exporter writes the graph alone, and `add_weights` adds the module's own tensors to it, so
    the exporter's serialised copy of the weights is never made; with `int8`, each matrix goes
    straight from its tensor to int8, and no fp32 copy of it is made either: a base-size model's
    start-up peak is that much lower. `module` may be given in a one-item list, which is emptied
    once its tensors are taken: when the caller keeps no other reference (`SequenceClassifier.load`),
    each tensor is freed as soon as it has been copied."""
    import onnx
    import torch

    holder = module if isinstance(module, list) else [module]
    del module
    names = [name for name in inspect.signature(holder[0].forward).parameters if name in example]  # positional order
    exported = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are not for users
        torch.onnx.export(
            holder[0].eval(),
            tuple(example[name] for name in names),
            exported,
            input_names=names,
            output_names=[output_name],
            dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in names}, output_name: {0: "batch"}},
            opset_version=17,
            dynamo=False,
            export_params=False,  # the weights become named inputs: add_weights turns them into initializers
            do_constant_folding=False,  # keeps each weight under its own name, its transpose a node of the graph
        )
    proto = onnx.load_from_string(exported.getvalue())
    del exported
    tensors = {
        **dict(holder[0].named_parameters(remove_duplicate=False)),
        **dict(holder[0].named_buffers(remove_duplicate=False)),
    }
    holder.clear()
    add_weights(proto, tensors, int8)
    if missing := [graph_input.name for graph_input in proto.graph.input if graph_input.name not in names]:
        raise RuntimeError(f"the exported graph reads tensors the module does not name: {missing[:5]}")
    del tensors
    release_freed_memory()
    return proto


def add_weights(model, tensors: dict, int8: bool) -> None:
    """Turn the inputs of the ONNX model `model` (exported without its weights) that `tensors` (torch
    tensors by name) names into initializers. With `int8`, a weight matrix that a transpose turns
    into the right side of MatMuls goes straight from its tensor into `int8_matmuls` there, with no
    fp32 copy (and into an fp32 initializer as well only if something else reads it). Each tensor
    is dropped from `tensors` once it is no longer needed, so that it can be freed."""
    from onnx import numpy_helper

    graph = model.graph
    weights = [graph_input.name for graph_input in graph.input if graph_input.name in tensors]
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    transposed: dict[str, str] = {}  # a transpose's output read only by MatMuls -> the weight it transposes
    for name in weights:
        users = consumers.get(name, [])
        matrix_users = [node for node in users if int8 and tensors[name].dim() == 2 and _transposes_into_matmuls(node, consumers)]
        transposed |= {node.output[0]: name for node in matrix_users}
        if len(matrix_users) < len(users) or not users:
            graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(tensors[name].detach().numpy()), name))
        if not matrix_users:
            del tensors[name]
    inputs = [graph_input for graph_input in graph.input if graph_input.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)
    if not transposed:
        return
    pending = Counter(transposed.values())

    def matrix(output: str) -> np.ndarray:
        name = transposed[output]
        array = tensors[name].detach().numpy().T
        pending[name] -= 1
        if not pending[name]:
            del tensors[name]  # the array still holds the tensor until int8_matmuls has quantized it
        return array

    int8_matmuls(model, {output: partial(matrix, output) for output in transposed})


def _transposes_into_matmuls(node, consumers: dict[str, list]) -> bool:
    """Whether `node` is a 2-D transpose whose result is only ever the right side of a MatMul."""
    perm = next((list(attribute.ints) for attribute in node.attribute if attribute.name == "perm"), [1, 0])
    users = consumers.get(node.output[0], [])
    return (
        node.op_type == "Transpose"
        and perm == [1, 0]
        and bool(users)
        and all(user.op_type == "MatMul" and list(user.input).index(node.output[0]) == 1 for user in users)
    )


class ParallelSession:
    """An ONNX Runtime session run on `streams` batches at once, each call on one core.

    ONNX Runtime can spread one call over several cores, but its threads then meet at every
    operator, and on a 2-core machine that shares its cores with a web server, one of them is
    often late. Single-threaded calls side by side never wait for each other (the measurement:
    docs/how-it-works.md, "Measurements behind the design").
    """

    def __init__(self, session, streams: int | None = None):
        import torch

        self.session = session
        self.streams = streams or min(torch.get_num_threads(), usable_cores())
        self._pool = ThreadPoolExecutor(self.streams, thread_name_prefix="onnx") if self.streams > 1 else None

    def run_batches(self, feeds: Iterable[dict[str, np.ndarray]]) -> Iterator[np.ndarray]:
        """The first output for each feed (a batch's inputs by name), in order. At most
        2 x streams feeds are queued or running at a time: a generator of feeds is drawn on (on
        the caller's thread) while earlier ones run. An error is raised to the caller in its
        feed's turn, and what was queued behind it is cancelled."""
        if self._pool is None:
            yield from (self._run(feed) for feed in feeds)
            return
        running: deque[Future] = deque()
        try:
            for feed in feeds:
                running.append(self._pool.submit(self._run, feed))
                if len(running) >= 2 * self.streams:
                    yield running.popleft().result()
            while running:
                yield running.popleft().result()
        finally:  # the caller stopped early or a feed failed: drop the work nobody will read
            for future in running:
                future.cancel()

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, feed)[0]


def stream_batch_size(items: int, batch_size: int, streams: int) -> int:
    """At most `batch_size`, and small enough that `items` make a batch for each of `streams`."""
    return max(1, min(batch_size, math.ceil(items / streams)))


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one, as Linux does)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def int8_matmuls(model, matrices: dict[str, Callable[[], np.ndarray]] | None = None) -> None:
    """Rewrite the ONNX model `model` (a ModelProto) so that each MatMul by a constant 2-D
    weight matrix is done in int8: an initializer, or a value that `matrices` computes by name (each
    called once, when its MatMul is rewritten; the node that made the value is then dropped).

    The weights are quantized once, symmetrically per output column, to 7 bits. The activations
    are quantized as they come, per row (token), to 8 bits: shifted by 128 into uint8, which the
    CPU kernels multiply fastest. The int32 products are scaled back to float by the row's and
    the column's scales.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    weights = {tensor.name: tensor for tensor in graph.initializer}
    constants = [
        numpy_helper.from_array(np.array([-1], np.int64), "int8/last_axis"),
        numpy_helper.from_array(np.array(127.0, np.float32), "int8/levels"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "int8/tiny"),
        numpy_helper.from_array(np.array(128.0, np.float32), "int8/shift"),
        numpy_helper.from_array(np.array(128, np.uint8), "int8/zero"),
    ]
    nodes = []
    matrices = matrices or {}
    quantized: dict[str, tuple[str, str]] = {}  # a matrix's name -> its int8 weight and column scale constants
    rewritten = 0
    for node in graph.node:
        source = node.input[1] if node.op_type == "MatMul" else None
        weight = weights.get(source) if source is not None else None
        if source not in matrices and (weight is None or len(weight.dims) != 2):
            nodes.append(node)
            continue
        n = f"int8/{rewritten}/"
        rewritten += 1
        if source not in quantized:
            matrix = np.asarray(matrices[source]() if source in matrices else numpy_helper.to_array(weight), dtype=np.float32)
            column_scale = np.maximum(np.abs(matrix).max(axis=0), 1e-12) / WEIGHT_LEVELS
            constants += [
                numpy_helper.from_array(np.round(matrix / column_scale).astype(np.int8), n + "weight"),
                numpy_helper.from_array(column_scale.astype(np.float32), n + "column_scale"),
            ]
            quantized[source] = (n + "weight", n + "column_scale")
            del matrix
        int8_weight, column_scale_name = quantized[source]
        x, y = node.input[0], node.output[0]
        nodes += [
            helper.make_node("Abs", [x], [n + "abs"]),
            _reduce_max_last_axis(n + "abs", n + "max", opset),
            helper.make_node("Max", [n + "max", "int8/tiny"], [n + "range"]),
            helper.make_node("Div", [n + "range", "int8/levels"], [n + "row_scale"]),
            helper.make_node("Div", [x, n + "row_scale"], [n + "scaled"]),
            helper.make_node("Round", [n + "scaled"], [n + "rounded"]),
            helper.make_node("Add", [n + "rounded", "int8/shift"], [n + "shifted"]),
            helper.make_node("Cast", [n + "shifted"], [n + "quantized"], to=TensorProto.UINT8),
            helper.make_node("MatMulInteger", [n + "quantized", int8_weight, "int8/zero"], [n + "product"]),
            helper.make_node("Cast", [n + "product"], [n + "float"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [n + "float", n + "row_scale"], [n + "row_scaled"]),
            helper.make_node("Mul", [n + "row_scaled", column_scale_name], [y]),
        ]
    used = {name for node in nodes for name in node.input} | {output.name for output in graph.output}
    nodes = [node for node in nodes if not (set(node.output) <= set(matrices) and used.isdisjoint(node.output))]
    kept = [tensor for tensor in [*graph.initializer, *constants] if tensor.name in used]
    del graph.node[:], graph.initializer[:]
    graph.node.extend(nodes)
    graph.initializer.extend(kept)


def _reduce_max_last_axis(source: str, target: str, opset: int):
    """A ReduceMax node over the last axis, keeping it: `axes` is an attribute up to opset 17, from
    18 an input (`int8/last_axis`, one of `int8_matmuls`' constants)."""
    from onnx import helper

    if opset >= 18:
        return helper.make_node("ReduceMax", [source, "int8/last_axis"], [target], keepdims=1)
    return helper.make_node("ReduceMax", [source], [target], axes=[-1], keepdims=1)


def release_freed_memory() -> None:
    """Hand memory freed by an export (the graph, the serialised model: a few hundred MB) back to
    the system, so that the next model's export does not stack its peak on top (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
