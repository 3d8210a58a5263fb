import json

import numpy as np
import pytest

from gradcheck.backprop import ConfigError, Network, load_config, save_config

EXAMPLES = ["seed", "nielsen", "iamtrask", "softmax"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_config_loads(name, request):
    net, x, y = load_config(request.config.rootpath / "examples" / f"{name}.toml")
    assert net.batch_size(x) == net.batch_size(y) >= 1


@pytest.mark.parametrize("layout", ["columns", "rows"])
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_then_load_gives_back_an_identical_network_and_batch(tmp_path, layout, suffix):
    net = Network([3, 4, 2], ["relu", "softmax"], "categorical_cross_entropy", layout=layout, seed=7)
    x = net.from_columns(np.random.default_rng(0).standard_normal((3, 5)))
    y = net.from_columns(np.eye(2)[:, [0, 1, 1, 0, 1]])
    path = save_config(tmp_path / f"net{suffix}", net, x, y)
    again, x2, y2 = load_config(path)
    assert repr(again) == repr(net)
    np.testing.assert_array_equal(again.theta, net.theta)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_a_network_without_biases_round_trips(tmp_path):
    net = Network([3, 2, 2], "tanh", bias=False, seed=3)
    again, _, _ = load_config(save_config(tmp_path / "nobias.toml", net))
    assert not again.bias
    np.testing.assert_array_equal(again.theta, net.theta)


def write(tmp_path, text, name="net.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_CONFIGS = [
    ("layers = [3, 2", "TOML syntax error"),
    ("activations = 'sigmoid'", "missing field `layers`"),
    ("layers = [3, 0]", "`layers[1]` must be a positive integer; got 0"),
    ("layers = [3, 2]\nactivation = 'relu'", "unknown field 'activation' (did you mean 'activations'?)"),
    ("layers = [3, 2]\nactivations = 'sigmod'", "(did you mean 'sigmoid'?)"),
    ("layers = [3, 2]\nloss = 'half_squared_eror'", "(did you mean 'half_squared_error'?)"),
    ("layers = [3, 2]\nbias = 'no'", "`bias` must be true or false; got 'no'"),
    ("layers = [3, 2]\nbatch = 0", "`batch` must be a positive integer; got 0"),
    ("layers = [3, 2]\nseed = -1", "`seed` must be a non-negative integer; got -1"),
    ("layers = [3, 2]\nweights = 'missing.npz'", "does not exist"),
    ("layers = [100000, 100000, 10]", "GiB for the network alone"),
]


@pytest.mark.parametrize("text, message", BAD_CONFIGS)
def test_bad_configs_are_refused_with_a_message_naming_the_problem(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert message in str(info.value)


def test_json_syntax_errors_name_the_line(tmp_path):
    with pytest.raises(ConfigError, match="JSON syntax error at line 2"):
        load_config(write(tmp_path, '{"layers": [3, 2],\n oops}', "net.json"))


@pytest.mark.parametrize("arrays, message", [
    (dict(W1=np.zeros((2, 3)), W2=np.zeros((1, 2))), "has no array 'b1'"),
    (dict(W1=np.zeros((3, 2)), b1=np.zeros((2, 1)), W2=np.zeros((1, 2)), b2=np.zeros((1, 1))),
     "W1 has shape (3, 2); the config's layers need (2, 3)"),
    (dict(W1=np.full((2, 3), np.nan), b1=np.zeros((2, 1)), W2=np.zeros((1, 2)), b2=np.zeros((1, 1))),
     "W1 contains NaN"),
    (dict(W1=np.array([[{}] * 3] * 2, dtype=object), b1=np.zeros((2, 1)), W2=np.zeros((1, 2)),
          b2=np.zeros((1, 1))), "pickles are refused"),
])
def test_bad_weight_files_are_refused_before_use(tmp_path, arrays, message):
    np.savez(tmp_path / "w.npz", **arrays)
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "layers = [3, 2, 1]\nweights = 'w.npz'"))
    assert message in str(info.value)


def test_a_pickle_inside_an_npz_is_never_unpickled(tmp_path, monkeypatch):
    import pickle
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: calls.append(a))
    np.savez(tmp_path / "d.npz", x=np.array([object()] * 3, dtype=object).reshape(3, 1),
             y=np.zeros((2, 1)))
    with pytest.raises(ConfigError, match="pickles are refused"):
        load_config(write(tmp_path, "layers = [3, 2]\ndata = 'd.npz'"))
    assert calls == []


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    net = Network([2, 2], seed=0)
    save_config(sub / "n.toml", net)
    monkeypatch.chdir(tmp_path)
    again, _, _ = load_config("sub/n.toml")
    np.testing.assert_array_equal(again.theta, net.theta)


def test_a_json_config_is_read_like_toml(tmp_path):
    path = write(tmp_path, json.dumps({"layers": [2, 3, 1], "bias": False}), "n.json")
    net, x, y = load_config(path)
    assert net.layers == (2, 3, 1) and not net.bias and x.shape == (2, 10)
