"""The import roots: ``gradcheck`` is what users import, and it cannot collide with a learner's
own files; the older roots ``backprop`` and ``checks`` still import, as the very same modules."""

import subprocess
import sys
import textwrap
from pathlib import Path

import gradcheck

ROOT = Path(__file__).resolve().parent.parent


def test_the_older_roots_are_the_same_modules():
    import backprop
    import checks
    import checks.check
    from backprop.network import Network

    assert checks is gradcheck.checks and backprop is gradcheck.backprop
    assert checks.check is gradcheck.checks.check and Network is gradcheck.Network
    assert checks.gradcheck is gradcheck.gradcheck


def run(tmp_path, code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_learners_backprop_py_and_checks_py_beside_their_code_break_nothing(tmp_path):
    (tmp_path / "backprop.py").write_text("def backprop(x):\n    return 'mine'\n")
    (tmp_path / "checks.py").write_text("VALUE = 'mine too'\n")
    proc = run(tmp_path, """
        import numpy as np
        from gradcheck import Network, gradcheck
        from backprop import backprop
        from checks import VALUE
        net = Network([2, 3, 1], seed=0)
        report = gradcheck(net, np.ones((2, 4)), np.zeros((1, 4)))
        print(bool(report.passed), backprop(1), VALUE)
    """)
    assert proc.stdout.split() == ["True", "mine", "mine", "too"], proc.stderr


def test_python_m_gradcheck_ignores_a_random_py_in_the_current_folder(tmp_path):
    (tmp_path / "random.py").write_text("raise SystemExit('the wrong random')\n")
    (tmp_path / "json.py").write_text("raise SystemExit('the wrong json')\n")
    proc = subprocess.run([sys.executable, "-m", "gradcheck", "--list-variants"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "code2" in proc.stdout, proc.stderr
