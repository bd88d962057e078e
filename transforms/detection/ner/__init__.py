"""Token-classification (NER) inference on ONNX models: windows, decoding, the Beam handler."""
