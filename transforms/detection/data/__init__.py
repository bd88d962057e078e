"""Data files shipped with the detectors (the common-vocabulary list of the precision guard)."""
