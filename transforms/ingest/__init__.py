"""Validating records into notes and resolving duplicate note IDs, quarantining the rest."""
