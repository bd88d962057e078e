"""PHI detection: the ``Detector`` base and registry, pattern rules, the ONNX NER model."""
