"""Model registry: ONNX token-classification models bundled with deidcode."""
