import io
import json
import subprocess
import sys

import numpy as np
import pytest

from gradcheck.backprop import VARIANTS, Network, save_config
from gradcheck.checks.cli import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = main(list(map(str, argv)), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def examples(request):
    return request.config.rootpath / "examples"


def test_the_correct_pass_exits_0_and_code2_exits_1_with_its_diagnosis(examples):
    status, out, _ = run(examples / "nielsen.toml")
    assert status == 0 and "PASSED" in out
    status, out, _ = run(examples / "seed.toml", "--variant", "code2")
    assert status == 1 and "first wrong layer in backward order" in out and "`code2`" in out


def test_json_output_has_the_contract_keys(examples):
    status, out, _ = run(examples / "softmax.toml", "--variant", "factor_two", "--json")
    report = json.loads(out)
    assert status == 1 and report["passed"] is False
    assert isinstance(report["max_relative_error"], float)
    assert all({"name", "passed", "max_relative_error"} <= set(p) for p in report["parameters"])
    assert "exactly 2 times" in report["diagnosis"]


@pytest.mark.parametrize("argv, status, phrase", [
    (["seed.toml", "--impl", "seeds_train.py:train_code1", "--impl-kind", "step"], 0, "PASSED"),
    (["seed.toml", "--impl", "seeds_train.py:train_code2", "--impl-kind", "step"], 1,
     "first wrong layer in backward order"),
    (["nielsen.toml", "--impl", "nielsen_backprop.py:gradient"], 0, "PASSED"),
    (["nielsen.toml", "--impl", "nielsen_backprop.py:gradient_overwriting"], 1,
     "overwrites nabla_w and nabla_b"),
    (["iamtrask.toml", "--impl", "iamtrask.py:train_step", "--impl-kind", "step"], 0, "PASSED"),
    (["iamtrask.toml", "--impl", "iamtrask.py:train_step_tutorial", "--impl-kind", "step"], 1,
     "`code2`"),
])
def test_the_example_plugins_are_checked_as_the_readme_says(examples, argv, status, phrase):
    argv = [str(examples / a) if a.endswith((".toml", ".py")) or ".py:" in a else a for a in argv]
    got, out, err = run(*argv)
    assert got == status and phrase in out, out + err


def test_list_variants_prints_one_line_each():
    status, out, _ = run("--list-variants")
    lines = out.strip().splitlines()
    assert status == 0 and len(lines) == len(VARIANTS) and lines[1].startswith("code2 ")


PLUGINS = {
    "raises.py": "def f(w, b, x, y):\n    return 1 / 0\n",
    "none.py": "def f(w, b, x, y):\n    return None\n",
    "count.py": "def f(w, b, x, y):\n    return [w[0]], b\n",
    "shape.py": "def f(w, b, x, y):\n    return [a.T for a in w], b\n",
    "nan.py": "import numpy as np\ndef f(w, b, x, y):\n    return [a * np.nan for a in w], b\n",
    "order.py": "def f(w, b, x, y):\n    return b, w\n",
    "syntax.py": "def f(w, b, x, y)\n    return w, b\n",
    "importerr.py": "import not_a_module_anywhere\n",
}


@pytest.mark.parametrize("files, argv, phrase", [
    ({}, ["missing.toml"], "does not exist"),
    ({"net.toml": "layers = [3, 2"}, ["net.toml"], "TOML syntax error"),
    ({"net.json": "{\"layers\": [3, 2],}"}, ["net.json"], "JSON syntax error"),
    ({"net.toml": "layers = [3, 'x']"}, ["net.toml"], "`layers[1]` must be a positive integer"),
    ({"net.toml": "layers = [3, 2]\nactivations = 'sigmod'"}, ["net.toml"], "did you mean 'sigmoid'"),
    ({"net.toml": "layers = [3, 2]\nloss = 'crossentropy'"}, ["net.toml"], "`loss` must be one of"),
    ({"net.toml": "layers = [3, 2]\nlayout = 'colums'"}, ["net.toml"], "did you mean 'columns'"),
    ({"net.toml": "layers = [3, 2]\nbatch = -4"}, ["net.toml"], "`batch` must be a positive integer"),
    ({"net.toml": "layers = [3, 2]\nwieghts = 'w.npz'"}, ["net.toml"], "did you mean 'weights'"),
    ({"net.toml": "layers = [200000, 200000, 10]"}, ["net.toml"], "GiB of memory"),
    ({"net.toml": "layers = [3, 2]\nweights = 'w.npz'", "w.npz": "not a zip"}, ["net.toml"],
     "is not an .npz archive"),
    ({"net.toml": "layers = [3, 2]"}, ["net.toml", "--variant", "code3"], "did you mean 'code2'"),
    ({"net.toml": "layers = [3, 2]"}, ["net.toml", "--impl", "nofile.py:f"], "does not exist"),
    ({"net.toml": "layers = [3, 2]"}, ["net.toml", "--impl", "justafile.py"], "FILE.py:TARGET"),
    ({"net.toml": "layers = [3, 2]", "p.py": "def g(): pass\n"}, ["net.toml", "--impl", "p.py:f"],
     "has no 'f' (it defines g)"),
    ({"net.toml": "layers = [3, 2]", "raises.py": PLUGINS["raises.py"]},
     ["net.toml", "--impl", "raises.py:f"], "raised ZeroDivisionError: division by zero (at raises.py line 2)"),
    ({"net.toml": "layers = [3, 2]", "none.py": PLUGINS["none.py"]},
     ["net.toml", "--impl", "none.py:f"], "returned None"),
    ({"net.toml": "layers = [3, 4, 2]", "count.py": PLUGINS["count.py"]},
     ["net.toml", "--impl", "count.py:f"], "returned 1 arrays for nabla_w; the network has 2"),
    ({"net.toml": "layers = [3, 2]", "shape.py": PLUGINS["shape.py"]},
     ["net.toml", "--impl", "shape.py:f"], "shape (3, 2); the network needs (2, 3) (its transpose"),
    ({"net.toml": "layers = [3, 2]", "syntax.py": PLUGINS["syntax.py"]},
     ["net.toml", "--impl", "syntax.py:f"], "cannot import syntax.py"),
    ({"net.toml": "layers = [3, 2]", "importerr.py": PLUGINS["importerr.py"]},
     ["net.toml", "--impl", "importerr.py:f"], "ModuleNotFoundError"),
    ({"net.toml": "layers = [3, 2]"}, ["net.toml", "--impl-kind", "step"], "needs --impl"),
    ({}, ["--method", "exact", "x.toml"], "invalid choice"),
    ({}, [], "the config file is missing"),
    ({"net.toml": "layers = [2, 3, 1]"}, ["net.toml", "--variant", "missing_transpose"],
     "variant 'missing_transpose' cannot run on layers [2, 3, 1]"),
])
def test_every_bad_input_exits_2_with_one_line_naming_it(tmp_path, monkeypatch, files, argv, phrase):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    status, out, err = run(*argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradcheck: error: ") and phrase in err, err
    assert "Traceback" not in err


def test_nan_weights_and_pickles_in_npz_files_exit_2(tmp_path):
    net = Network([3, 2], seed=0)
    save_config(tmp_path / "n.toml", net)
    np.savez(tmp_path / "n-weights.npz", W1=np.full((2, 3), np.inf), b1=np.zeros((2, 1)))
    assert run(tmp_path / "n.toml")[0] == 2
    np.savez(tmp_path / "n-weights.npz", W1=np.array([[None] * 3] * 2), b1=np.zeros((2, 1)))
    status, _, err = run(tmp_path / "n.toml")
    assert status == 2 and "pickles are refused" in err


def test_the_command_runs_as_a_real_subprocess(examples):
    proc = subprocess.run([sys.executable, "-m", "gradcheck", str(examples / "seed.toml"),
                           "--variant", "code2", "--json"], capture_output=True, text=True)
    assert proc.returncode == 1 and json.loads(proc.stdout)["passed"] is False
    proc = subprocess.run([sys.executable, "-m", "gradcheck", "nowhere.toml"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_help_goes_to_the_stream_passed_in_and_describes_every_option():
    out = io.StringIO()
    assert main(["--help"], out, io.StringIO()) == 0
    for option in ("--variant", "--list-variants", "--impl", "--impl-kind", "--method", "--mode",
                   "--json", "--format", "--search", "--timeout", "--plot", "--layer", "--shape",
                   "--arg", "--force"):
        assert option in out.getvalue()


def test_progress_goes_to_stderr_when_it_is_a_terminal(examples):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    assert main([str(examples / "nielsen.toml"), "--method", "central"], io.StringIO(), err) == 0
    assert "gradcheck: 13/13 checked" in err.getvalue()
    quiet = io.StringIO()
    main([str(examples / "nielsen.toml")], io.StringIO(), quiet)
    assert quiet.getvalue() == ""


def test_what_a_plugin_prints_does_not_corrupt_the_json_on_stdout(tmp_path, capsys):
    (tmp_path / "net.toml").write_text("layers = [3, 2]\n")
    (tmp_path / "chatty.py").write_text(
        "from backprop import load_config, backward\n"
        "print('loading my plugin')\n"
        "def grad(w, b, x, y):\n"
        "    print('debug: computing the gradient')\n"
        f"    net, _, _ = load_config({str(tmp_path / 'net.toml')!r})\n"
        "    return backward(net, x, y)\n")
    status = main([str(tmp_path / "net.toml"), "--impl", f"{tmp_path / 'chatty.py'}:grad", "--json"])
    captured = capsys.readouterr()
    assert status == 0 and json.loads(captured.out)["passed"] is True
    assert "debug: computing the gradient" in captured.err


def test_a_check_estimated_to_take_long_is_announced_before_it_starts(examples, monkeypatch):
    import gradcheck.checks.cli as cli
    monkeypatch.setattr(cli, "SLOW_SECONDS", 0.0)
    status, _, err = run(examples / "nielsen.toml")
    assert status == 0 and "this check will take about" in err and "--mode directional" in err
