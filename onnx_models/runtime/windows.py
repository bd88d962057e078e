"""Split a long token sequence into overlapping windows, and pick each token's best window.

Pure functions over token positions, so the boundary logic is tested without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    """Tokens ``[start, end)`` of a note's token sequence (special tokens not counted)."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


def plan_windows(n_tokens: int, *, max_length: int, stride: int) -> list[Window]:
    """Windows of at most ``max_length - 2`` tokens (room for the start and end tokens),
    each overlapping the previous one by ``stride`` tokens."""
    capacity = max_length - 2
    if capacity <= 0 or not 0 <= stride < capacity:
        raise ValueError(f"max_length {max_length} and stride {stride} leave no room")
    if n_tokens == 0:
        return [Window(0, 0)]
    windows = []
    start = 0
    step = capacity - stride
    while True:
        end = min(start + capacity, n_tokens)
        windows.append(Window(start, end))
        if end == n_tokens:
            return windows
        start += step


def most_central_window(windows: Sequence[Window], n_tokens: int) -> list[int]:
    """For each token, the index of the window in which it sits furthest from an edge.

    Context on both sides makes a prediction better, so a token near one window's
    edge takes its label from the next window, where it is nearer the middle.
    Ties go to the earlier window.
    """
    best = [-1] * n_tokens
    best_margin = [-1] * n_tokens
    for index, window in enumerate(windows):
        for position in range(window.start, window.end):
            margin = min(position - window.start, window.end - 1 - position)
            if margin > best_margin[position]:
                best_margin[position] = margin
                best[position] = index
    return best
