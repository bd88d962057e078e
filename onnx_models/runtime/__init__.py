"""Run the registry's ONNX token classifiers: onnxruntime, tokenizers and numpy only."""
