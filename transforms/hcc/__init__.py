"""CMS-HCC V24/V28 risk adjustment: pinned model tables and a pure scoring engine."""
