"""Hostile and broken inputs, each through the real command: exit 2 and one line naming the
problem (never a traceback, never a hang), or the honest verdict with valid JSON; nothing the
code under test does reaches the exit status or stdout."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

NET = "layers = [3, 2]\nseed = 1\n"
RIGHT = ("import numpy as np\n"
         "def grad(weights, biases, x, y):\n"
         "    W, b = weights[0], biases[0]\n"
         "    a = 1 / (1 + np.exp(-(W @ x + b)))\n"
         "    d = (a - y) * a * (1 - a)\n"
         "    return [d @ x.T], [d.sum(axis=1, keepdims=True)]\n")


def command(tmp_path, *argv, timeout=60):
    return subprocess.run([sys.executable, "-m", "gradcheck", *map(str, argv)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=timeout, stdin=subprocess.DEVNULL)


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)


def plugin(body):
    return RIGHT + body


#: name -> (files, argv, exit status, phrase on stderr (status 2) or None)
CASES = {
    "os._exit(0) in the code": (
        {"p.py": plugin("def bad(w, b, x, y):\n    import os\n    os._exit(0)\n")},
        ["--impl", "p.py:bad"], 2, "exited with status 0 before returning a gradient"),
    "sys.exit(0) in the code": (
        {"p.py": plugin("def bad(w, b, x, y):\n    import sys\n    sys.exit(0)\n")},
        ["--impl", "p.py:bad"], 2, "raised SystemExit"),
    "os._exit(0) while importing": (
        {"p.py": "import os\nos._exit(0)\n"}, ["--impl", "p.py:grad"], 2, "exited with status 0"),
    "a crash (SIGSEGV)": (
        {"p.py": plugin("def bad(w, b, x, y):\n    import os, signal\n"
                        "    os.kill(os.getpid(), signal.SIGSEGV)\n")},
        ["--impl", "p.py:bad"], 2, "killed by signal 11 (SIGSEGV)"),
    "an infinite loop": (
        {"p.py": plugin("def bad(w, b, x, y):\n    while True:\n        pass\n")},
        ["--impl", "p.py:bad", "--timeout", "2"], 2, "did not return within 2 s (--timeout)"),
    "a leftover non-daemon thread": (
        {"p.py": plugin("import threading, time\n"
                        "def slow(w, b, x, y):\n"
                        "    threading.Thread(target=time.sleep, args=(600,)).start()\n"
                        "    return grad(w, b, x, y)\n")},
        ["--impl", "p.py:slow"], 0, None),
    "np.seterr(all='raise') left behind": (
        {"p.py": plugin("def raising(w, b, x, y):\n    np.seterr(all='raise')\n"
                        "    np.set_printoptions(precision=1)\n    return grad(w, b, x, y)\n")},
        ["--impl", "p.py:raising"], 0, None),
    "a write to file descriptor 1": (
        {"p.py": plugin("def loud(w, b, x, y):\n    import os\n    os.write(1, b'{garbage')\n"
                        "    print('more garbage')\n    return grad(w, b, x, y)\n")},
        ["--impl", "p.py:loud", "--json"], 0, None),
    "a NaN gradient": (
        {"p.py": plugin("def nan(w, b, x, y):\n    g = grad(w, b, x, y)\n    g[0][0][0, 0] = np.nan\n"
                        "    return g\n")},
        ["--impl", "p.py:nan", "--json"], 1, None),
    "a directory as config": ({}, ["."], 2, "is a directory"),
    "/dev/zero as config": ({}, ["/dev/zero"], 2, "not a regular file"),
    "deeply nested JSON": ({"deep.json": "[" * 100000 + "]" * 100000}, ["deep.json"], 2,
                           "deep.json"),
    "deeply nested TOML": ({"deep.toml": "a = " + "[" * 100000 + "]" * 100000}, ["deep.toml"], 2,
                           "deep.toml"),
    "a TOML key with a newline": ({"k.toml": 'layers = [3, 2]\n"bad\\nkey" = 1\n'}, ["k.toml"], 2,
                                  "unknown field 'bad\\nkey'"),
    "a config too large": ({"big.toml": "# " + "x" * (2 << 20)}, ["big.toml"], 2, "larger than"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(tmp_path, name):
    files, argv, status, phrase = CASES[name]
    write(tmp_path, {"net.toml": NET, **files})
    if argv and argv[0].startswith("--"):
        argv = ["net.toml", *argv]
    started = time.monotonic()
    proc = command(tmp_path, *argv)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    if status == 2:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("gradcheck: error")]
        assert len(lines) == 1 and phrase in lines[0], proc.stderr
        assert proc.stdout == ""
    if "--json" in argv:
        report = json.loads(proc.stdout)  # valid JSON whatever the code wrote
        assert report["passed"] is (status == 0)
    assert time.monotonic() - started < 40


def test_special_files_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    proc = command(tmp_path, fifo, timeout=20)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    write(tmp_path, {"w.toml": "layers = [3, 2]\nweights = 'w.npz'\n"})
    os.mkfifo(tmp_path / "w.npz")
    proc = command(tmp_path, "w.toml", timeout=20)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    proc = command(tmp_path, "loop.toml", timeout=20)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "loop.toml" in proc.stderr


def test_an_npz_cannot_hide_big_members_behind_small_headers(tmp_path):
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as z:
        for name, shape in (("x.npy", (3, 5)), ("y.npy", (2, 5)), ("x", (3, 20_000_000))):
            with z.open(name, "w") as f:
                np.lib.format.write_array_header_1_0(
                    f, {"descr": "<f8", "fortran_order": False, "shape": shape})
    write(tmp_path, {"d.toml": "layers = [3, 2]\ndata = 'd.npz'\n"})
    proc = command(tmp_path, "d.toml")
    assert proc.returncode == 2 and "two members named 'x'" in proc.stderr


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    write(tmp_path, {"net.toml": NET,
                     "p.py": plugin("def slow(w, b, x, y):\n    import time\n    time.sleep(60)\n")})
    proc = subprocess.Popen([sys.executable, "-m", "gradcheck", "net.toml", "--impl", "p.py:slow"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip() == "gradcheck: interrupted" and out == ""


def test_search_out_never_replaces_a_file_without_force_and_checks_the_folder_first(tmp_path):
    (tmp_path / "found.toml").write_text("mine\n")
    started = time.monotonic()
    proc = command(tmp_path, "--search", "code2", "--out", "found")
    assert proc.returncode == 2 and "already exists; pass --force" in proc.stderr
    assert (tmp_path / "found.toml").read_text() == "mine\n"
    proc = command(tmp_path, "--search", "code2", "--out", "missing/found")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert time.monotonic() - started < 20  # refused before any search ran
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me\n")
    (tmp_path / "linked.toml").symlink_to(target)
    proc = command(tmp_path, "--search", "code2", "--out", "linked", "--force",
                   "--max-examples", "100")
    assert proc.returncode == 0 and target.read_text() == "keep me\n"
    assert not (tmp_path / "linked.toml").is_symlink()


def test_a_mode_refuses_the_options_it_would_ignore(tmp_path):
    write(tmp_path, {"net.toml": NET})
    for argv, phrase in ((["--list-variants", "--json"], "--format cannot be used with --list"),
                         (["--list-variants", "net.toml"], "cannot be used together"),
                         (["--search", "code2", "--variant", "code2"], "--variant cannot be used"),
                         (["net.toml", "--out", "x"], "--out cannot be used with a check"),
                         (["net.toml", "--timeout", "3"], "--timeout needs --impl")):
        proc = command(tmp_path, *argv)
        assert proc.returncode == 2 and phrase in proc.stderr, (argv, proc.stderr)


@pytest.mark.parametrize("argv", [["missing.toml", "--json"], ["net.toml", "--impl", "p.py:bad",
                                                                "--format", "json"],
                                  ["--json", "--method", "exact", "net.toml"]])
def test_json_is_valid_json_even_when_the_input_cannot_be_used(tmp_path, argv):
    write(tmp_path, {"net.toml": NET, "p.py": plugin("def bad(w, b, x, y):\n    raise KeyError\n")})
    proc = command(tmp_path, *argv)
    report = json.loads(proc.stdout)
    assert proc.returncode == 2 and report["passed"] is False and report["parameters"] == []
    assert report["max_relative_error"] is None and report["error"] in proc.stderr
