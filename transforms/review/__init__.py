"""The coder review queue: loading a run's suggestions, claims, decisions, scorecard, export."""
