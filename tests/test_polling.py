"""A queue worker's pause between polls: its idle pause, doubled after each failure."""

from __future__ import annotations

from sessile.polling import LONGEST_PAUSE, pause


def test_an_empty_queue_is_polled_again_after_the_idle_pause() -> None:
    assert pause(0.5, 0) == 0.5
    assert pause(1.0, 0) == 1.0


def test_failed_polls_in_a_row_double_the_pause_up_to_the_longest() -> None:
    assert [pause(0.5, n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert pause(0.5, 6) == LONGEST_PAUSE
    assert pause(0.5, 10_000) == LONGEST_PAUSE  # no overflow, however long it lasts
