"""The per-note de-identification step: detect, redact, release columns, build rows."""
