"""ONNX Runtime sessions exported at start-up, and their int8 matrix products."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from service.runtime.onnx_session import int8_matmuls, onnx_session


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.first, self.second = torch.nn.Linear(48, 64), torch.nn.Linear(64, 8)

    def forward(self, inputs):
        return self.second(torch.nn.functional.gelu(self.first(inputs)))


def test_int8_products_stay_close_to_fp32_and_each_row_ignores_the_others():
    module = TwoLayers()
    example = {"inputs": torch.zeros(2, 3, 48)}
    fp32, int8 = onnx_session(module, example, "out"), onnx_session(module, example, "out", int8=True)
    rows = np.random.default_rng(0).normal(size=(4, 5, 48)).astype(np.float32)
    rows[3] *= 40  # a batch mate with a far wider range, which would coarsen a batch-wide scale
    [expected], [batched] = fp32.run(None, {"inputs": rows}), int8.run(None, {"inputs": rows})
    np.testing.assert_allclose(batched, expected, atol=0.02 * np.abs(expected).max())
    assert not np.array_equal(batched, expected)
    for i in range(len(rows)):
        assert np.array_equal(int8.run(None, {"inputs": rows[i : i + 1]})[0][0], batched[i])


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.project = torch.nn.Linear(16, 16)

    def forward(self, inputs):
        projected = self.project(inputs)
        return projected @ projected.transpose(1, 2)  # a product of two activations


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript exporter, which the service uses too
@pytest.mark.parametrize("opset", [17, 20])  # ReduceMax takes its axes as an attribute up to 17, as an input from 18
def test_only_products_by_a_constant_weight_matrix_become_int8(opset):
    import onnx
    import onnxruntime

    exported = io.BytesIO()
    inputs = torch.randn(1, 3, 16)
    module = Attention()
    torch.onnx.export(module, (inputs,), exported, input_names=["inputs"], output_names=["out"], opset_version=opset, dynamo=False)
    model = onnx.load_from_string(exported.getvalue())
    before = [node.op_type for node in model.graph.node]
    int8_matmuls(model)
    after = [node.op_type for node in model.graph.node]
    assert before.count("MatMul") == 2
    assert after.count("MatMulInteger") == 1 and after.count("MatMul") == 1
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    [out] = session.run(None, {"inputs": inputs.numpy()})
    with torch.no_grad():
        expected = module(inputs).numpy()
    np.testing.assert_allclose(out, expected, atol=0.05 * np.abs(expected).max())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("int8", [False, True])
def test_weights_added_to_the_bare_graph_give_what_the_exported_weights_give(int8):
    """The session is built from the graph alone and the module's tensors (add_weights): the same
    outputs, to the bit, as the exporter's own initializers run through int8_matmuls."""
    import onnx
    import onnxruntime

    module, inputs = TwoLayers(), torch.randn(2, 3, 48)
    exported = io.BytesIO()
    axes = {"inputs": {0: "batch", 1: "tokens"}, "out": {0: "batch"}}
    torch.onnx.export(
        module, (inputs,), exported, input_names=["inputs"], output_names=["out"], dynamic_axes=axes, opset_version=17, dynamo=False
    )
    model = onnx.load_from_string(exported.getvalue())
    if int8:
        int8_matmuls(model)
    reference = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    holder = [module]
    session = onnx_session(holder, {"inputs": inputs}, "out", int8=int8)
    assert holder == []  # emptied: the caller's last reference to the module is gone
    rows = np.random.default_rng(1).normal(size=(3, 4, 48)).astype(np.float32)
    assert np.array_equal(session.run(None, {"inputs": rows})[0], reference.run(None, {"inputs": rows})[0])


def test_int8_weights_come_straight_from_the_module_with_no_fp32_copy_left():
    import onnx
    import onnxruntime

    from service.runtime.onnx_session import add_weights

    module, inputs = TwoLayers(), torch.randn(1, 2, 48)
    exported = io.BytesIO()
    torch.onnx.export(
        module,
        (inputs,),
        exported,
        input_names=["inputs"],
        output_names=["out"],
        opset_version=17,
        dynamo=False,
        export_params=False,
        do_constant_folding=False,
    )
    model = onnx.load_from_string(exported.getvalue())
    tensors = {name: tensor.detach().numpy() for name, tensor in module.named_parameters()}
    add_weights(model, tensors, int8=True)
    assert tensors == {}  # every array was used, and let go
    assert [graph_input.name for graph_input in model.graph.input] == ["inputs"]
    floats = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) == 2}
    assert floats == set()  # the matrices are in int8 only; the biases stay fp32
    assert {node.op_type for node in model.graph.node}.isdisjoint({"Transpose", "MatMul"})
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = module(inputs).numpy()
    np.testing.assert_allclose(session.run(None, {"inputs": inputs.numpy()})[0], expected, atol=0.05 * np.abs(expected).max())


class SlowFirstSession:
    """Stands in for an ONNX Runtime session: the first feed takes longest; records its threads."""

    def __init__(self):
        self.threads: set[str] = set()

    def run(self, _outputs, feed):
        import threading
        import time

        self.threads.add(threading.current_thread().name)
        time.sleep(0.2 if feed["inputs"][0] == 0 else 0.01)
        return [feed["inputs"] * 2]


def test_parallel_session_runs_batches_side_by_side_and_answers_in_order():
    from service.runtime.onnx_session import ParallelSession

    feeds = [{"inputs": np.array([i])} for i in range(7)]
    session = SlowFirstSession()
    answers = list(ParallelSession(session, streams=2).run_batches(iter(feeds)))
    assert [int(answer[0]) for answer in answers] == [0, 2, 4, 6, 8, 10, 12]
    assert len(session.threads) == 2  # the short batches ran while the first one was still running
    alone = SlowFirstSession()
    assert [int(a[0]) for a in ParallelSession(alone, streams=1).run_batches(feeds)] == [0, 2, 4, 6, 8, 10, 12]
    assert len(alone.threads) == 1


class FailingSession:
    """Stands in for an ONNX Runtime session that fails on one feed."""

    def __init__(self, failing: int):
        self.failing, self.ran = failing, []

    def run(self, _outputs, feed):
        import time

        number = int(feed["inputs"][0])
        self.ran.append(number)
        if number == self.failing:
            raise ValueError("bad batch")
        time.sleep(0.02)
        return [feed["inputs"]]


def test_a_failing_batch_is_raised_in_its_turn_and_nothing_far_behind_it_runs():
    from service.runtime.onnx_session import ParallelSession

    session = FailingSession(failing=2)
    answers = ParallelSession(session, streams=2).run_batches({"inputs": np.array([i])} for i in range(40))
    assert int(next(answers)[0]) == 0 and int(next(answers)[0]) == 1
    with pytest.raises(ValueError, match="bad batch"):
        next(answers)
    assert max(session.ran) < 2 + 2 * 2 + 1  # at most 2 x streams feeds were ever queued ahead


def test_usable_cores_without_cpu_affinity(monkeypatch):
    """macOS has no os.sched_getaffinity: the count falls back to the CPUs."""
    import os

    from service.runtime.onnx_session import usable_cores

    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores() == 3
