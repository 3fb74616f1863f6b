"""How a queue worker waits between two polls of its queue.

An empty queue is polled again after the worker's idle pause. A poll that fails (the
database down or too slow) is tried again after twice that, then twice again, up to
:data:`LONGEST_PAUSE`: a worker doesn't hammer a database that is struggling, nor fill
the log with one traceback every half second, and the first poll that works resets it.
"""

from __future__ import annotations

__all__ = ["LONGEST_PAUSE", "pause"]

#: The longest wait between two polls, however many failed in a row.
LONGEST_PAUSE = 30.0


def pause(idle: float, failures: int) -> float:
    """The wait before the next poll, after ``failures`` failed polls in a row."""
    # 2**failures stops growing at 2**32: past that it would not fit a float, and the
    # pause is long past LONGEST_PAUSE anyway.
    doubled: float = idle * 2 ** min(failures, 32)
    return min(doubled, LONGEST_PAUSE)
