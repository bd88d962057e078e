"""Data files shipped with the transforms (surrogate name pools)."""
