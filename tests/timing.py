"""Growth checks for code that must stay linear on hostile input.

These are not speed targets (those live in ``bench/``): they compare the
same function on a small and a large input, so a pattern that backtracks
(quadratic or worse) fails while a slow or busy machine does not.
"""

import gc
import time


def best_cpu_time(func, text, runs=1) -> float:
    """The shortest CPU time of ``runs`` calls.

    CPU time of this process, not wall time: other processes on a shared
    machine do not count. The garbage collector is paused while the clock
    runs, because a full collection in a test worker that has already run
    thousands of tests can take longer than the call being measured.
    """
    gc.disable()
    try:
        best = float("inf")
        for _ in range(runs):
            started = time.process_time()
            func(text)
            best = min(best, time.process_time() - started)
        return best
    finally:
        gc.enable()


def growth(func, small_text, large_text, *, allowed, attempts=12):
    """Return (small, large) times, the best of several interleaved tries.

    Noise only ever adds time, so on a miss both sizes are measured again,
    with a growing pause to let a burst of load pass, before the code is
    blamed. ``allowed(small)`` is the most the large input may take."""
    small = large = float("inf")
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.02 * attempt)
        small = min(small, best_cpu_time(func, small_text, runs=3))
        large = min(large, best_cpu_time(func, large_text, runs=1))
        if large <= allowed(small):
            break
    return small, large
