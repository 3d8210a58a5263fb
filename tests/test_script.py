"""Code as written, watched: scripts run as they are, calls that draw their own weights, parameters
kept as scalars or in layer objects anywhere, and every way of reading them refused where the
evidence is not there.  A correct script passes and the same script with a slip fails."""

import io
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks import PluginError, gradcheck
from gradcheck.checks.cli import main
from gradcheck.checks.problem import Problem
from gradcheck.checks.script import ScriptReader
from gradcheck.checks.sources import gradient_from

ELEVEN_LINES = """
    import numpy as np

    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    y = np.array([[0, 1, 1, 0]]).T
    np.random.seed(1)
    syn0 = 2 * np.random.random((3, 4)) - 1
    syn1 = 2 * np.random.random((4, 1)) - 1
    {lr}
    for j in range(60000):
        l1 = 1 / (1 + np.exp(-(np.dot(X, syn0))))
        l2 = 1 / (1 + np.exp(-(np.dot(l1, syn1))))
        l2_delta = (y - l2) * (l2 * (1 - l2))
        l1_delta = l2_delta.dot(syn1.T) * {prime}
        syn1 += {step}l1.T.dot(l2_delta)
        syn0 += {step}X.T.dot(l1_delta)
"""
RIGHT = "(l1 * (1 - l1))"


def script(tmp_path, source, name="train.py", **fields):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source.format(**fields) if fields else source))
    return path


def eleven(tmp_path, lr="", step="", prime=RIGHT):
    return script(tmp_path, ELEVEN_LINES, lr=lr, step=step, prime=prime)


def rows_net(layers=(3, 4, 1), **kwargs):
    kwargs.setdefault("bias", False)
    return Network(list(layers), "sigmoid", "half_squared_error", layout="rows", seed=3, **kwargs)


def check(net, path, m=4, labels=None):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((m, net.layers[0]))
    y = rng.uniform(0.1, 0.9, (m, net.layers[-1]))
    spec = {"labels": labels} if labels else None
    problem = Problem(net, x, y)
    answer = ScriptReader(path, spec).answer(net, x, y, problem.step_lr)
    return problem, answer, gradient_from(problem, answer, path.name)


def agrees(problem, got):
    return all(np.allclose(got.gradient[n], problem.true_gradient[n], rtol=1e-9, atol=1e-12)
               for n in problem.net.names)


def test_a_module_level_loop_is_checked_at_its_first_update_with_an_implicit_rate_of_one(tmp_path):
    problem, answer, got = check(rows_net(), eleven(tmp_path))
    assert agrees(problem, got) and answer.lr == 1.0
    assert any("implicit rate of 1" in n for n in answer.notes)
    assert any("W1 = syn0, W2 = syn1" in n for n in answer.notes)
    assert any("X (4, 3)" in n and "y (4, 1)" in n for n in answer.notes)
    updated = {name: answer.trace.records[k] for name, k in answer.trace.updated}
    assert updated["W2"].text == "syn1 += l1.T.dot(l2_delta)" and updated["W1"].name == "syn0"


def test_a_learning_rate_the_script_names_is_set_to_the_one_gradcheck_asks_for(tmp_path):
    problem, answer, got = check(rows_net(), eleven(tmp_path, lr="lr = 0.1", step="lr * "))
    assert agrees(problem, got) and answer.lr == problem.step_lr
    assert any("learning rate set to" in n and "lr (train.py line 9)" in n for n in answer.notes)


def test_a_rate_named_alpha_is_read_from_the_update_line_not_set(tmp_path):
    problem, answer, got = check(rows_net(), eleven(tmp_path, lr="alpha = 0.25",
                                                    step="alpha * "))
    assert agrees(problem, got) and answer.lr == 0.25
    assert any("`alpha` in the update" in n for n in answer.notes)


def test_a_slip_in_the_script_fails_the_array_it_touches(tmp_path):
    problem, _, got = check(rows_net(), eleven(tmp_path, prime="1"))
    assert not np.allclose(got.gradient["W1"], problem.true_gradient["W1"])
    np.testing.assert_allclose(got.gradient["W2"], problem.true_gradient["W2"], rtol=1e-9)


