"""Alembic migrations of the review queue database (``schemas.review_db``)."""
