"""Growth checks for code that must stay linear on hostile input.

These are not speed targets (those live in ``bench/``): they compare the
same function on a small and a large input, so a pattern that backtracks
(quadratic or worse) fails while a slow or busy machine does not.

The allowance is stated against the ratio of the two sizes. With a 50x
larger input, linear code takes about 50x the time and quadratic code
about 2,500x; the check allows ``LINEAR_TOLERANCE`` times the linear
figure (200x), so a shared machine may slow the large run down fourfold
before a linear function is blamed, and quadratic growth still misses the
allowance by more than ten times.
"""

import gc
import time

LINEAR_TOLERANCE = 4
TIMER_SLACK = 0.025  # seconds: scheduler and timer noise on a busy machine


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


def linear_allowance(small_text, large_text, slack=TIMER_SLACK):
    """The most the large input may take, given the small input's time."""
    ratio = len(large_text) / len(small_text)
    return lambda small: LINEAR_TOLERANCE * ratio * small + slack


def assert_linear(func, small_text, large_text, *, label, ceiling=2.0, attempts=12, slack=TIMER_SLACK):
    """Fail when ``func`` grows faster than linearly from one input to the other.

    ``ceiling`` (seconds) bounds the large input outright, which catches
    catastrophic backtracking even where the small input is too fast to
    time."""
    allowed = linear_allowance(small_text, large_text, slack)
    small, large = growth(func, small_text, large_text, allowed=allowed, attempts=attempts)
    assert large < ceiling, f"{label} took {large:.2f}s on {len(large_text)} characters"
    assert large <= allowed(small), (
        f"{label}: {small * 1000:.1f} ms on {len(small_text)} characters but {large * 1000:.1f} ms on {len(large_text)}"
    )
    return small, large