MAIN_BLOCK = """
    import numpy as np

    def train(X, y, syn0, syn1, epochs=60000):
        for j in range(epochs):
            l1 = 1 / (1 + np.exp(-(np.dot(X, syn0))))
            l2 = 1 / (1 + np.exp(-(np.dot(l1, syn1))))
            l2_delta = (y - l2) * (l2 * (1 - l2))
            l1_delta = l2_delta.dot(syn1.T) * (l1 * (1 - l1))
            syn1 += l1.T.dot(l2_delta)
            syn0 += X.T.dot(l1_delta)

    if __name__ == "__main__":
        X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
        y = np.array([[0, 1, 1, 0]]).T
        train(X, y, 2 * np.random.random((3, 4)) - 1, 2 * np.random.random((4, 1)) - 1)
"""


def test_the_script_runs_as_the_program_and_its_main_block_runs_too(tmp_path):
    problem, answer, got = check(rows_net(), script(tmp_path, MAIN_BLOCK))
    assert agrees(problem, got)
    assert any("W1 = syn0 (a local of train)" in n for n in answer.notes)


ONLINE = """
    import numpy as np

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    data = np.random.rand(20, 3)
    targets = np.random.rand(20, 1)
    W1 = np.random.randn(3, 4)
    W2 = np.random.randn(4, 1)
    learning_rate = 0.5
    for epoch in range(100):
        for x, t in zip(data, targets):
            h = sigmoid(x @ W1)
            o = sigmoid(h @ W2)
            d2 = (o - t) * o * (1 - o)
            d1 = (W2 @ d2) * h * (1 - h)
            W2 -= learning_rate * np.outer(h, d2)
            W1 -= learning_rate * np.outer(x, d1)
"""


def test_a_script_that_steps_one_example_at_a_time_is_checked_on_a_batch_of_one(tmp_path):
    problem, _, got = check(rows_net(), script(tmp_path, ONLINE), m=1)
    assert agrees(problem, got)


def test_on_a_larger_batch_a_one_example_step_is_refused_naming_the_batch_key(tmp_path):
    with pytest.raises(PluginError, match="set batch = 1"):
        check(rows_net(), script(tmp_path, ONLINE), m=4)


def test_a_script_whose_batch_cannot_be_found_is_stopped_once_its_loop_runs(tmp_path):
    source = ELEVEN_LINES.format(lr="", step="", prime=RIGHT).replace(
        "y = np.array([[0, 1, 1, 0]]).T", "y = (0, 1, 1, 0)").replace(
        "(y - l2)", "(np.array(y)[:, None] - l2)")
    with pytest.raises(PluginError, match=r"could not find the batch .* saw were X \(4, 3\).*the code "
                                          r"updated syn1 at train.py line 15 again"):
        check(rows_net(), script(tmp_path, source))


def test_a_network_with_biases_the_script_does_not_have_is_told_to_set_bias_false(tmp_path):
    with pytest.raises(PluginError, match="b1 .*set bias = false"):
        check(rows_net(bias=True), eleven(tmp_path))


LAYERS = """
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.weights = 0.1 * np.random.randn(n_in, n_out)
            self.biases = np.zeros((1, n_out))

        def forward(self, inputs):
            self.inputs = inputs
            self.output = inputs @ self.weights + self.biases

        def backward(self, d):
            self.dweights = self.inputs.T @ d
            self.dbiases = d.sum(axis=0, keepdims=True)
            self.dinputs = d @ self.weights.T

    class SGD:
        def __init__(self, learning_rate=1.0):
            self.learning_rate = learning_rate

        def update(self, layer):
            layer.weights -= self.learning_rate * layer.dweights
            layer.biases -= self.learning_rate * layer.dbiases

    X = np.random.randn(50, 3)
    y = np.random.rand(50, 2)
    dense1, dense2 = Dense(3, 5), Dense(5, 2)
    optimizer = SGD()
    for epoch in range(1000):
        dense1.forward(X)
        a1 = np.tanh(dense1.output)
        dense2.forward(a1)
        d2 = (dense2.output - y) / len(X)
        dense2.backward(d2)
        dense1.backward(dense2.dinputs * (1 - a1 ** 2))
        optimizer.update(dense1)
        optimizer.update(dense2)
"""


