"""check_function and check_layer on hand-written layers and models: every correct one passes,
every planted bug fails with the right input named and the others passing."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from gradcheck.checks import check_function, check_layer
from gradcheck.checks.strategies import layer_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import layers as L  # noqa: E402


def rng():
    return np.random.default_rng(3)


def inputs(name):
    r = rng()
    return {
        "affine": (r.standard_normal((4, 3)), r.standard_normal((3, 5)), r.standard_normal(5)),
        "relu": (r.standard_normal((4, 6)),),
        "batchnorm": (r.standard_normal((6, 4)) * 2 + 1, r.standard_normal(4),
                      r.standard_normal(4), {"mode": "train"}),
        "dropout": (r.standard_normal((5, 4)), {"p": 0.6, "seed": 1}),
        "conv": (r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)),
                 r.standard_normal(4), {"stride": 2, "pad": 1}),
        "maxpool": (r.standard_normal((2, 3, 4, 4)),
                    {"pool_height": 2, "pool_width": 2, "stride": 2}),
        "rnn": (r.standard_normal((3, 4)), r.standard_normal((3, 5)),
                r.standard_normal((4, 5)) * 0.5, r.standard_normal((5, 5)) * 0.5,
                r.standard_normal(5)),
    }[name]


#: layer -> (forward, backward, buggy backward, the wrong array, words its finding uses)
LAYERS = {
    "affine": (L.affine_forward, L.affine_backward, L.affine_backward_bug, "b",
               "first example's gradient alone"),
    "relu": (L.relu_forward, L.relu_backward, L.relu_backward_bug, "x", "wrong mask"),
    "batchnorm": (L.batchnorm_forward, L.batchnorm_backward, L.batchnorm_backward_bug, "x",
                  "misses the terms through the batch mean and variance"),
    "dropout": (L.dropout_forward, L.dropout_backward, L.dropout_backward_bug, "x",
                "exactly 3/5 times"),
    "conv": (L.conv_forward_naive, L.conv_backward_naive, L.conv_backward_naive_bug, "x", ""),
    "maxpool": (L.max_pool_forward_naive, L.max_pool_backward_naive,
                L.max_pool_backward_naive_bug, "x", ""),
    "rnn": (L.rnn_step_forward, L.rnn_step_backward, L.rnn_step_backward_bug, "Wh",
            "transposed"),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_correct_layer_passes(name):
    forward, backward = LAYERS[name][:2]
    report = check_layer(forward, backward, *inputs(name))
    assert report.passed, str(report)


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_planted_bug_fails_with_the_right_input_named(name):
    forward, _, bug, wrong, words = LAYERS[name]
    report = check_layer(forward, bug, *inputs(name))
    assert report.failing == [wrong], str(report)
    assert words in report.diagnosis, report.diagnosis


def test_the_inputs_are_named_after_the_forward_functions_parameters():
    report = check_layer(L.rnn_step_forward, L.rnn_step_backward, *inputs("rnn"))
    assert [p.name for p in report.parameters] == ["x", "prev_h", "Wx", "Wh", "b"]
    assert report.parameters[0].connects == "gradient of input x"


def test_options_dicts_are_passed_through_untouched():
    x, gamma, beta, bn_param = inputs("batchnorm")
    before = dict(bn_param)
    check_layer(L.batchnorm_forward, L.batchnorm_backward, x, gamma, beta, bn_param)
    assert bn_param == before  # forward's running_mean went into copies


def test_a_naive_convolution_on_a_2_3_5_5_input_is_checked_in_seconds():
    started = time.perf_counter()
    report = check_layer(L.conv_forward_naive, L.conv_backward_naive, *inputs("conv"))
    assert report.passed and time.perf_counter() - started < 10


def test_code_that_is_not_complex_safe_falls_back_to_richardson():
    assert check_layer(L.batchnorm_forward, L.batchnorm_backward,
                       *inputs("batchnorm")).method == "richardson"  # np.var takes |.|^2
    assert check_layer(L.affine_forward, L.affine_backward, *inputs("affine")).method == \
        "complex_step"


def test_a_loss_written_with_np_abs_leaves_out_the_entries_at_its_kink():
    pred = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
    target = pred.copy()
    target[0, 0] = 0.0  # one entry away from its kink, the others exactly at it
    params = {"pred": pred}
    report = check_function(lambda: L.l1_loss(params["pred"], target), params)
    assert report.passed, str(report)
    assert report.parameters[0].skipped == 5 and "kink" in " ".join(report.notes)


def test_the_softmax_loss_through_check_function():
    r = rng()
    scores, y = r.standard_normal((5, 4)), r.integers(0, 4, 5)
    params = {"scores": scores}
    assert check_function(lambda: softmax_pair(params["scores"], y), params).passed

    def doubled():
        loss, d = L.softmax_loss(params["scores"], y)
        return loss, {"scores": 2 * d}

    report = check_function(doubled, params)
    assert not report.passed and "exactly 2 times" in report.diagnosis


def softmax_pair(scores, y):
    loss, d = L.softmax_loss(scores, y)
    return loss, {"scores": d}


class TwoLayerModel:
    """A whole model with a params dict and an L2 term, CS231n style."""

    def __init__(self, reg, forget_reg=False):
        r = rng()
        self.params = {"W1": r.standard_normal((4, 6)) * 0.5, "b1": r.standard_normal(6),
                       "W2": r.standard_normal((6, 3)) * 0.5, "b2": r.standard_normal(3)}
        self.reg, self.forget_reg = reg, forget_reg

    def loss(self, X, y):
        h, c1 = L.affine_forward(X, self.params["W1"], self.params["b1"])
        a, c2 = L.relu_forward(h)
        scores, c3 = L.affine_forward(a, self.params["W2"], self.params["b2"])
        loss, dscores = L.softmax_loss(scores, y)
        loss += self.reg * sum(np.sum(self.params[w] ** 2) for w in ("W1", "W2"))
        da, dW2, db2 = L.affine_backward(dscores, c3)
        dX, dW1, db1 = L.affine_backward(L.relu_backward(da, c2), c1)
        decay = 0 if self.forget_reg else 2 * self.reg
        return loss, {"W1": dW1 + decay * self.params["W1"], "b1": db1,
                      "W2": dW2 + decay * self.params["W2"], "b2": db2}


def test_a_two_layer_model_with_a_params_dict_and_reg():
    r = rng()
    X, y = r.standard_normal((5, 4)), r.integers(0, 3, 5)
    model = TwoLayerModel(reg=0.1)
    before = {k: v.copy() for k, v in model.params.items()}
    report = check_function(lambda: model.loss(X, y), model.params)
    assert report.passed, str(report)
    assert all(np.array_equal(model.params[k], before[k]) for k in before)  # restored exactly
    wrong = TwoLayerModel(reg=0.1, forget_reg=True)
    report = check_function(lambda: wrong.loss(X, y), wrong.params)
    assert sorted(report.failing) == ["W1", "W2"]


def test_params_are_restored_even_when_f_raises():
    W = np.arange(6.0).reshape(2, 3)
    calls = []

    def f():
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return (W ** 2).sum(), 2 * W

    with pytest.raises(RuntimeError):
        check_function(f, [W])
    np.testing.assert_array_equal(W, np.arange(6.0).reshape(2, 3))


def test_a_forward_that_draws_a_new_mask_each_call_is_refused_with_the_reason():
    def unseeded_dropout(x):
        mask = np.random.default_rng().random(x.shape) < 0.5
        return x * mask, mask

    with pytest.raises(ValueError, match="fix its seed"):
        check_layer(unseeded_dropout, L.dropout_backward, np.ones((8, 8)))  # equal masks: 2^-64


def test_sampling_checks_only_some_entries_per_array():
    report = check_layer(L.conv_forward_naive, L.conv_backward_naive, *inputs("conv"), sample=10)
    assert report.passed and all(p.checked == 10 for p in report.parameters if p.skipped)


@settings(max_examples=10, deadline=None)
@given(layer_inputs(x=(4, 3), w=(3, 2), b=(2,)))
def test_the_layer_strategies_drive_a_property_test(arrays):
    assert check_layer(L.affine_forward, L.affine_backward, arrays["x"], arrays["w"],
                       arrays["b"]).passed


def run_command(examples, *argv):
    import io

    from gradcheck.checks.cli import main
    out, err = io.StringIO(), io.StringIO()
    return main([str(a) for a in argv], out, err), out.getvalue(), err.getvalue()


CONV = ["--shape", "x=2,3,5,5", "--shape", "w=4,3,3,3", "--shape", "b=4",
        "--arg", 'conv_param={"stride": 2, "pad": 1}']


def test_the_layer_command_checks_a_layer_file(request, monkeypatch):
    monkeypatch.chdir(request.config.rootpath / "examples")
    status, out, _ = run_command(".", "--layer", "layers.py:conv_forward_naive", *CONV)
    assert status == 0 and "w: gradient of input w" in out
    status, out, _ = run_command(".", "--layer", "layers.py:conv_forward_naive,conv_backward_naive_bug",
                                 *CONV, "--format", "json")
    import json
    report = json.loads(out)
    assert status == 1 and [p["name"] for p in report["parameters"] if not p["passed"]] == ["x"]


@pytest.mark.parametrize("argv, phrase", [
    (["--layer", "layers.py:affine_forward", "--shape", "x=4,3"], "affine_forward takes w"),
    (["--layer", "layers.py:affine_forward", "--shape", "x=4,-3"], "positive sizes"),
    (["--layer", "layers.py:affine_forward", "--shape", "x=4,3", "--arg", "w=[1,"], "not JSON"),
    (["--layer", "layers.py:affine_forward", "--shape", "q=4,3"], "takes no argument 'q'"),
    (["--layer", "layers.py:relu", "--shape", "x=4,3"], "name the backward too"),
    (["--layer", "nowhere.py:f", "--shape", "x=4,3"], "'nowhere.py' does not exist"),
    (["--layer", "layers.py:affine_forward", "--shape", "x=100000,100000"], "elements"),
])
def test_a_bad_layer_command_exits_2_with_one_line(request, monkeypatch, argv, phrase):
    monkeypatch.chdir(request.config.rootpath / "examples")
    status, out, err = run_command(".", *argv)
    assert status == 2 and out == "" and err.count("\n") == 1 and phrase in err, err


def test_the_layer_command_as_a_real_subprocess(request):
    import subprocess
    proc = subprocess.run([sys.executable, "-m", "gradcheck", "--layer",
                           "layers.py:rnn_step_forward,rnn_step_backward_bug", "--shape", "x=3,4",
                           "--shape", "prev_h=3,5", "--shape", "Wx=4,5", "--shape", "Wh=5,5",
                           "--shape", "b=5"], capture_output=True, text=True,
                          cwd=request.config.rootpath / "examples")
    assert proc.returncode == 1 and "Wh is the true gradient transposed" in proc.stdout


def test_a_layer_with_two_outputs_gets_two_upstream_gradients():
    r = rng()
    N, D, H = 3, 4, 5
    args = (r.standard_normal((N, D)), r.standard_normal((N, H)), r.standard_normal((N, H)),
            r.standard_normal((D, 4 * H)) * 0.5, r.standard_normal((H, 4 * H)) * 0.5,
            r.standard_normal(4 * H))
    right = check_layer(L.lstm_step_forward, L.lstm_step_backward, *args)
    assert right.passed, str(right)
    assert [p.name for p in right.parameters] == ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    wrong = check_layer(L.lstm_step_forward, L.lstm_step_backward_bug, *args)
    assert not wrong.passed and "prev_c" in wrong.failing


def test_check_function_with_a_separate_gradient_and_a_single_array():
    r = rng()
    W, X = r.standard_normal((3, 2)), r.standard_normal((5, 3))

    def loss():
        return float(np.sum(np.tanh(X @ W) ** 2))

    def grad():
        t = np.tanh(X @ W)
        return X.T @ (2 * t * (1 - t ** 2))

    assert check_function(loss, [W], grad=grad).passed
    report = check_function(loss, [W], grad=lambda: -grad())
    assert report.failing == ["params[0]"] and "sign flipped" in report.diagnosis
    with pytest.raises(TypeError, match="must return \\(loss, grads\\)"):
        check_function(loss, [W])


class DenseObject:
    """An nnfs.io-style layer object: forward keeps self.output, backward keeps self.dinputs."""

    def __init__(self):
        self.weights = np.random.default_rng(3).standard_normal((4, 3))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights

    def backward(self, dvalues):
        self.dinputs = dvalues @ self.weights.T


def test_a_forward_that_returns_nothing_is_refused_with_the_wrapping_that_checks_it():
    layer, x = DenseObject(), np.random.default_rng(4).standard_normal((5, 4))
    with pytest.raises(TypeError, match="forward returned NoneType, not numbers"):
        check_layer(layer.forward, layer.backward, x)
    report = check_layer(lambda x: (layer.forward(x), (layer.output, None))[1],
                         lambda dout, cache: (layer.backward(dout), layer.dinputs)[1], x)
    assert report.passed
