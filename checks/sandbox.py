"""Running the user's code in a child process, so nothing it does can reach the verdict.

The command never imports the user's file itself.  Each time the check needs the code's gradient,
a child process (``python -m checks.child FOLDER``) builds the network from the request,
loads ``FILE.py:TARGET``, calls it through ``checks.adapt`` and writes the gradient beside the
request (an npz, read back with pickles refused, and a JSON file).  The parent computes the numeric side and
the verdict.  So:

- the child's stdout and stderr are pipes: what the code prints, even with ``os.write(1, ...)``,
  is copied to the parent's stderr and never mixes with ``--json``;
- the child runs in its own process group with a time limit (``--timeout``); a hang, a leftover
  thread or a subprocess is ended with the whole group;
- exiting (``sys.exit``, ``os._exit``), crashing or being killed before a result is written is
  exit status 2 with one line; numpy's global state in the child never touches the parent's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .analytic import AnalyticGradient
from .plugin import FLOAT64, PRECISIONS, PluginError

__all__ = ["Isolated", "DEFAULT_TIMEOUT"]

#: seconds the user's code may take for one gradient (all its calls), unless --timeout says
DEFAULT_TIMEOUT = 120.0


class Isolated:
    """The user's code ``FILE.py:TARGET``, called in a child process (see the module docstring)."""

    def __init__(self, spec, kind=None, table=None, timeout=DEFAULT_TIMEOUT, output=None):
        if not isinstance(spec, str) or ":" not in spec:
            raise PluginError(f"--impl must be FILE.py:TARGET; got {spec!r}")
        file = spec.partition(".py:")[0] + ".py" if ".py:" in spec else spec.partition(":")[0]
        if not Path(file).is_file():
            raise PluginError(f"plug-in file {file!r} does not exist")
        if not (timeout > 0):
            raise ValueError(f"--timeout must be a positive number of seconds; got {timeout!r}")
        self.spec = str(Path(file).resolve()) + spec[len(file):]
        self.shown = spec
        self.timeout = float(timeout)
        self.output = output if output is not None else sys.stderr
        self.kind, self.table = kind, table
        self.name = spec

    def gradient(self, problem):
        net = problem.net
        with tempfile.TemporaryDirectory(prefix="gradcheck-") as folder:
            folder = Path(folder)
            np.savez(folder / "request.npz", theta=net.theta, x=np.asarray(problem.x, dtype=float),
                     y=np.asarray(problem.y, dtype=float))
            (folder / "request.json").write_text(json.dumps({
                "network": net.spec(), "impl": self.spec, "shown": self.shown,
                "kind": self.kind, "table": self.table}))
            self._run(folder)
            return self._read(folder, net)

    def _run(self, folder):
        command = [sys.executable, "-m", "gradcheck.checks.child", str(folder)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent)] + [p for p in sys.path if p])}
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            printed, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            printed, _ = proc.communicate()
            self._forward(printed)
            raise PluginError(f"{self.shown} did not return within {self.timeout:g} s (--timeout); "
                              "it was stopped") from None
        except BaseException:  # Ctrl-C: end the child and everything it started
            _kill(proc)
            proc.wait()
            raise
        _kill(proc)  # threads or processes the code left behind
        self._forward(printed)
        if not (folder / "result.json").exists():
            status = proc.returncode
            how = (f"was killed by signal {-status} ({signal.Signals(-status).name})" if status < 0
                   else f"exited with status {status}")
            raise PluginError(f"{self.shown} {how} before returning a gradient")

    def _forward(self, printed):
        if printed:
            self.output.write(printed.decode("utf-8", "replace"))

    def _read(self, folder, net):
        try:
            meta = json.loads((folder / "result.json").read_text())
        except (OSError, ValueError):
            raise PluginError(f"{self.shown}: its result could not be read") from None
        if "error" in meta:
            raise PluginError(str(meta["error"]))
        with np.load(folder / "result.npz", allow_pickle=False) as arrays:
            grads = {p.name: np.array(arrays[f"g_{p.name}"], dtype=float) for p in net.params}
            extra = {p.name: np.array(arrays[f"e_{p.name}"], dtype=float) for p in net.params
                     if f"e_{p.name}" in arrays.files}
        for p in net.params:
            if grads[p.name].shape != p.shape:
                raise PluginError(f"{self.shown}: its result has {p.name} of shape "
                                  f"{grads[p.name].shape}")
        precision = PRECISIONS.get(meta.get("precision"), FLOAT64)
        step = meta.get("step")
        if step is not None:
            step = {"lr": float(step["lr"]), "per_example": bool(step["per_example"])}
        return AnalyticGradient(grads, str(meta["target"]), precision,
                                bool(meta.get("inputs_rounded")), extra, tuple(meta.get("notes", ())),
                                step)


def run_layer(spec, shapes, args, *, seed, method, sample, fmt, timeout, output, plot=None):
    """Check a layer file in a child process (``gradcheck --layer``): (rendered report, passed)."""
    file = spec.partition(".py:")[0] + ".py" if ".py:" in spec else spec.partition(":")[0]
    if ":" not in spec or not Path(file).is_file():
        raise PluginError(f"--layer must be FILE.py:FORWARD[,BACKWARD] with FILE existing; got "
                          f"{spec!r}")
    runner = Isolated(file + ":_", timeout=timeout, output=output)
    runner.shown = spec
    with tempfile.TemporaryDirectory(prefix="gradcheck-") as folder:
        folder = Path(folder)
        (folder / "request.json").write_text(json.dumps({
            "mode": "layer", "file": str(Path(file).resolve()), "targets": spec[len(file) + 1:],
            "shapes": shapes, "args": args, "seed": seed, "method": method, "sample": sample,
            "format": fmt, "plot": plot}))
        runner._run(folder)
        meta = json.loads((folder / "result.json").read_text())
    if "error" in meta:
        raise PluginError(str(meta["error"]))
    return str(meta["text"]), bool(meta["passed"])


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
