"""The checker's memory and time estimates: the memory one within a factor 2 of the measured
peak (the command refuses checks by it), the time one growing as the arithmetic does."""

import platform
import tracemalloc

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks import gradcheck
from gradcheck.checks.budget import check_bytes, check_flops, refuse_if_too_big


@pytest.mark.parametrize("layers, m", [([784, 30, 10], 10), ([100] * 6, 10), ([20, 20, 20], 400),
                                       ([1500, 100, 10], 8), ([50, 50, 50, 50], 100)])
def test_the_memory_estimate_is_within_a_factor_2_of_the_measured_peak(layers, m):
    net = Network(layers, "sigmoid", seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((layers[0], m)), rng.uniform(0, 1, (layers[-1], m))
    gradcheck(net, x, y)  # warm caches outside the measurement
    tracemalloc.start()
    try:
        gradcheck(net, x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = check_bytes(layers, m)
    assert estimate / 2 <= peak <= 2 * estimate, (peak, estimate)


def test_a_check_too_big_for_the_machine_is_refused_with_the_estimate():
    with pytest.raises(ValueError, match=r"needs about [\d.]+ GiB of memory"):
        refuse_if_too_big([100_000, 100_000, 10], 10)
    assert refuse_if_too_big([784, 30, 10], 10) == check_bytes([784, 30, 10], 10)


def test_the_time_estimate_grows_with_depth_and_with_the_method():
    shallow, deep = check_flops([100] * 4, 10), check_flops([100] * 12, 10)
    assert deep > 8 * shallow
    assert check_flops([100] * 4, 10, "central") > 100 * shallow
    # central differences on a smooth network take two steps per entry, not four
    assert check_flops([100] * 4, 10, "central", smooth=True) * 2 == check_flops([100] * 4, 10,
                                                                                 "central")
    assert check_flops([100] * 4, 10, "richardson", smooth=True) == check_flops([100] * 4, 10,
                                                                                "richardson")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")
def test_a_check_reuses_freed_memory_instead_of_faulting_in_new_pages():
    import resource
    net = Network([784, 30, 10], "sigmoid", seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((784, 10)), rng.uniform(0, 1, (10, 10))
    gradcheck(net, x, y)  # the first check raises malloc's thresholds (checks/heap.py)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        gradcheck(net, x, y)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    # before checks/heap.py each of these checks faulted in about 290 fresh pages (1.1 MiB)
    assert faults < 30, faults
