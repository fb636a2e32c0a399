"""Stage timings: every stage's seconds are measured the same way, by `timed`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def timed(
    timings: dict[str, float], stage: str, clock: Callable[[], float] = time.perf_counter
) -> Iterator[None]:
    """Add the seconds the block takes to `timings[stage]` (summed over repeated blocks).

    `clock` is wall time by default; a thread at idle priority passes `time.thread_time` so its
    waits for a core do not count as work.
    """
    started = clock()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (clock() - started)
