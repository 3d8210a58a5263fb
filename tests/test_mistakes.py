"""Named mistakes (issue 21): hand-written backward passes, each with one slip a learner makes,
in the styles learners write them (a Nielsen-style per-example loop with negative indices, a
batched loop over a list of weights, rows-layout code), are diagnosed by the mistake and its
place, not only by "BP2 into layer l"; correct code in the same styles is never given one."""

import numpy as np
import pytest

from gradcheck import Network, gradcheck
from gradcheck.backprop.mistakes import KINDS, Mistake, placed_mistakes

ACT = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
}


def nielsen_style(act, slip=None):
    """Nielsen's backprop(x, y) (network.py): one example, zs and activations lists, negative
    indices; ``slip`` changes one line the way learners do."""
    f, fp = ACT[act]

    def backprop(weights, biases, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(biases, weights):
            z = w @ activation + b
            zs.append(z)
            activation = f(z)
            activations.append(activation)
        delta = (activations[-1] - y) * fp(zs[-1])
        nabla_b, nabla_w = [None] * len(biases), [None] * len(weights)
        nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
        for l in range(2, len(weights) + 1):
            sp = fp(zs[-l])
            if slip == "no_prime":
                delta = weights[-l + 1].T @ delta                  # sigma' dropped
            elif slip == "prime_of_a":
                delta = (weights[-l + 1].T @ delta) * fp(activations[-l])
            elif slip == "one_minus_a":
                delta = (weights[-l + 1].T @ delta) * (1 - activations[-l])
            else:
                delta = (weights[-l + 1].T @ delta) * sp
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_w, nabla_b
    return backprop


def batched_rows(act, slip=None):
    """Rows layout (x is (m, n)), a loop over a list of weights (W[k] is (n_in, n_out)), the
    derivative written from the output a, the way CS231n-style code does."""
    f, _ = ACT[act]
    from_a = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a ** 2,
              "relu": lambda a: (a > 0).astype(float)}[act]

    def grad(weights, biases, x, y):
        A = [x]
        for W, b in zip(weights, biases):
            A.append(f(A[-1] @ W + b))
        delta = (A[-1] - y) * from_a(A[-1])
        gW, gb = [None] * len(weights), [None] * len(weights)
        for k in reversed(range(len(weights))):
            gW[k], gb[k] = A[k].T @ delta, delta.sum(axis=0)
            if k:
                back = delta @ weights[k].T
                if slip == "no_prime":
                    delta = back                                   # the mask / sigma' missing
                elif slip == "mask_inverted":
                    delta = back * (A[k] <= 0)
                else:
                    delta = back * from_a(A[k])
        return gW, gb
    return grad


def case(act, layout, layers=(3, 4, 4, 2), seed=3, m=4):
    net = Network(list(layers), act, "half_squared_error", layout=layout, seed=seed)
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((layers[0], m)), rng.uniform(0, 1, (layers[-1], m))
    return net, net.from_columns(x), net.from_columns(y)


ONE = {"call": "example", "vectors": "column"}


@pytest.mark.parametrize("act, slip, words", [
    ("sigmoid", "no_prime", "delta^2 lacks sigma'(z^2)"),
    ("tanh", "no_prime", "delta^2 lacks sigma'(z^2)"),
    ("sigmoid", "prime_of_a", "taken at a^2, which is already sigmoid(z^2)"),
    ("tanh", "one_minus_a", "tanh' of layer 2 is written 1 - a^2; it is 1 - (a^2)^2"),
    ("sigmoid", "one_minus_a", None),
    ("relu", "no_prime", "the relu mask of layer 2 is missing"),
])
def test_a_nielsen_style_slip_is_named_with_its_layer(act, slip, words):
    net, x, y = case(act, "columns")
    report = gradcheck(net, x, y, impl=nielsen_style(act, slip), impl_spec=ONE)
    assert not report.passed
    assert "first wrong layer in backward order is layer 2" in report.diagnosis
    if words is None:  # no named mistake is written this way: located, never misnamed
        assert all(f.kind != "mistake" for f in report.findings), report.diagnosis
        return
    assert words in report.diagnosis.lower() and "(BP2" in report.diagnosis, report.diagnosis


@pytest.mark.parametrize("act, slip, words", [
    ("sigmoid", "no_prime", "delta^2 lacks sigma'(z^2)"),
    ("relu", "no_prime", "the relu mask of layer 2 is missing"),
    ("relu", "mask_inverted", "the relu mask of layer 2 is inverted"),
])
def test_a_batched_rows_slip_is_named(act, slip, words):
    net, x, y = case(act, "rows")
    report = gradcheck(net, x, y, impl=batched_rows(act, slip))
    assert not report.passed and words in report.diagnosis.lower(), report.diagnosis


@pytest.mark.parametrize("act", sorted(ACT))
@pytest.mark.parametrize("style, layout, spec", [(nielsen_style, "columns", ONE),
                                                 (batched_rows, "rows", None)])
def test_correct_code_in_the_same_styles_passes(act, style, layout, spec):
    net, x, y = case(act, layout)
    report = gradcheck(net, x, y, impl=style(act), impl_spec=spec)
    assert report.passed, report


