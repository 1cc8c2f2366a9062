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
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import numpy as np

Backend = Literal["onnx", "torch"]  # how a model runs: exported to ONNX Runtime, or PyTorch's eager mode
# How a classifier runs: ONNX Runtime with int8 or fp32 matrix products, or PyTorch's eager mode.
ClassifierBackend = Literal["onnx-int8", "onnx", "torch"]
WEIGHT_LEVELS = 63  # 7-bit weights: an 8-bit activation times two of them fits the int16 sums of CPUs without VNNI


def onnx_session(module, example: dict, output_name: str, int8: bool = False):
    """A single-threaded ONNX Runtime session computing `module` on inputs named as in `example`
    (tensors of a sample batch); batch size and sequence length stay dynamic. `int8`: see
    `int8_matmuls`. Several threads may run it at once (`ParallelSession`).

    The exporter writes the graph alone; the weights are added from the module's own tensors,
    the int8 matrices straight from them (`add_weights`), so that no serialised fp32 copy of the
    model is ever made: a base-size model's start-up peak is that much lower. `module` may be given
    in a one-item list, which is emptied once its weights are taken: when the caller keeps no other
    reference, they are freed before the session is built."""
    import onnx
    import onnxruntime
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
    tensors = {**dict(holder[0].named_parameters()), **dict(holder[0].named_buffers())}
    holder.clear()
    add_weights(proto, {name: tensor.detach().numpy() for name, tensor in tensors.items()}, int8)
    del tensors
    release_freed_memory()
    model = proto.SerializeToString()
    del proto
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # cores are used by running batches side by side
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    del model
    release_freed_memory()
    return session


def add_weights(model, tensors: dict[str, np.ndarray], int8: bool) -> None:
    """Turn the inputs of the ONNX model `model` (exported without its weights) that `tensors` names
    into initializers holding those arrays. With `int8`, a weight matrix that the graph only
    transposes into the right side of MatMuls goes straight into `int8_matmuls` as that transpose,
    with no fp32 copy; the rest are copied as they are. Arrays are dropped from `tensors` as they
    are used."""
    from onnx import numpy_helper

    graph = model.graph
    weights = [graph_input.name for graph_input in graph.input if graph_input.name in tensors]
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    transposed = {}
    if int8:
        for name in weights:
            users = consumers.get(name, [])
            if tensors[name].ndim == 2 and users and all(_transposes_into_matmuls(node, consumers) for node in users):
                transposed |= {node.output[0]: name for node in users}
    for name in set(weights) - set(transposed.values()):
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(tensors.pop(name)), name))
    inputs = [graph_input for graph_input in graph.input if graph_input.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)
    if int8:
        int8_matmuls(model, {output: tensors[name].T for output, name in transposed.items()})
    for name in set(transposed.values()):
        tensors.pop(name, None)


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


def int8_matmuls(model, matrices: dict[str, np.ndarray] | None = None) -> None:
    """Rewrite the ONNX model `model` (a ModelProto) so that each MatMul by a constant 2-D
    weight matrix (an initializer, or a value `matrices` gives by name) is done in int8; nodes
    left with no use (the transposes that made those matrices) are dropped.

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
    for node in graph.node:
        given = matrices.get(node.input[1]) if node.op_type == "MatMul" else None
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if given is None and (weight is None or len(weight.dims) != 2):
            nodes.append(node)
            continue
        matrix = np.asarray(given if given is not None else numpy_helper.to_array(weight), dtype=np.float32)
        column_scale = np.maximum(np.abs(matrix).max(axis=0), 1e-12) / WEIGHT_LEVELS
        n = f"int8/{len(constants)}/"
        constants += [
            numpy_helper.from_array(np.round(matrix / column_scale).astype(np.int8), n + "weight"),
            numpy_helper.from_array(column_scale.astype(np.float32), n + "column_scale"),
        ]
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
            helper.make_node("MatMulInteger", [n + "quantized", n + "weight", "int8/zero"], [n + "product"]),
            helper.make_node("Cast", [n + "product"], [n + "float"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [n + "float", n + "row_scale"], [n + "row_scaled"]),
            helper.make_node("Mul", [n + "row_scaled", n + "column_scale"], [y]),
        ]
    outputs = {output.name for output in graph.output}
    while True:  # drop the nodes nothing reads any more, then what only they read
        used = {name for node in nodes for name in node.input} | outputs
        live = [node for node in nodes if any(name in used for name in node.output)]
        if len(live) == len(nodes):
            break
        nodes = live
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
