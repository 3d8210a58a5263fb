import io
import json
import os
import re
import subprocess
import sys
from functools import partialmethod

import numpy as np
import pytest

from gradcheck.backprop import VARIANTS, Network, save_config
from gradcheck.checks.cli import ProgressBar, main, network_work


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


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_goes_to_stderr_when_it_is_a_terminal(examples, monkeypatch):
    import gradcheck.checks.cli as cli
    monkeypatch.setattr(cli.ProgressBar, "__init__", partialmethod(cli.ProgressBar.__init__,
                                                                   delay=0.0, every=0.0))
    err = Terminal()
    assert main([str(examples / "seed.toml"), "--method", "central"], io.StringIO(), err) == 0
    frames = err.getvalue().split("\r")
    assert any(re.fullmatch(r"gradcheck: \[[#-]+\] +\d+%  [\d,]+ entries/s  \S+ left *", f)
               for f in frames), frames[:4]
    assert frames[-1] == "" and frames[-2].strip() == ""  # the bar is cleared at the end
    quiet = io.StringIO()
    main([str(examples / "nielsen.toml")], io.StringIO(), quiet)
    assert quiet.getvalue() == ""
    hushed = Terminal()
    main([str(examples / "seed.toml"), "--method", "central", "--quiet"], io.StringIO(), hushed)
    assert hushed.getvalue() == ""


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_progress_bar_counts_the_share_of_the_work_not_of_the_entries():
    clock, err = Clock(), Terminal()
    # 100 cheap entries, then 100 that cost 9 times as much each
    bar = ProgressBar(err, [(100, 1.0), (100, 9.0)], "entries", clock=clock, delay=1.0)
    bar(0, 200)
    clock.now = 0.5
    bar(50, 200)
    assert err.getvalue() == ""  # nothing on a short check
    clock.now = 10.0
    bar(100, 200)
    assert bar.share(100, 200) == pytest.approx(0.1)
    assert " 10%  10 entries/s  1m 30s left" in err.getvalue()
    clock.now = 20.0
    bar(150, 200)
    assert bar.share(150, 200) == pytest.approx(0.55)
    assert " 55%  8 entries/s  16s left" in err.getvalue()
    bar(200, 200)
    assert err.getvalue().endswith("\r")


def test_a_progress_bar_of_unknown_segments_takes_the_items_as_equal():
    bar = ProgressBar(Terminal(), [(3, 1.0)], "entries")
    assert bar.share(5, 10) == 0.5 and bar.share(0, 0) == 1.0


def test_the_network_work_weighs_low_layers_by_the_layers_above_them():
    net = Network([784, 30, 20, 10], bias=False, seed=0)
    from gradcheck.checks.differentiate import scheme
    work, unit = network_work(net, 10, scheme("central"))
    assert unit == "entries" and [n for n, _ in work] == [23520, 600, 200]
    assert work[0][1] > work[1][1] > work[2][1]
    work, unit = network_work(net, 10, scheme("complex_step"))
    assert unit == "units" and [n for n, _ in work] == [10, 20, 30]


def test_version_prints_the_package_version():
    from importlib import metadata

    import gradcheck
    status, out, err = run("--version")
    assert status == 0 and out == f"gradcheck {gradcheck.__version__}\n" and err == ""
    assert out.split()[1] == metadata.version("gradcheck") == "0.2.0"


def test_quiet_prints_only_the_verdict_line(examples):
    status, out, err = run(examples / "seed.toml", "--variant", "code2", "--quiet")
    assert status == 1 and out == "gradcheck FAILED: variant 'code2': W1, W2 wrong\n"
    status, out, _ = run(examples / "nielsen.toml", "-q")
    assert status == 0 and out == "gradcheck PASSED: variant 'correct'\n"


@pytest.mark.parametrize("argv", [["--quiet", "--json"], ["--color", "always", "--format", "html"]])
def test_quiet_and_color_are_refused_where_the_report_is_not_text(examples, argv):
    status, out, err = run(examples / "nielsen.toml", *argv)
    assert status == 2 and err.count("\n") == 1 and "apply to the text report" in err


def test_colour_only_on_a_terminal_and_never_under_no_color(examples, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    config = str(examples / "seed.toml")
    piped = io.StringIO()
    main([config, "--variant", "code2"], piped, io.StringIO())
    assert "\x1b[" not in piped.getvalue()
    terminal = Terminal()
    main([config, "--variant", "code2"], terminal, io.StringIO())
    assert "\x1b[1;31mFAIL\x1b[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = Terminal()
    main([config, "--variant", "code2"], terminal, io.StringIO())
    assert "\x1b[" not in terminal.getvalue()
    forced = io.StringIO()
    main([config, "--variant", "code2", "--color", "always"], forced, io.StringIO())
    assert "\x1b[1;31mFAIL" in forced.getvalue()
    monkeypatch.delenv("NO_COLOR")
    never = Terminal()
    main([config, "--variant", "code2", "--color", "never"], never, io.StringIO())
    assert "\x1b[" not in never.getvalue()


def test_abbreviated_options_are_refused(examples):
    status, out, err = run(examples / "nielsen.toml", "--js")
    assert status == 2 and err == "gradcheck: error: unrecognized arguments: --js\n"
    status, _, err = run(examples / "nielsen.toml", "--var", "code2")
    assert status == 2 and "--var" in err


def test_help_separates_the_modes_with_examples_and_no_unexplained_words():
    out = io.StringIO()
    assert main(["--help"], out, io.StringIO()) == 0
    text = out.getvalue()
    modes = ["check a network:", "check a layer:", "list the variants:", "search:"]
    where = [text.index(s) for s in modes + ["numeric side and limits:", "output:"]]
    assert where == sorted(where)  # the modes, then the options they share
    for section, start in zip(modes, where):
        body = text[start:text.index("\n\n", text.index("\n\n", start) + 2)]
        assert "example" in body, section
    for word in ("catalogue", "plug-in", "plugin"):
        assert word not in text.lower()
    assert "--version" in text and "--quiet" in text and "--color" in text


def test_the_seeds_failing_report_fits_in_80_columns_through_the_real_command(examples):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("COLUMNS", None)
    proc = subprocess.run([sys.executable, "-m", "gradcheck", str(examples / "seed.toml"),
                           "--impl", f"{examples / 'seeds_train.py'}:train_code2",
                           "--impl-kind", "step"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert max(map(len, proc.stdout.splitlines())) <= 80, proc.stdout
    assert "diagnosis: seeds_train.py line 41: `delta = W[k].T @ delta`: the step into" in proc.stdout


def test_a_check_where_nothing_could_be_decided_exits_2_with_one_line(examples, monkeypatch):
    import gradcheck.checks.cli as cli
    from gradcheck.checks.report import ParameterCheck, Report
    p = ParameterCheck("W1", "layer 0 -> layer 1", (2, 3), True, 0.0, 0, 0, skipped=6,
                       undecided={"the rounding bound reaches the size of the gradient": 6})
    undecided = Report(False, 0.0, (p,), "variant 'correct'", "complex_step", "full", 1, "net")
    monkeypatch.setattr(cli, "check", lambda *args, **kwargs: undecided)
    status, out, err = run(examples / "nielsen.toml")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("gradcheck: error: nothing could be decided") and "rounding" in err
    status, out, err = run(examples / "nielsen.toml", "--json")
    assert status == 2 and json.loads(out)["passed"] is False


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
