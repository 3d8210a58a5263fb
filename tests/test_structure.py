"""The structure of a layer, found by probes and checked, never assumed: entries whose outputs do
not overlap move in one evaluation and are read from their own outputs; a wrong structure is
caught and the input evaluated one entry at a time; the grouped read is the per-entry read."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.checks import blackbox, check_layer
from gradcheck.checks.functions import check_layer_code
from gradcheck.checks.layers import ChildLayer, Grouping, InProcessLayer
from gradcheck.checks.structure import Axis, Structure, decode, probes_for
from gradcheck.checks.usercode import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import layers as L  # noqa: E402
from harness import cs231n as C  # noqa: E402


def rng():
    return np.random.default_rng(5)


def layer(name):
    """(forward, backward, inputs) for the layers the bench times, at small sizes."""
    r = rng()
    return {
        "affine": (L.affine_forward, L.affine_backward,
                   (r.standard_normal((6, 4)), r.standard_normal((4, 5)), r.standard_normal(5))),
        "batchnorm": (C.batchnorm_forward, C.batchnorm_backward,
                      (r.standard_normal((5, 4)) * 2 + 1, r.standard_normal(4),
                       r.standard_normal(4), {"mode": "train"})),
        "batchnorm_var": (L.batchnorm_forward, L.batchnorm_backward,
                          (r.standard_normal((5, 4)) * 2 + 1, r.standard_normal(4),
                           r.standard_normal(4), {"mode": "train"})),
        "conv": (L.conv_forward_naive, L.conv_backward_naive,
                 (r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)),
                  r.standard_normal(4), {"stride": 2, "pad": 1})),
        "conv_zeros": (C.conv_forward_naive, C.conv_backward_naive,
                       (r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)),
                        r.standard_normal(4), {"stride": 2, "pad": 1})),
        "maxpool": (C.max_pool_forward_naive, C.max_pool_backward_naive,
                    (r.standard_normal((2, 3, 4, 4)),
                     {"pool_height": 2, "pool_width": 2, "stride": 2})),
        "rnn": (L.rnn_step_forward, L.rnn_step_backward,
                (r.standard_normal((6, 8)), r.standard_normal((6, 7)),
                 r.standard_normal((8, 7)) * 0.5, r.standard_normal((7, 7)) * 0.5,
                 r.standard_normal(7))),
    }[name]


def numeric_of(name, method="auto", structured=True, monkeypatch=None):
    """The numeric side of ``check_layer`` on one of the layers above."""
    forward, backward, inputs = layer(name)
    seen = {}
    real = blackbox.numeric

    def spy(*args, **kwargs):
        seen["result"] = real(*args, **kwargs)
        return seen["result"]

    monkeypatch.setattr(blackbox, "numeric", spy)
    monkeypatch.setattr("gradcheck.checks.functions.numeric", spy)
    if not structured:
        monkeypatch.setattr(blackbox._Run, "structures",
                            lambda self, plans: {n: None for n in self.target.names})
    report = check_layer(forward, backward, *inputs, method=method)
    return report, seen["result"]


@pytest.mark.parametrize("name, classes", [
    ("affine", {"x": 4, "w": 4}),                 # x: its examples together; w: its columns
    ("batchnorm", {"x": 5}),                      # x: its features together, not its examples
    ("conv", {"x": 27, "w": 27}),                 # 3 channels x 3 x 3 pixel phases; 27 kernels
    ("maxpool", {"x": 1}),                        # every output depends on its window's max alone
    ("rnn", {"x": 8, "prev_h": 7, "Wx": 8, "Wh": 7}),  # inputs: by example; weights: by column
])
def test_the_probes_find_which_entries_can_share_an_evaluation(name, classes, monkeypatch):
    report, result = numeric_of(name, monkeypatch=monkeypatch)
    assert report.passed and result.method == "complex_step", str(report)
    for array, count in classes.items():
        assert result.classes[array] == count, result.classes


def test_finite_differences_group_the_same_way(monkeypatch):
    report, result = numeric_of("conv_zeros", monkeypatch=monkeypatch)
    assert report.passed and result.method == "richardson", str(report)
    assert result.classes == {"x": 27, "w": 27, "b": 1}


@pytest.mark.parametrize("name", ["affine", "batchnorm", "conv", "rnn", "conv_zeros",
                                  "batchnorm_var"])
def test_a_grouped_read_is_the_read_of_one_entry_at_a_time(name, monkeypatch):
    _, grouped = numeric_of(name, monkeypatch=monkeypatch)
    monkeypatch.undo()
    _, single = numeric_of(name, structured=False, monkeypatch=monkeypatch)
    assert sum(grouped.classes.values()) < sum(single.classes.values())
    for n, g in single.gradient.items():
        assert np.allclose(grouped.gradient[n], g, rtol=1e-14, atol=1e-15), n
        assert np.array_equal(grouped.reasons[n], single.reasons[n])


def _batch_diagonal(name, shape, parts, probes, changed):
    """A wrong structure for batch norm's x: its examples said not to meet, as in an elementwise
    layer (the examples of one feature in one class, x[r, j] owning out[r, j] alone)."""
    if name != "x":
        return decode(name, shape, parts, probes, changed)
    n, d = shape
    row = np.repeat(np.arange(n), d)                  # the row of each output, flattened
    column = np.tile(np.arange(d), n)
    return Structure(shape, (Axis(np.zeros(n, dtype=int), row[None, :]),
                             Axis(np.arange(d), np.array([np.where(column == j, j, -1)
                                                          for j in range(d)]))))


def test_a_wrong_structure_is_caught_and_the_input_read_one_entry_at_a_time(monkeypatch):
    monkeypatch.setattr(blackbox, "decode", _batch_diagonal)
    report, result = numeric_of("batchnorm", monkeypatch=monkeypatch)
    assert report.passed, str(report)
    assert result.classes["x"] == 20  # every entry on its own after the check failed


def test_a_grouping_whose_members_reach_outputs_of_no_member_falls_back(monkeypatch):
    """Told that each example of an affine layer's x reaches only the first output column, the
    moves change the others: the 'outputs of no member' bin catches it."""
    def narrow(name, shape, parts, probes, changed):
        s = decode(name, shape, parts, probes, changed)
        if name != "x":
            return s
        owner = s.axes[0].owner.copy()
        owner[:, np.arange(owner.shape[1]) % 5 != 0] = -1
        return Structure(s.shape, (Axis(s.axes[0].colour, owner), s.axes[1]))

    monkeypatch.setattr(blackbox, "decode", narrow)
    report, result = numeric_of("affine", monkeypatch=monkeypatch)
    assert report.passed and result.classes["x"] == 24, (str(report), result.classes)


def _one_entry_off(backward, k, error, relative):
    """backward with entry size // 2 of its k-th gradient off by ``error`` (times the array's
    largest entry where ``relative``)."""
    def off(*args):
        grads = backward(*args)
        grads = [grads] if isinstance(grads, np.ndarray) else list(grads)
        grads[k] = grads[k].copy()
        scale = float(np.max(np.abs(grads[k]))) if relative else 1.0
        grads[k].flat[grads[k].size // 2] += error * scale
        return tuple(grads)
    return off


@pytest.mark.parametrize("name, method", [
    ("affine", "complex_step"), ("batchnorm", "complex_step"), ("conv", "complex_step"),
    ("maxpool", "complex_step"), ("rnn", "complex_step"),
    # code that is not complex-safe: Richardson resolves 1e-8 of the array's largest entry (its
    # bound on this convolution's bias is 2-3e-8 absolute, for entries of about 5)
    ("conv_zeros", "richardson"), ("batchnorm_var", "richardson")])
def test_exact_to_rounding_and_a_1e_8_error_in_one_entry_fails(name, method):
    forward, backward, inputs = layer(name)
    report = check_layer(forward, backward, *inputs)
    assert report.passed and report.method == method, str(report)
    assert report.max_relative_error < (1e-14 if method == "complex_step" else 1e-9), str(report)
    for k, p in enumerate(report.parameters):
        wrong = check_layer(forward, _one_entry_off(backward, k, 1e-8, method != "complex_step"),
                            *inputs)
        assert wrong.failing == [p.name], (p.name, str(wrong))


def test_the_per_example_gradients_come_from_the_same_evaluations(monkeypatch):
    forward, backward, inputs = layer("affine")
    calls = []
    code = InProcessLayer(forward, L.affine_backward_bug, inputs)
    real = code.losses
    monkeypatch.setattr(code, "losses", lambda *a: calls.append(1) or real(*a))
    failing = check_layer_code(code, "affine")
    assert failing.failing == ["b"] and "first example" in failing.diagnosis
    passing_calls = len(calls)
    calls.clear()
    code = InProcessLayer(forward, backward, inputs)
    real = code.losses
    monkeypatch.setattr(code, "losses", lambda *a: calls.append(1) or real(*a))
    assert check_layer_code(code, "affine").passed
    # the failing check looks again at two nearby points (checks.nearby: a batch each); the
    # diagnosis evaluates nothing more
    assert passing_calls == len(calls) + 2


def test_the_fast_mode_catches_every_planted_bug_in_few_evaluations():
    for name, bug in [("affine", L.affine_backward_bug), ("conv", L.conv_backward_naive_bug),
                      ("maxpool", L.max_pool_backward_naive_bug), ("rnn", L.rnn_step_backward_bug)]:
        forward, backward, inputs = layer(name)
        full = check_layer(forward, backward, *inputs)
        fast = check_layer(forward, backward, *inputs, mode="fast")
        assert fast.passed and fast.mode == "fast" and fast.evaluations < full.evaluations
        assert not check_layer(forward, bug, *inputs, mode="fast").passed, name


def test_an_unknown_mode_is_refused_by_name():
    forward, backward, inputs = layer("affine")
    with pytest.raises(ValueError, match="`mode` must be one of full, fast; got 'quick'"):
        check_layer(forward, backward, *inputs, mode="quick")


# -- the grouped losses, in this process and through a child ------------------------------------
def test_grouped_losses_are_the_totals_split_by_their_labels():
    forward, backward, inputs = layer("affine")
    code = InProcessLayer(forward, backward, inputs)
    outs = code.base_outputs()
    douts = [rng().standard_normal(o.shape) for o in outs]
    moves = [{"x": (np.array([0, 5]), np.array([1e-3, -2e-3]))},
             {"w": (np.array([3]), np.array([1j * 1e-20]))}]
    labels = np.array([np.arange(30) % 3, np.arange(30) % 2])
    diffs, sizes = code.losses(moves, douts, Grouping(labels, np.array([0, 1]), 3))
    totals = code.losses(moves, douts)
    assert diffs.shape == sizes.shape == (2, 3)
    assert np.allclose(diffs.sum(axis=1), [t for t, _ in totals], rtol=1e-13, atol=0)
    assert np.allclose(sizes.sum(axis=1), [z for _, z in totals], rtol=1e-13)
    assert sizes[1, 2] == 0  # labelling 1 has no bin 2


@pytest.mark.parametrize("labels, which, bins, phrase", [
    (np.zeros((1, 29), dtype=np.int64), np.array([0]), 1, "shape"),
    (np.zeros((1, 30)), np.array([0]), 1, "integers"),
    (np.full((1, 30), 2), np.array([0]), 2, r"\[0, 2\)"),
    (np.zeros((1, 30), dtype=np.int64), np.array([1]), 1, "labeling"),
    (np.zeros((1, 30), dtype=np.int64), np.array([0]), 0, "positive"),
])
def test_a_bad_grouping_is_refused_with_what_is_wrong(labels, which, bins, phrase):
    forward, backward, inputs = layer("affine")
    code = InProcessLayer(forward, backward, inputs)
    douts = [np.ones(o.shape) for o in code.base_outputs()]
    with pytest.raises(ValueError, match=phrase):
        code.losses([{}], douts, Grouping(labels, which, bins))


class _FakeChild:
    """A child process that answers the grouped losses with whatever it is told to."""

    def __init__(self, answer):
        self.answer = answer

    def request(self, op, header, arrays=None):
        if op == "layer.open":
            return {"names": ["x"]}, {}
        return {}, self.answer(header, arrays)


@pytest.mark.parametrize("answer", [
    lambda h, a: {"loss": np.zeros((1, h["bins"] + 1)), "size": np.zeros((1, h["bins"] + 1))},
    lambda h, a: {"loss": np.zeros((1, h["bins"])), "size": np.zeros((1, h["bins"]), dtype=int)},
    lambda h, a: {"loss": np.zeros((1, h["bins"])), "size": -np.ones((1, h["bins"]))},
    lambda h, a: {"loss": np.zeros((1, h["bins"]))},
])
def test_the_parent_refuses_a_grouped_answer_of_the_wrong_form(answer):
    target = type("T", (), {"shown": "layer.py", "file": "layer.py"})()
    code = ChildLayer(_FakeChild(answer), target, "f", "b", [np.ones(3)])
    with pytest.raises(PluginError, match="unexpected answer"):
        code.losses([{}], [np.ones(4)], Grouping(np.zeros((1, 4), dtype=np.int64), np.array([0]), 2))


def test_probes_cover_every_index_of_every_axis():
    probes, parts = probes_for("x", (3, 40))
    assert sum(p.axis == 0 for p in probes) == 3          # short: one index at a time
    assert sum(p.axis == 1 for p in probes) == 2 * 6      # long: both halves of each of 6 bits
    index = np.indices((3, 40)).reshape(2, -1)
    for axis in (0, 1):
        for partition in range(len(parts[axis])):
            covered = np.concatenate([p.entries(index, parts) for p in probes
                                      if p.axis == axis and p.partition == partition])
            assert np.array_equal(np.sort(covered), np.arange(120))