def test_layer_objects_and_an_optimizer_at_module_level_are_found_by_shape(tmp_path):
    net = Network([3, 5, 2], ["tanh", "identity"], "half_squared_error", layout="rows",
                  reduction="batch_mean", seed=1)
    problem, answer, got = check(net, script(tmp_path, LAYERS), m=6)
    assert agrees(problem, got)
    assert any("W1 = dense1.weights, b1 = dense1.biases, W2 = dense2.weights" in n
               for n in answer.notes)
    assert any("learning_rate" in n for n in answer.notes)


def test_a_script_that_never_updates_its_parameters_is_not_a_training_step(tmp_path):
    source = LAYERS.replace("optimizer.update(dense1)", "pass").replace(
        "optimizer.update(dense2)", "break")
    net = Network([3, 5, 2], ["tanh", "identity"], layout="rows", reduction="batch_mean")
    with pytest.raises(PluginError, match="did not update them"):
        check(net, script(tmp_path, source), m=6)


def test_a_script_that_raises_names_its_line_and_how_far_gradcheck_had_come(tmp_path):
    source = ELEVEN_LINES.format(lr="", step="", prime="(1 / 0)")
    with pytest.raises(PluginError, match=r"ZeroDivisionError.*train.py line 14.*found its "
                                          r"parameters"):
        check(rows_net(), script(tmp_path, source))


