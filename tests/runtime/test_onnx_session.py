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


def tiny_bert(vocab_size: int = 100):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=64,
        num_labels=3,
    )
    return BertForSequenceClassification(config).eval()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("int8", [False, True])
def test_a_transformer_built_from_the_bare_graph_answers_as_the_exported_one_to_the_bit(int8):
    """onnx_model adds the module's tensors to the graph the exporter writes without them (add_weights): the
    same outputs, to the bit, as the exporter's own initializers run through int8_matmuls, attention, padding,
    embeddings, buffers and the classifier's Gemm included; every product by a weight matrix in int8."""
    import onnx
    import onnxruntime

    from service.runtime.onnx_session import onnx_model

    model = tiny_bert()
    example = {"input_ids": torch.tensor([[2, 5, 7, 3]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    example["token_type_ids"] = torch.zeros(1, 4, dtype=torch.long)
    axes = {**{name: {0: "batch", 1: "tokens"} for name in example}, "logits": {0: "batch"}}
    exported = io.BytesIO()
    torch.onnx.export(
        model, tuple(example.values()), exported, input_names=list(example), output_names=["logits"], dynamic_axes=axes, dynamo=False
    )
    reference = onnx.load_from_string(exported.getvalue())
    if int8:
        int8_matmuls(reference)
    built = onnx_model(model, example, "logits", int8=int8)
    products = [sum(node.op_type == "MatMulInteger" for node in m.graph.node) for m in (built, reference)]
    assert products == ([12, 12] if int8 else [0, 0])  # six linear layers in each of the two blocks
    assert not any(node.op_type == "MatMul" and node.input[1] in {t.name for t in built.graph.initializer} for node in built.graph.node)
    ids = np.random.default_rng(1).integers(0, 100, size=(3, 9))
    mask = np.ones((3, 9), dtype=np.int64)
    mask[1, 5:] = 0  # a padded row
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros((3, 9), dtype=np.int64)}
    sessions = [onnxruntime.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]) for m in (built, reference)]
    ours, theirs = (session.run(None, feed)[0] for session in sessions)
    assert np.array_equal(ours, theirs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_loaded_classifier_is_freed_before_its_session_is_built(tmp_path, monkeypatch):
    """SequenceClassifier.load hands the model over in a list nothing else holds, so on ONNX Runtime the
    torch weights are gone by the time the session (and its copy of them) is built."""
    import gc
    import weakref

    import onnxruntime
    from transformers import AutoTokenizer

    import service.runtime.mean_pooled as mean_pooled
    from service.runtime.embedding import packaged_embedding_model_path
    from service.runtime.sequence_classifier import SequenceClassifier

    tokenizer = AutoTokenizer.from_pretrained(packaged_embedding_model_path())
    tiny_bert(tokenizer.vocab_size).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, alive_at_session = [], []
    real_load, real_session = mean_pooled.load_classifier, onnxruntime.InferenceSession

    def load(model_dir):
        model = real_load(model_dir)
        loaded.append(weakref.ref(model))
        return model

    def session(*args, **kwargs):
        gc.collect()
        alive_at_session.append(loaded[-1]() is not None)
        return real_session(*args, **kwargs)

    monkeypatch.setattr(mean_pooled, "load_classifier", load)
    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    classifier = SequenceClassifier.load(tmp_path, backend="onnx-int8")
    assert alive_at_session == [False]
    assert classifier.labels == ["label_0", "label_1", "label_2"]
    assert SequenceClassifier.load(tmp_path, backend="torch")._model is not None  # eager mode keeps its model


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
    tensors = dict(module.named_parameters())
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


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_weight_matrix_read_by_several_products_is_quantized_once_into_a_valid_graph():
    import onnx
    import onnxruntime

    class Thrice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.project = torch.nn.Linear(16, 16)

        def forward(self, inputs):
            return self.project(self.project(self.project(inputs)))

    module, inputs = Thrice(), torch.randn(1, 3, 16)
    exported = io.BytesIO()
    torch.onnx.export(module, (inputs,), exported, input_names=["inputs"], output_names=["out"], opset_version=17, dynamo=False)
    model = onnx.load_from_string(exported.getvalue())
    aliases = {node.output[0]: node.input[0] for node in model.graph.node if node.op_type == "Identity"}
    kept = [node for node in model.graph.node if node.op_type != "Identity"]
    for node in kept:  # the exporter reads the one transposed weight through Identity copies: read it directly
        node.input[:] = [aliases.get(name, name) for name in node.input]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    int8_matmuls(model)
    onnx.checker.check_model(model, full_check=True)  # every node's output named once
    assert sum(t.data_type == onnx.TensorProto.INT8 for t in model.graph.initializer) == 1  # quantized once
    assert sum(node.op_type == "MatMulInteger" for node in model.graph.node) == 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = module(inputs).numpy()
    np.testing.assert_allclose(session.run(None, {"inputs": inputs.numpy()})[0], expected, atol=0.05 * np.abs(expected).max())