def test_every_placed_mistake_changes_the_gradient_and_is_named_back():
    """Each placed mistake's own gradient, handed over as the code's, is diagnosed as that
    mistake (or one whose gradient is the same on this batch)."""
    net, x, y = case("sigmoid", "columns", layers=(3, 4, 4, 2))
    named = 0
    for mistake in placed_mistakes(net):
        nabla_w, nabla_b = mistake.backward_pass()(net, x, y)
        report = gradcheck(net, x, y, impl=lambda w, b, x_, y_, g=(nabla_w, nabla_b): g)
        if report.passed:
            continue  # the mistake changes nothing on this network (a square-only slip, say)
        assert report.findings[0].kind == "mistake", (mistake, report.diagnosis)
        assert KINDS[mistake.kind].equation[:2] in report.diagnosis
        named += 1
    assert named >= 15


def test_the_words_name_every_layer_a_loop_slip_touches():
    net, _, _ = case("sigmoid", "columns", layers=(3, 4, 4, 4, 2))
    text = Mistake("no_prime", (3, 2, 1)).words(net)
    assert text.startswith("delta^3 lacks sigma'(z^3)") and "(BP2; and the same in layers 2, 1)" in text


# -- layers and functions: patterns over the inputs ---------------------------------------------
def _layer_case():
    rng = np.random.default_rng(4)
    x, gamma = rng.standard_normal((6, 4)), rng.uniform(0.5, 2.0, 4)
    return x, gamma


def test_a_gradient_moved_by_one_place_is_named_an_off_by_one():
    from gradcheck import check_function
    x, _ = _layer_case()
    w = np.linspace(-1, 1, 6)

    def f():
        g = np.zeros_like(x)
        g[1:] = w[:-1, None] * np.ones((5, 4))   # the window starts one row late
        return float(np.sum(w[:, None] * x)), g
    report = check_function(f, {"x": x})
    assert not report.passed and report.findings[0].kind == "shifted", report.diagnosis
    assert "off-by-one" in report.diagnosis


def test_a_per_feature_factor_names_the_input_it_equals():
    from gradcheck import check_layer
    x, gamma = _layer_case()

    def forward(x, gamma):
        return x * gamma, (x, gamma)

    def backward(dout, cache):
        x, gamma = cache
        return dout, (dout * x).sum(axis=0)      # dx forgets gamma
    report = check_layer(forward, backward, x, gamma)
    dx = next(f for f in report.findings if f.array == "x")
    assert dx.kind == "axis_factor" and "the factor gamma is missing" in dx.text, report.diagnosis


def test_an_l2_term_with_the_wrong_factor_is_named_in_a_function():
    from gradcheck import check_function
    rng = np.random.default_rng(5)
    W, reg = rng.standard_normal((4, 3)), 0.1
    data = rng.standard_normal((4, 3))

    def f():
        loss = float(np.sum(data * W) + reg * np.sum(W * W))
        return loss, data + reg * W          # 2 reg W written reg W
    report = check_function(f, {"W": W})
    assert report.findings[0].kind == "l2" and "regularization" in report.diagnosis, report.diagnosis


# -- the line: issue 21's three cases, through the real command ----------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
LINE_CASES = [
    (["examples/seed.toml", "--impl", "examples/seeds_train.py:train_code2", "--impl-kind", "step"],
     "seeds_train.py", "delta = W[k].T @ delta", "propagates the error of layer 3 before its sigma'"),
    (["examples/nielsen_network.toml", "--impl",
      "examples/nielsen_network.py:DroppedPrimeNetwork([3, 4, 2]).backprop"],
     "nielsen_network.py", "delta = np.dot(self.weights[-layer + 1].transpose(), delta)",
     "delta^1 lacks sigma'(z^1)"),
    (["examples/nielsen_network.toml", "--impl",
      "examples/nielsen_network.py:SlippedNetwork([3, 4, 2]).backprop"],
     "nielsen_network.py", "sp = sigmoid_prime(activations[-layer])", "taken at a^1"),
    (["examples/corpus/python_course_eu.toml", "--impl", "examples/corpus/python_course_eu.py:"
      "NeuralNetwork(no_of_in_nodes=2, no_of_out_nodes=3, no_of_hidden_nodes=5, "
      "learning_rate=0.3).train"],
     "python_course_eu.py", "hidden_errors = self.weights_hidden_out.T @ output_error",
     "updates each layer's weights before it computes the delta below"),
]


@pytest.mark.parametrize("argv, file, code, words", LINE_CASES, ids=lambda v: str(v)[:30])
def test_the_diagnosis_names_the_wrong_line_in_text_and_json(argv, file, code, words):
    import json
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "gradcheck", *argv, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    where = report["findings"][0]["where"]
    assert where["file"].endswith(file) and where["text"] == code, report["diagnosis"]
    source = (ROOT / where["file"]).read_text().splitlines()
    assert code in source[where["line"] - 1]
    assert report["diagnosis"].startswith(f"{file} line {where['line']}: `{code}`")
    assert words in report["diagnosis"]