def run(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    status = main(argv + ["--json"], stdout=out, stderr=err)
    return status, json.loads(out.getvalue()), err.getvalue()


CONFIG = """layers = [3, 4, 1]
activations = "sigmoid"
loss = "half_squared_error"
bias = false
layout = "rows"
batch = 4
"""


def test_the_command_checks_a_script_given_as_a_file_alone(tmp_path, monkeypatch):
    eleven(tmp_path)
    (tmp_path / "net.toml").write_text(CONFIG)
    status, report, _ = run(["net.toml", "--impl", "train.py"], tmp_path, monkeypatch)
    assert status == 0 and report["passed"]
    eleven(tmp_path, prime="1")
    status, report, _ = run(["net.toml", "--impl", "train.py"], tmp_path, monkeypatch)
    assert status == 1 and [p["name"] for p in report["parameters"] if not p["passed"]] == ["W1"]


def test_a_script_that_loops_forever_before_training_is_ended_by_the_timeout(tmp_path, monkeypatch):
    script(tmp_path, "while True:\n    pass\n")
    (tmp_path / "net.toml").write_text(CONFIG)
    status, report, err = run(["net.toml", "--impl", "train.py", "--timeout", "2"], tmp_path,
                              monkeypatch)
    assert status == 2 and "did not return within 2 s" in report["error"]


def test_a_script_that_shows_a_plot_does_not_block(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    source = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"
    eleven(tmp_path)
    text = (tmp_path / "train.py").read_text()
    (tmp_path / "train.py").write_text(source + text)
    (tmp_path / "net.toml").write_text(CONFIG)
    status, _, _ = run(["net.toml", "--impl", "train.py", "--timeout", "60"], tmp_path, monkeypatch)
    assert status == 0


def test_a_gradient_kind_is_refused_for_a_script(tmp_path, monkeypatch):
    eleven(tmp_path)
    (tmp_path / "net.toml").write_text(CONFIG)
    status, report, _ = run(["net.toml", "--impl", "train.py", "--impl-kind", "gradient"],
                            tmp_path, monkeypatch)
    assert status == 2 and "takes a step" in report["error"]


# -- calls read by watching them ---------------------------------------------------------------------
DRAWS_ITS_OWN = """
    import numpy as np

    class MLP:
        def __init__(self, n_hidden, n_iterations=1000, learning_rate=0.01):
            self.n_hidden, self.n_iterations = n_hidden, n_iterations
            self.learning_rate = learning_rate

        def fit(self, X, y):
            self.W = np.random.uniform(-1, 1, (X.shape[1], self.n_hidden))
            self.w0 = np.zeros((1, self.n_hidden))
            self.V = np.random.uniform(-1, 1, (self.n_hidden, y.shape[1]))
            self.v0 = np.zeros((1, y.shape[1]))
            for i in range(self.n_iterations):
                h = np.tanh(X.dot(self.W) + self.w0)
                out = h.dot(self.V) + self.v0
                d_out = out - y
                d_h = d_out.dot(self.V.T) * (1 - {derivative})
                self.V -= self.learning_rate * h.T.dot(d_out)
                self.v0 -= self.learning_rate * d_out.sum(axis=0, keepdims=True)
                self.W -= self.learning_rate * X.T.dot(d_h)
                self.w0 -= self.learning_rate * d_h.sum(axis=0, keepdims=True)
"""


def load(tmp_path, source, name="mine", **fields):
    path = script(tmp_path, source, f"{name}.py", **fields)
    sys.path.insert(0, str(tmp_path))
    try:
        namespace = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
    finally:
        sys.path.remove(str(tmp_path))
    return namespace


def mlp_net():
    return Network([3, 5, 2], ["tanh", "identity"], "half_squared_error", layout="rows", seed=4)


def batch(net, m=6):
    rng = np.random.default_rng(1)
    return rng.standard_normal((m, net.layers[0])), rng.standard_normal((m, net.layers[-1]))


@pytest.mark.parametrize("derivative, passes", [("h ** 2", True), ("h", False)])
def test_a_fit_that_draws_its_own_weights_is_watched_for_one_step(tmp_path, derivative, passes):
    namespace = load(tmp_path, DRAWS_ITS_OWN, derivative=derivative)
    net = mlp_net()
    x, y = batch(net)
    report = gradcheck(net, x, y, impl=namespace["MLP"](5, n_iterations=1000).fit)
    assert report.passed == passes
    assert any("W1 = self.W, b1 = self.w0, W2 = self.V, b2 = self.v0" in n for n in report.notes)
    if not passes:
        assert {p.name for p in report.parameters if not p.passed} == {"W1", "b1"}


SCALARS = """
    import numpy as np

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    class Net:
        def __init__(self):
            for name in ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"):
                setattr(self, name, np.random.normal())

        def train(self, data, all_y_trues):
            learn_rate = 0.1
            for epoch in range(1000):
                for x, y_true in zip(data, all_y_trues):
                    s1 = self.w1 * x[0] + self.w2 * x[1] + self.b1
                    h1 = sigmoid(s1)
                    s2 = self.w3 * x[0] + self.w4 * x[1] + self.b2
                    h2 = sigmoid(s2)
                    so = self.w5 * h1 + self.w6 * h2 + self.b3
                    o = sigmoid(so)
                    d = -2 * (y_true - o) * o * (1 - o)
                    d1 = d * self.w5 * h1 * (1 - h1)
                    d2 = d * self.w6 * h2 * (1 - h2)
                    self.w1 -= learn_rate * d1 * x[0]
                    self.w2 -= learn_rate * d1 * x[1]
                    self.b1 -= learn_rate * d1
                    self.w3 -= learn_rate * d2 * x[0]
                    self.w4 -= learn_rate * d2 * {x1}
                    self.b2 -= learn_rate * d2
                    self.w5 -= learn_rate * d * h1
                    self.w6 -= learn_rate * d * h2
                    self.b3 -= learn_rate * d
"""


@pytest.mark.parametrize("x1, passes", [("x[1]", True), ("x[0]", False)])
def test_scalar_attributes_are_assembled_unit_by_unit_and_the_mapping_is_said(tmp_path, x1, passes):
    namespace = load(tmp_path, SCALARS, x1=x1)
    net = Network([2, 2, 1], "sigmoid", "squared_error", seed=6)
    x, y = np.array([[0.7], [-1.3]]), np.array([[0.8]])
    report = gradcheck(net, x, y, impl=namespace["Net"]().train)
    assert report.passed == passes
    assert any("W1 = [[w1, w2], [w3, w4]]" in n and "b2 = [b3]" in n for n in report.notes)
    assert any("learn_rate" in n for n in report.notes)


GLOBAL_NETS = """
    import numpy as np

    class Net:
        def __init__(self, seed):
            rng = np.random.default_rng(seed)
            self.W1 = rng.standard_normal((4, 3))
            self.W2 = rng.standard_normal((2, 4))

    old = Net(0)
    new = Net(1)

    def gradient(x, y):
        a1 = np.tanh(new.W1 @ x)
        a2 = np.tanh(new.W2 @ a1)
        d2 = (a2 - y) * (1 - a2 ** 2)
        d1 = (new.W2.T @ d2) * (1 - a1 ** 2)
        return [d1 @ x.T, d2 @ a1.T]
"""


def test_of_two_global_networks_of_the_same_shapes_the_one_the_code_reads_is_taken(tmp_path):
    namespace = load(tmp_path, GLOBAL_NETS)
    net = Network([3, 4, 2], "tanh", bias=False, seed=2)
    rng = np.random.default_rng(2)
    report = gradcheck(net, rng.standard_normal((3, 5)), rng.standard_normal((2, 5)),
                       impl=namespace["gradient"])
    assert report.passed
    assert any("W1 = new.W1, W2 = new.W2" in n for n in report.notes)


LAMBDA_LAYERS = """
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.weights = np.random.randn(n_in, n_out)

        def __call__(self, x):
            self.x = x
            return np.tanh(x @ self.weights)

    class Model:
        def __init__(self):
            self.layers = [Dense(3, 4), Dense(4, 2)]

        def grads(self, X, y):
            a = [X]
            for layer in self.layers:
                a.append(layer(a[-1]))
            d = (a[-1] - y) * (1 - a[-1] ** 2)
            out = []
            for k in (1, 0):
                out.insert(0, a[k].T @ d)
                d = (d @ self.layers[k].weights.T) * (1 - a[k] ** 2)
            return out
"""


def test_a_network_of_callable_layers_in_a_lambdas_default_is_found(tmp_path):
    namespace = load(tmp_path, LAMBDA_LAYERS)
    net = Network([3, 4, 2], "tanh", bias=False, layout="rows", seed=2)
    x, y = batch(net, 5)
    model = namespace["Model"]()
    report = gradcheck(net, x, y, impl=lambda X, y, model=model: model.grads(X, y))
    assert report.passed
    assert any("W1 = self.layers[0].weights" in n for n in report.notes)


MINIBATCH = """
    import numpy as np

    class Net:
        def __init__(self):
            self.params = {"W1": np.random.randn(3, 4), "W2": np.random.randn(4, 2)}

        def loss(self, X, y):
            W1, W2 = self.params["W1"], self.params["W2"]
            a1 = np.tanh(X @ W1)
            a2 = np.tanh(a1 @ W2)
            d2 = (a2 - y) * (1 - a2 ** 2) / len(X)
            d1 = (d2 @ W2.T) * (1 - a1 ** 2)
            return {"W1": X.T @ d1, "W2": a1.T @ d2}

        def train(self, X, y, learning_rate, batch_size):
            idx = np.random.choice(len(X), batch_size, replace=True)
            X_batch, y_batch = X[idx], y[idx]
            grads = self.loss(X_batch, y_batch)
            for k in self.params:
                self.params[k] -= learning_rate * grads[k]
"""


def test_a_minibatch_the_code_draws_itself_from_the_batch_is_replaced_by_the_batch(tmp_path):
    namespace = load(tmp_path, MINIBATCH)
    net = Network([3, 4, 2], "tanh", bias=False, layout="rows", reduction="batch_mean", seed=2)
    x, y = batch(net, 5)
    model = namespace["Net"]()
    report = gradcheck(net, x, y, impl=lambda X, y, learning_rate, net=model: net.train(
        X, y, learning_rate, len(X)))
    assert report.passed
    assert any("draws its own minibatch" in n and "X_batch" in n for n in report.notes)


class Returns:
    """A model whose train() returns what it likes: nothing useful, or (loss, accuracy) after a
    step taken in place."""

    def __init__(self, net, what, step):
        self.W1, self.b1, self.W2, self.b2 = (a.T.copy() for a in net.parameters().values())
        self.what, self.step, self.net = what, step, net

    def train(self, X, y, learning_rate=0.1):
        if self.step:
            from gradcheck.backprop import backward
            net = self.net.copy()
            net.set_parameters([self.W1.T, self.W2.T], [self.b1.T, self.b2.T])
            (dW1, dW2), (db1, db2) = backward(net, X.T, y.T)
            for p, g in ((self.W1, dW1), (self.b1, db1), (self.W2, dW2), (self.b2, db2)):
                p -= learning_rate * g.T
        return self.what


@pytest.mark.parametrize("what", [(None, None), (0.5, 0.75)])
def test_a_tuple_of_nones_or_a_loss_and_accuracy_pair_is_no_gradient(what):
    net = mlp_net()
    net = Network(list(net.layers), ["tanh", "identity"], layout="columns", seed=4)
    x, y = (a.T for a in batch(net))
    model = Returns(net, what, step=False)
    with pytest.raises(PluginError, match="returned no arrays and did not change its parameters"):
        gradcheck(net, x, y, impl=lambda X, y: model.train(X, y))
    assert gradcheck(net, x, y, impl=Returns(net, what, step=True).train).passed


def test_a_keepdims_gradient_is_compared_by_value_with_a_note():
    net = Network([3, 2], "tanh", layout="rows", seed=1)
    x, y = batch(net, 4)
    from gradcheck.backprop import backward

    def keepdims(weights, biases, x_, y_):
        nabla_w, nabla_b = backward(net, x_, y_)
        return nabla_w, [b[None, :, :] for b in nabla_b]

    report = gradcheck(net, x, y, impl=keepdims)
    assert report.passed
    assert any("only by axes of length 1" in n for n in report.notes)


def test_parameters_nowhere_to_be_found_say_what_was_inspected():
    net, (x, y) = mlp_net(), batch(mlp_net())

    def no_parameters(X, y):
        return [np.zeros((3, 5))]

    with pytest.raises(PluginError) as e:
        gradcheck(net, x, y, impl=no_parameters)
    assert "takes no parameters" in str(e.value) and "watching one call" in str(e.value)


NIELSEN_DATA = {
    "labels made on one line": """
        for x in xs:
            y = np.zeros((2, 1)); y[int(x.sum() > 0)] = 1.0
            ys.append(y)
        data = list(zip(xs, ys))
    """,
    "labels filled in below": """
        for x in xs:
            y = np.zeros((2, 1))
            y[int(x.sum() > 0)] = 1.0
            ys.append(y)
        data = list(zip(xs, ys))
    """,
    "pairs appended one by one": """
        data = []
        for i in range(40):
            x = np.random.randn(4, 1)
            y = np.zeros((2, 1))
            y[int(x[0, 0] > 0)] = 1.0
            data.append((x, y))
    """,
}
NIELSEN_SCRIPT = """
import numpy as np
import nielsen_network as network
np.random.seed(3)
xs = [np.random.randn(4, 1) for _ in range(10)]
ys = []
{data}
net = network.{cls}([4, 5, 3, 2])
net.SGD(data, 1, 10, 3.0)
"""


@pytest.mark.parametrize("how", sorted(NIELSEN_DATA))
def test_examples_filled_in_one_at_a_time_are_not_the_batch_the_data_set_is(tmp_path, monkeypatch,
                                                                           how):
    # a toy data set whose labels are made from each x, or pairs appended one at a time: x and y
    # meet there as single examples, being filled in; the batch is the data set SGD trains on
    # (found by a newcomer: the single example was taken for the batch, and correct code failed)
    network = Path(__file__).resolve().parents[1] / "examples" / "nielsen_network.py"
    (tmp_path / "nielsen_network.py").write_text(network.read_text())  # the user's own file
    data = textwrap.dedent(NIELSEN_DATA[how]).strip()
    (tmp_path / "net.toml").write_text('layers = [4, 5, 3, 2]\nactivations = "sigmoid"\n'
                                       'loss = "half_squared_error"\nreduction = "batch_mean"\n'
                                       'batch = 10\n')
    for cls, expected in (("Network", 0), ("SlippedNetwork", 1)):
        (tmp_path / "train.py").write_text(NIELSEN_SCRIPT.format(data=data, cls=cls))
        status, report, err = run(["net.toml", "--impl", "train.py"], tmp_path, monkeypatch)
        assert status == expected, (cls, err, report.get("diagnosis"))
        if expected:
            assert [p["name"] for p in report["parameters"] if not p["passed"]] == [
                "W1", "b1", "W2", "b2"]
