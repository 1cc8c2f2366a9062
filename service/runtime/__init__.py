"""Running models on the CPU: ONNX Runtime sessions (fp32 and int8), the sentence embedder, the
sequence classifier the stance and check-worthiness models share, and the micro-batching worker."""
