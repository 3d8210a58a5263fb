"""The precision a layer's or a function's code computes in comes from its dtypes, or from
evidence about the code (a move within float32's rounding that leaves float32-valued results
where they were), never from the values alone."""

import sys
from pathlib import Path

import numpy as np

from gradcheck import check_function, check_layer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.layers import Case, run_case  # noqa: E402


def in_float32(fn):
    """fn computed in float32 and handed back in float64, as code that casts inside does."""
    def wrapped(*args):
        out = fn(*[a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args])
        return tuple(o.astype(np.float64) if isinstance(o, np.ndarray) else o for o in out)
    return wrapped


def sigmoid_forward(x):
    s = 1 / (1 + np.exp(-x))
    return s, s


def sigmoid_backward(dout, s):
    return dout * s * (1 - s)


def test_round_values_from_float64_code_are_judged_at_float64():
    # dyadic inputs make float64 code return float32 numbers: a move within float32's rounding
    # still moves its loss, so it is float64 code, and a 1e-7 error in it fails
    W = np.array([[1.5, 2.25], [3.5, 4.125]])
    report = check_function(lambda: ((W ** 2).sum(), {"W": 2 * W * (1 + 1e-7)}), {"W": W})
    assert not report.passed and report.precision == "float64"
    assert "1.0000001 times" in report.diagnosis


def test_saturated_float32_code_in_float64_is_judged_at_float32():
    # every output of a sigmoid at scale 1e2 is 0, 1 or a float32 number, and a float32 move
    # leaves them all in place: float32 code (found by the layer harness, seed 13)
    x = np.array([[100.6, 36.9, 179.1, 150.9, 38.2], [97.7, -143.6, 38.3, 83.2, 87.5],
                  [87.0, 130.5, -210.7, -190.2, 18.35], [27.1, -71.3, 185.1, 15.63, 80.4]])
    forward = in_float32(sigmoid_forward)

    def backward(dout, s):
        return (dout.astype(np.float32) * s.astype(np.float32)
                * (1 - s.astype(np.float32))).astype(np.float64)
    try:
        report = check_layer(forward, backward, x)
    except ValueError as e:  # Undecidable: every entry swamped at float32, which is right too
        assert "nothing could be decided" in str(e)
    else:
        assert report.passed and report.precision == "float32"
    case = run_case(Case("sigmoid_f32in64", "correct", "scale_all=1e2", 683429838))
    assert case.category in ("ok", "UNDECIDABLE"), case.why


def test_a_saturated_float64_layer_stays_float64():
    x = np.array([[40.0, -41.5, 45.25], [39.0, 50.5, -60.0]])
    report = check_layer(sigmoid_forward, sigmoid_backward, x)
    assert report.precision == "float64"
