"""Offline scoring of PHI detection against gold annotations, and the gold file readers."""
