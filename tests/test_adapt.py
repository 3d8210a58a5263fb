"""Code as written: every family of hand-written backprop in examples/ is checked by a config and a
command alone; the correct version passes and its planted-bug twin fails with the array named."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks import PluginError, gradcheck
from gradcheck.checks.adapt import ImplSpec
from gradcheck.checks.cli import main

DLAI = "lambda X, Y, parameters: {}(X, Y, forward_propagation_n(X, Y, parameters)[1])"
NNFS = "lambda X, y, model=Model(4, 8, 3{}): model.backward(model.forward(X, y), y)"
SCRATCH = ("lambda x_train, y_train, lr, net=build({}): "
           "net.fit(x_train[:, None, :], y_train[:, None, :], 1, lr)")

#: (config, file:TARGET, exit status, phrases in the report)
FAMILIES = [
    ("nielsen_network.toml", "nielsen_network.py:Network([3, 4, 2]).backprop", 0,
     ["called once per example", "W1 = self.weights[0]"]),
    ("nielsen_network.toml", "nielsen_network.py:SlippedNetwork([3, 4, 2]).backprop", 1,
     ["layer 1 (W1, b1)", "BP2"]),
    ("nielsen_network_sgd.toml", "nielsen_network.py:Network([3, 4, 2]).update_mini_batch", 0,
     ["(step)"]),
    ("nielsen_network2.toml",
     "nielsen_network2.py:partial(Network([3, 4, 2]).update_mini_batch, lmbda=5.0, n=100)", 0, []),
    ("nielsen_network2.toml",
     "nielsen_network2.py:partial(DecayingBiases([3, 4, 2]).update_mini_batch, lmbda=5.0, n=100)",
     1, ["b1, b2: each carries an extra 0.05 times itself", "weight decay applied to the biases"]),
    ("python_course.toml", "python_course.py:NeuralNetwork(3, 2, 5, learning_rate=0.1).train", 0,
     ["W1 = self.wih, W2 = self.who", "1-D vectors"]),
    ("python_course.toml", "python_course.py:UpdateFirst(3, 2, 5, learning_rate=0.1).train", 1,
     ["updates each layer's weights before it computes the delta below"]),
    ("cs231n.toml", "cs231n_two_layer.py:partial(TwoLayerNet(4, 10, 3).loss, reg=0.05)", 0,
     ["self.params['W1']"]),
    ("cs231n.toml", "cs231n_two_layer.py:partial(HalfReg(4, 10, 3).loss, reg=0.05)", 1,
     ["W2 carries the L2 term 1/2 times over"]),
    ("dlai_deep.toml", "dlai_deep.py:gradients", 0, []),
    ("dlai_deep.toml", "dlai_deep.py:lambda parameters, X, Y: L_model_backward("
     "*L_model_forward(X, parameters)[:1], Y, L_model_forward(X, parameters)[1])", 0, []),
    ("dlai_deep.toml", "dlai_deep.py:gradients_unaveraged_db", 1,
     ["b1, b2, b3 are each exactly m = 6 times"]),
    ("dlai_gradient_checking.toml", "dlai_gradient_checking.py:" + DLAI.format(
        "backward_propagation_n_fixed"), 0, []),
    ("dlai_gradient_checking.toml", "dlai_gradient_checking.py:" + DLAI.format(
        "backward_propagation_n"), 1, ["b1 is exactly 4 times", "W2 is exactly 2 times"]),
    ("nnfs.toml", "nnfs_layers.py:" + NNFS.format(""), 0, ["W1 = self.dense1.weights"]),
    ("nnfs.toml", "nnfs_layers.py:" + NNFS.format(", slip=True"), 1, ["layer 1 (W1, b1)"]),
    ("scratch.toml", "scratch_layers.py:" + SCRATCH.format(""), 0, ["W1 = self.layers[0].weights"]),
    ("scratch.toml", "scratch_layers.py:" + SCRATCH.format("mse_prime_bug"), 1,
     ["Every array is exactly 1/2 times"]),
    ("iamtrask.toml", "iamtrask.py:train_step", 0, []),
    ("seed.toml", "seeds_train.py:train_code2", 1, ["`code2`"]),
    ("script_arrays.toml", "script_arrays.py:gradients", 0, []),
    ("script_arrays.toml", "script_arrays.py:gradients_slip", 1, ["layer 1 (W1, b1)"]),
    ("script_arrays.toml", "script_arrays.py:train_step", 0,
     ["parameters found in the module's globals: W1 = W1"]),
    ("script_arrays.toml", "script_arrays.py:train_step_slip", 1, ["layer 1 (W1, b1)"]),
    ("script_arrays.toml", "script_arrays.py", 0,
     ["W1 = W1, b1 = b1, W2 = W2, b2 = b2", "learning_rate"]),
    ("corpus/mlfromscratch_mlp.toml", "corpus/mlfromscratch/supervised_learning/"
     "multilayer_perceptron.py:MultilayerPerceptron(n_hidden=5).fit", 0,
     ["W1 = self.W, b1 = self.w0"]),
    ("corpus/victorzhou_network.toml", "corpus/victorzhou_network.py:OurNeuralNetwork().train", 0,
     ["W1 = [[w1, w2], [w3, w4]]"]),
]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = main(list(map(str, argv)), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("config, target, status, phrases", FAMILIES,
                         ids=[(f[1].split(":") + [f[1]])[1][:40] for f in FAMILIES])
def test_each_family_is_checked_as_written(request, monkeypatch, config, target, status, phrases):
    examples = request.config.rootpath / "examples"
    monkeypatch.chdir(examples)
    got, out, err = run(config, "--impl", target)
    assert got == status, out + err
    for phrase in phrases:
        assert phrase in " ".join(out.split()), out


def test_one_family_through_the_real_command(request):
    examples = request.config.rootpath / "examples"
    proc = subprocess.run(
        [sys.executable, "-m", "gradcheck", "cs231n.toml", "--impl",
         "cs231n_two_layer.py:partial(HalfReg(4, 10, 3).loss, reg=0.05)", "--json"],
        capture_output=True, text=True, cwd=examples)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and [p["name"] for p in report["parameters"] if not p["passed"]] \
        == ["W2"]


class OnlineNet:
    """One example per call, a 1-D vector, the learning rate an attribute, biases as (n,)."""

    def __init__(self):
        self.W_in = np.zeros((4, 3))
        self.W_out = np.zeros((2, 4))
        self.b_in = np.zeros(4)
        self.b_out = np.zeros(2)
        self.lr = 0.5

    def train(self, input_vector, target_vector):
        h = np.tanh(self.W_in @ input_vector + self.b_in)
        o = self.W_out @ h + self.b_out
        d_o = o - target_vector
        d_h = (self.W_out.T @ d_o) * (1 - h * h)
        self.W_out -= self.lr * np.outer(d_o, h)
        self.b_out -= self.lr * d_o
        self.W_in -= self.lr * np.outer(d_h, input_vector)
        self.b_in -= self.lr * d_h


@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_an_online_sgd_method_is_compared_example_by_example(layout):
    net = Network([3, 4, 2], ["tanh", "identity"], "half_squared_error", layout=layout, seed=1)
    rng = np.random.default_rng(1)
    x, y = net.from_columns(rng.standard_normal((3, 5))), net.from_columns(rng.standard_normal((2, 5)))
    report = gradcheck(net, x, y, impl=OnlineNet().train)
    assert report.passed, str(report)
    assert any("called once per example (1-D vectors)" in n for n in report.notes)


def test_parameters_the_shapes_cannot_tell_apart_are_named_in_the_impl_table():
    class Square:
        def __init__(self):
            self.first, self.second = np.zeros((3, 3)), np.zeros((3, 3))

        def gradient(self, x, y):
            z1 = self.first @ x
            a1 = np.tanh(z1)
            d2 = self.second @ a1 - y
            d1 = (self.second.T @ d2) * (1 - a1 ** 2)
            return {"first": d1 @ x.T, "second": d2 @ a1.T}

    net = Network([3, 3, 3], ["tanh", "identity"], bias=False, seed=2)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert gradcheck(net, x, y, impl=Square().gradient).passed  # definition order decides
    swapped = gradcheck(net, x, y, impl=Square().gradient, impl_spec={"weights": ["second", "first"]})
    assert not swapped.passed


@pytest.mark.parametrize("table, message", [
    ({"kind": "stepp"}, "`impl.kind` must be one of gradient, step; got 'stepp' (did you mean 'step'?)"),
    ({"wieghts": ["a"]}, "unknown key `impl.wieghts` (did you mean 'weights'?)"),
    ({"labels": "ints"}, "`impl.labels` must be one of one_hot, integers"),
])
def test_a_bad_impl_table_names_the_key(table, message):
    with pytest.raises(ValueError) as info:
        ImplSpec.from_table(table)
    assert message in str(info.value)


def test_an_object_without_the_configs_arrays_gets_a_message_naming_the_impl_keys():
    class Elsewhere:
        def __init__(self):
            self.W = np.zeros((7, 7))

        def backprop(self, x, y):
            return [self.W]

    net = Network([3, 2], seed=0)
    with pytest.raises(PluginError, match=r"cannot find W1 .* \[impl\] table, e.g. weights = "):
        gradcheck(net, np.ones((3, 2)), np.zeros((2, 2)), impl=Elsewhere().backprop)


def test_a_python_2_file_gets_one_line_saying_so(tmp_path):
    (tmp_path / "net.toml").write_text("layers = [3, 2]\n")
    (tmp_path / "old.py").write_text("def f(w, b, x, y):\n    print 'hello'\n    return w, b\n")
    status, _, err = run(tmp_path / "net.toml", "--impl", f"{tmp_path / 'old.py'}:f")
    assert status == 2 and "is Python 2 code (line 2)" in err and err.count("\n") == 1


def test_the_plugin_folder_is_first_on_the_path_and_main_does_not_run(tmp_path):
    (tmp_path / "net.toml").write_text("layers = [3, 2]\nbias = false\n")
    (tmp_path / "helper.py").write_text("import numpy as np\ndef grad(W, x, y):\n"
                                        "    a = 1 / (1 + np.exp(-(W @ x)))\n"
                                        "    return ((a - y) * a * (1 - a)) @ x.T\n")
    (tmp_path / "mine.py").write_text(
        "from helper import grad\nclass Net:\n    def __init__(self):\n"
        "        import numpy as np\n        self.W = np.zeros((2, 3))\n"
        "    def backprop(self, x, y):\n        return [grad(self.W, x, y)]\n"
        "if __name__ == '__main__':\n    raise SystemExit('the main block ran')\n")
    status, out, err = run(tmp_path / "net.toml", "--impl", f"{tmp_path / 'mine.py'}:Net().backprop")
    assert status == 0, out + err


SCRIPT = '''import numpy as np
def sig(z):
    return 1 / (1 + np.exp(-z))
def gradients(X, Y, W1, b1, W2, b2):
    h = sig(X @ W1 + b1)
    o = sig(h @ W2 + b2)
    d2 = (o - Y) * o * (1 - o)
    d1 = (d2 @ W2.T) * h * (1 - h)
    return X.T @ d1, d1.sum(axis=0) * SLIP, h.T @ d2, d2.sum(axis=0)
'''

GLOBALS = '''import numpy as np
W1, b1 = np.zeros((3, 4)), np.zeros(4)
W2, b2 = np.zeros((4, 2)), np.zeros(2)
learning_rate = 0.5
def sig(z):
    return 1 / (1 + np.exp(-z))
def train_step(X, Y):
    global W1, b1, W2, b2
    h = sig(X @ W1 + b1)
    o = sig(h @ W2 + b2)
    d2 = (o - Y) * o * (1 - o)
    d1 = (d2 @ W2.T) * h * (1 - h)
    W2 = W2 - learning_rate * h.T @ d2
    b2 = b2 - learning_rate * d2.sum(axis=0)
    W1 = W1 - learning_rate * X.T @ d1 * SLIP
    b1 = b1 - learning_rate * d1.sum(axis=0)
'''


@pytest.mark.parametrize("source, target, wrong", [(SCRIPT, "gradients", "b1"),
                                                   (GLOBALS, "train_step", "W1")])
@pytest.mark.parametrize("slip", [1, 3])
def test_scripts_with_separate_arrays_or_module_globals_are_checked(tmp_path, source, target,
                                                                    wrong, slip):
    (tmp_path / "net.toml").write_text("layers = [3, 4, 2]\nlayout = 'rows'\nseed = 2\nbatch = 5\n")
    (tmp_path / "script.py").write_text(source.replace("SLIP", str(slip)))
    status, out, err = run(tmp_path / "net.toml", "--impl", f"{tmp_path / 'script.py'}:{target}")
    if slip == 1:
        assert status == 0, out + err
    else:
        assert status == 1 and f"{wrong} is exactly 3 times" in out, out + err


def test_code_that_wants_integer_labels_is_told_which_key_to_add(tmp_path):
    (tmp_path / "net.toml").write_text("layers = [4, 3]\nactivations = 'softmax'\n"
                                       "loss = 'categorical_cross_entropy'\nlayout = 'rows'\n")
    (tmp_path / "s.py").write_text(
        "import numpy as np\n"
        "def grad(X, y, W1, b1):\n"
        "    s = X @ W1 + b1\n"
        "    p = np.exp(s - s.max(axis=1, keepdims=True))\n"
        "    p /= p.sum(axis=1, keepdims=True)\n"
        "    p[np.arange(len(y)), y] -= 1\n"
        "    return X.T @ p, p.sum(axis=0)\n")
    status, _, err = run(tmp_path / "net.toml", "--impl", f"{tmp_path / 's.py'}:grad")
    assert status == 2 and 'add [impl] labels = "integers"' in err
    (tmp_path / "net.toml").write_text((tmp_path / "net.toml").read_text()
                                       + "[impl]\nlabels = 'integers'\n")
    assert run(tmp_path / "net.toml", "--impl", f"{tmp_path / 's.py'}:grad")[0] == 0


def test_gradients_returned_as_pairs_per_layer_from_layer_objects_in_a_list():
    class Dense:
        def __init__(self, n_in, n_out):
            self.W, self.b = np.zeros((n_in, n_out)), np.zeros(n_out)

    class Net:
        def __init__(self):
            self.layers = [Dense(3, 4), Dense(4, 2)]

        def gradients(self, X, Y):
            acts = [X]
            for layer in self.layers:
                acts.append(np.tanh(acts[-1] @ layer.W + layer.b))
            delta = (acts[-1] - Y) * (1 - acts[-1] ** 2)
            grads = []
            for k in reversed(range(len(self.layers))):
                grads.insert(0, (acts[k].T @ delta, delta.sum(axis=0)))
                delta = (delta @ self.layers[k].W.T) * (1 - acts[k] ** 2)
            return grads

    net = Network([3, 4, 2], "tanh", layout="rows", seed=3)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    report = gradcheck(net, x, y, impl=Net().gradients)
    assert report.passed, str(report)
    assert any("W1 = self.layers[0].W" in n for n in report.notes)


def test_a_python_2_name_at_call_time_says_python_2(tmp_path):
    (tmp_path / "net.toml").write_text("layers = [3, 2]\n")
    (tmp_path / "old.py").write_text("def f(w, b, x, y):\n    for k in xrange(3):\n        pass\n")
    status, _, err = run(tmp_path / "net.toml", "--impl", f"{tmp_path / 'old.py'}:f")
    assert status == 2 and "Python 2 code?" in err and err.count("\n") == 1


@pytest.mark.parametrize("reduction, per_call", [("sum", 1.0), ("batch_mean", 1.0), ("mean", 0.5)])
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_one_example_per_call_is_combined_as_the_reduction_combines_examples(reduction, per_call,
                                                                             l2):
    class PerSample:
        """Online SGD on one sample, its loss (1/2 sum (a - y)^2 times per_call) plus l2 ||W||^2."""

        def __init__(self):
            self.W1, self.W2 = np.zeros((4, 3)), np.zeros((2, 4))
            self.learning_rate = 0.1

        def train(self, x, y):
            h = np.tanh(self.W1 @ x)
            o = self.W2 @ h
            d2 = per_call * (o - y)
            d1 = (self.W2.T @ d2) * (1 - h ** 2)
            self.W2 -= self.learning_rate * (np.outer(d2, h) + 2 * l2 * self.W2)
            self.W1 -= self.learning_rate * (np.outer(d1, x) + 2 * l2 * self.W1)

    net = Network([3, 4, 2], ["tanh", "identity"], bias=False, reduction=reduction, l2=l2, seed=6)
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    report = gradcheck(net, x, y, impl=PerSample().train)
    assert report.passed, str(report)
    assert any(f'combined as the reduction "{reduction}"' in n for n in report.notes)
