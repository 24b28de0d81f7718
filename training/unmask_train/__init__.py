"""unmask training: face-crop deepfake classifiers trained in PyTorch, exported to ONNX + manifest."""
