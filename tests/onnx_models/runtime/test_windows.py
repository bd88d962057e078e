import pytest
from hypothesis import given
from hypothesis import strategies as st

from onnx_models.runtime.windows import Window, most_central_window, plan_windows


def test_short_sequence_is_one_window():
    assert plan_windows(5, max_length=12, stride=3) == [Window(0, 5)]
    assert plan_windows(0, max_length=12, stride=3) == [Window(0, 0)]


def test_windows_overlap_by_stride():
    assert plan_windows(25, max_length=12, stride=3) == [
        Window(0, 10),
        Window(7, 17),
        Window(14, 24),
        Window(21, 25),
    ]


def test_bad_geometry_is_rejected():
    with pytest.raises(ValueError):
        plan_windows(10, max_length=4, stride=2)


@given(st.integers(1, 400), st.integers(4, 64), st.data())
def test_every_token_is_covered_and_windows_fit(n, max_length, data):
    stride = data.draw(st.integers(0, max_length - 3))
    windows = plan_windows(n, max_length=max_length, stride=stride)
    assert all(len(w) <= max_length - 2 for w in windows)
    assert windows[0].start == 0 and windows[-1].end == n
    for left, right in zip(windows, windows[1:], strict=False):
        assert right.start <= left.end  # no gap
    best = most_central_window(windows, n)
    for position, index in enumerate(best):
        assert windows[index].start <= position < windows[index].end


def test_token_takes_the_window_where_it_is_most_central():
    windows = plan_windows(25, max_length=12, stride=3)  # [0,10) [7,17) [14,24) [21,25)
    best = most_central_window(windows, 25)
    assert best[8] == 0  # margin 1 in window 0 and in window 1: the earlier wins
    assert best[9] == 1  # margin 0 at the end of window 0, 2 inside window 1
    assert best[7] == 0  # margin 2 in window 0, 0 at the start of window 1
