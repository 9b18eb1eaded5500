"""Timing shared by the PyTorch side of the benchmarks (conv_bench, unet_bench, sd_bench).

Each script serves `diffrep-bench` over stdin/stdout: a JSON request names the clock, the
repetitions and the warm-up; these helpers turn that into milliseconds, the same way for all.

    from bench_support import request_clock, times_ms
    ms = times_ms(lambda: model(x), reps=5, warmup=1, clock=request_clock(req))
"""
import statistics
import time


def request_clock(request):
    """The clock a request asks for: "thread" is this thread's CPU time, anything else wall time."""
    return time.thread_time if request.get("clock") == "thread" else time.perf_counter


def times_ms(fn, reps, warmup=2, clock=time.perf_counter):
    """Milliseconds of each of `reps` calls of fn, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = clock()
        fn()
        out.append((clock() - t0) * 1e3)
    return out


def median_ms(fn, reps, warmup=3, clock=time.perf_counter):
    """Median of `times_ms`."""
    return statistics.median(times_ms(fn, reps, warmup, clock))
