"""Redaction: operators (one module each), the policy, the engine and its offset map,
surrogates, date shifting and structured-column release."""
