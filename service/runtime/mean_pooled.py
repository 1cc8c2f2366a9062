"""A sequence classifier that reads the mean of the encoder's token vectors, for sentence-embedding bases.

Sentence-embedding models (all-MiniLM-L6-v2, all-mpnet-base-v2) were trained to be read through
the mean of their token vectors; a classifier on the first token, as transformers' own
`...ForSequenceClassification` heads read it, learns slowly from them on a CPU's few thousand
steps (models/stance-minilm/README.md). A folder saved by `MeanPooledClassifier.save_pretrained`
is the encoder's own (config.json with the labels and `"claimcheck_pooling": "mean"`, weights,
tokenizer) plus `classifier_head.safetensors`; `load_classifier` opens either kind. Imports torch:
import it where a model is loaded, not at start-up.
"""

from __future__ import annotations

from pathlib import Path

import torch

POOLING_KEY = "claimcheck_pooling"
CLASSIFIER_HEAD_FILE = "classifier_head.safetensors"


class MeanPooledClassifier(torch.nn.Module):
    """An encoder and a linear layer over its attention-masked mean token vector; returns
    transformers' SequenceClassifierOutput (with the cross-entropy loss when `labels` are given)."""

    def __init__(self, encoder, num_labels: int):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def config(self):
        return self.encoder.config

    @property
    def device(self):
        return self.encoder.device

    @classmethod
    def from_base(cls, base_dir: Path | str, labels: list[str]) -> MeanPooledClassifier:
        """A new classifier over the base encoder in `base_dir`, its head freshly initialised."""
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(base_dir, dtype=torch.float32)
        encoder.config.id2label = dict(enumerate(labels))
        encoder.config.label2id = {label: number for number, label in enumerate(labels)}
        setattr(encoder.config, POOLING_KEY, "mean")
        return cls(encoder, len(labels))

    @classmethod
    def from_pretrained(cls, model_dir: Path | str, encoder=None) -> MeanPooledClassifier:
        """The classifier saved in `model_dir` by `save_pretrained`, in fp32 (`encoder`: already loaded)."""
        from safetensors.torch import load_file
        from transformers import AutoModel

        encoder = encoder if encoder is not None else AutoModel.from_pretrained(model_dir, dtype=torch.float32)
        model = cls(encoder, len(encoder.config.id2label))
        model.head.load_state_dict({name: tensor.float() for name, tensor in load_file(Path(model_dir) / CLASSIFIER_HEAD_FILE).items()})
        return model

    def save_pretrained(self, output_dir: Path | str, **kwargs) -> None:
        from safetensors.torch import save_file

        self.encoder.save_pretrained(output_dir, **kwargs)
        save_file({name: tensor.contiguous() for name, tensor in self.head.state_dict().items()}, Path(output_dir) / CLASSIFIER_HEAD_FILE)

    def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None):
        from transformers.modeling_outputs import SequenceClassifierOutput

        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        logits = self.head((hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9))
        loss = torch.nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def load_classifier(model_dir: Path | str):
    """The fine-tuned classifier in `model_dir`, in fp32: a MeanPooledClassifier when its config says
    so, else transformers' AutoModelForSequenceClassification; compact weights
    (service/runtime/compact_weights.py) are expanded."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    from service.runtime.compact_weights import compact_format, load_expanded

    config = AutoConfig.from_pretrained(model_dir)
    mean = getattr(config, POOLING_KEY, None) == "mean"
    if compact_format(model_dir) is None:
        if mean:
            return MeanPooledClassifier.from_pretrained(model_dir)
        return AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32)
    model = (AutoModel if mean else AutoModelForSequenceClassification).from_config(config, dtype=torch.float32)
    load_expanded(model, model_dir)
    model.eval()  # as from_pretrained returns it: no dropout until a trainer asks for it
    return MeanPooledClassifier.from_pretrained(model_dir, encoder=model) if mean else model
