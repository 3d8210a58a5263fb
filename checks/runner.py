"""The command runs the user's code in a child process; this is the parent's side.

The child (``checks.child``) is a generic runner of requests: give the gradient (or take the
step) of ``FILE.py:TARGET`` on a network and a batch, evaluate a layer's forward at given points,
run its backward.  It answers with arrays only (``checks.protocol``), and the parent validates
every answer strictly: the operation, the names, the shapes and the dtypes it expects, the sizes
before reading.  The tolerance, the precision (from the dtypes) and the verdict are decided here,
out of the code's reach.  So:

- what the code prints (even with ``os.write(1, ...)``) reaches the parent through a pipe, is
  copied to stderr with control characters removed, and is cut off after ``OUTPUT_LIMIT`` bytes;
  stdout stays the report's, --json valid;
- gradcheck's own modules are imported before the user's, by their package name (``gradcheck.*``)
  from gradcheck's folder, in an isolated interpreter (``-I``): nothing in the user's folder can
  stand in for them or for the standard library's;
- the child runs in its own session and process group, with the parent as the subreaper of
  everything it starts (Linux): at the end, on a timeout and on SIGINT, SIGTERM or SIGHUP to
  gradcheck, every process it started is killed, daemons included; each request has
  ``--timeout`` seconds;
- exiting, crashing, closing the pipes or answering garbage is exit status 2 with one line.

- the child shuts the user's code in namespaces of its own before importing it (``checks.boot``,
  Linux): it cannot signal the parent, nor open its stdout or memory through /proc.

Where namespaces are not available, a process of the same user can still signal the parent or
reach it through /proc (non-dumpable, it refuses that to non-root users).  The README says so.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .adapt import Answer
from .analytic import IMPL_KINDS
from .protocol import ProtocolError, read_frame, write_frame
from .sources import gradient_from
from .usercode import PluginError, printable

__all__ = ["Child", "InChild", "InScript", "DEFAULT_TIMEOUT", "OUTPUT_LIMIT"]

#: seconds the user's code may take for one request (one gradient with all its calls; one batch
#: of forward evaluations), unless --timeout says
DEFAULT_TIMEOUT = 120.0
#: bytes of the user's output copied to stderr; the rest is counted, not kept
OUTPUT_LIMIT = 64 * 1024
_ROOT = str(Path(__file__).resolve().parent.parent.parent)
#: the child's first lines (its own namespaces, then the server), run as a script
_BOOT = str(Path(__file__).with_name("boot.py"))
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_DUMPABLE = 4
#: the dtypes the code may keep its parameters in
STORAGE = ("float16", "float32", "float64", "float128", "longdouble")


def _become_subreaper():
    """Orphans of the child (a double-forked daemon) become our children, not init's, so they
    can be found and ended; and this process becomes non-dumpable, so that another process of
    the same user (the code under test) cannot open its file descriptors through /proc (its
    stdout, to write a report of its own into ours).  Linux only; elsewhere the process group is
    what is ended."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _descendants(root):
    """Pids of every live process whose chain of parents reaches ``root``."""
    parents = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in out}
        out |= frontier
    return out


def _search_path(user_folders=()):
    """The child's sys.path: gradcheck's folder first, then the parent's path without the
    current folder (which -m or a script would have put there)."""
    here = os.getcwd()
    skip = {os.path.realpath(p) for p in (here, *user_folders)}
    rest = [p for p in sys.path if p and os.path.realpath(p) not in skip]
    return [_ROOT] + [p for p in rest if p != _ROOT]


class Child:
    """A child process running the user's code, answering one request at a time."""

    def __init__(self, shown, timeout=DEFAULT_TIMEOUT, output=None):
        if not (isinstance(timeout, (int, float)) and np.isfinite(timeout) and timeout > 0):
            raise ValueError(f"--timeout must be a positive number of seconds; got {timeout!r}")
        self.shown, self.timeout = shown, float(timeout)
        self.output = output if output is not None else sys.stderr
        self.proc = None
        self._lock = threading.Lock()
        self._printed = self._dropped = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _start(self):
        _become_subreaper()
        mine = _descendants(os.getpid())
        self._others = mine
        from_parent, to_child = os.pipe()
        from_child, to_parent = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", _BOOT, json.dumps(_search_path()), str(from_parent),
             str(to_parent)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(from_parent, to_parent), start_new_session=True)
        os.close(from_parent)
        os.close(to_parent)
        self._send, self._receive = to_child, from_child
        os.set_blocking(self._send, False)
        self._copier = threading.Thread(target=self._copy_output, daemon=True)
        self._copier.start()

    def _copy_output(self):
        """Copy what the code prints to our stderr, control characters removed, up to
        ``OUTPUT_LIMIT`` bytes; count the rest."""
        stream = self.proc.stdout
        while True:
            chunk = stream.read1(1 << 16)
            if not chunk:
                return
            with self._lock:
                room = max(0, OUTPUT_LIMIT - self._printed)
                shown, self._dropped = chunk[:room], self._dropped + max(0, len(chunk) - room)
                self._printed += len(shown)
            if shown:
                text = shown.decode("utf-8", "replace")
                self.output.write("".join(c if c.isprintable() or c in "\n\t" else "?"
                                          for c in text))
                self.output.flush()

    def request(self, op, header, arrays=None, max_bytes=1 << 30):
        """(header, arrays) of the child's answer to one request; PluginError naming what went
        wrong, the child ended, when it does not answer in time or properly."""
        if self.proc is None:
            self._start()
        deadline = time.monotonic() + self.timeout
        try:
            write_frame(self._send, {"op": op, **header}, arrays, deadline)
            reply, got = read_frame(self._receive, deadline, max_bytes)
        except ProtocolError as e:
            message = (f"{self.shown} did not return within {self.timeout:g} s (--timeout); it "
                       "was stopped") if e.timeout else self._ended(str(e), op)
            self.close()
            raise PluginError(message) from None
        if reply.get("op") != op:
            self.close()
            raise PluginError(f"{self.shown}: its process answered out of turn")
        if "error" in reply:
            raise PluginError(printable(reply["error"], 1000))
        return reply, got

    def _ended(self, why, op):
        what = "a gradient" if op == "gradient" else "its answer"
        try:
            status = self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            status = None
        if status is not None and status < 0:
            name = signal.Signals(-status).name if -status in signal.Signals._value2member_map_ else ""
            return f"{self.shown} was killed by signal {-status} ({name}) before returning {what}"
        if status is not None:
            return f"{self.shown} exited with status {status} before returning {what}"
        return f"{self.shown}: its process broke the exchange with gradcheck ({why})"

    def close(self):
        """End the child and everything it started; close the pipes."""
        if self.proc is None:
            return
        _kill_tree(self.proc, self._others)
        for fd in (self._send, self._receive):
            try:
                os.close(fd)
            except OSError:
                pass
        self._copier.join(timeout=2)
        with self._lock:
            dropped = self._dropped
        if dropped:
            self.output.write(f"\n[gradcheck: {dropped} more bytes of the code's output not "
                              "shown]\n")
        self.proc = None


def _kill_tree(proc, others):
    """SIGKILL the child's process group and every process it started, until none is left:
    our descendants, but for ``others`` (processes that were ours before the child) and theirs."""
    def victims():
        return _descendants(os.getpid()) - others

    for _ in range(100):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        found = victims()
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap(found, proc)
        if not victims():
            return
        time.sleep(0.01)


def _reap(pids, proc):
    try:
        proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass
    for pid in pids - {proc.pid}:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _array(arrays, name, shape, what):
    a = arrays.get(name)
    if a is None or a.shape != tuple(shape) or a.dtype.kind != "f":
        got = "nothing" if a is None else f"{a.dtype} {a.shape}"
        raise PluginError(f"{what}: {name} came back as {got}; expected floats of shape "
                          f"{tuple(shape)}")
    return a


class InChild:
    """The user's ``FILE.py:TARGET`` read as written (``checks.adapt``) in a child process: the
    gradient source of the command."""

    def __init__(self, target, kind=None, spec=None, timeout=DEFAULT_TIMEOUT, output=None):
        if kind is not None and kind not in IMPL_KINDS:
            raise ValueError(f"--impl-kind must be one of {', '.join(IMPL_KINDS)}; got {kind!r}")
        self.target, self.kind, self.spec = target, kind, spec
        self.name = target.shown
        self.child = Child(target.shown, timeout, output)
        self.trace = None   # the watch's Trace of the first call (checks.watch), once it came

    def close(self):
        self.child.close()

    def gradient(self, problem):
        net = problem.net
        header = {"file": str(self.target.file), "expression": self.target.expression,
                  "shown": self.target.shown, "kind": self.kind, "spec": self.spec.fields(),
                  "network": net.spec(), "lr": problem.step_lr}
        arrays = {"theta": net.theta, "x": np.asarray(problem.x, float),
                  "y": np.asarray(problem.y, float)}
        limit = (problem.m + 2) * net.theta.size * 8 + (1 << 20)
        reply, got = self.child.request("gradient", header, arrays,
                                        max_bytes=limit + TRACE_BYTES)
        if reply.get("watched") is True:  # read by watching one call (checks.script)
            answer = _watched_answer(reply, got, net, self.name)
            self.trace = answer.trace
            return gradient_from(problem, answer, f"{self.name} ({answer.kind})")
        if "trace" in reply:  # the first call's trace (checks.watch), for the diagnosis
            self.trace = _trace_from(reply.pop("trace"), got, net, self.name)
        answer = replace(_answer(reply, got, net, problem.m, problem.step_lr, self.name),
                         trace=self.trace)
        return gradient_from(problem, answer, f"{self.name} ({answer.kind})")


def _facts(reply, m, lr, what):
    """The reply's fields, each checked to be one a request of this shape can have."""
    kind, calls, per_example = reply.get("kind"), reply.get("calls"), reply.get("per_example")
    if kind not in IMPL_KINDS or type(per_example) is not bool or type(calls) is not int or (
            calls != (m if per_example else 1)) or reply.get("lr") != lr:
        raise PluginError(f"{what}: its process gave an answer gradcheck did not ask for")
    loss, storage, notes = reply.get("loss"), reply.get("storage"), reply.get("notes")
    if loss is not None and not isinstance(loss, (int, float)):
        raise PluginError(f"{what}: its process gave a loss that is not a number")
    if not (isinstance(storage, list) and all(s in STORAGE for s in storage)):
        raise PluginError(f"{what}: its process gave an unknown storage dtype")
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        raise PluginError(f"{what}: its process gave notes that are not text")
    return kind, calls, per_example, loss, storage, notes


def _answer(reply, arrays, net, m, lr, what):
    """The child's reply as an ``Answer``, after checking every field and array against what
    the request can give back: nothing in it sets a tolerance, a precision or a verdict."""
    kind, calls, per_example, loss, storage, notes = _facts(reply, m, lr, what)
    shapes = {p.name: p.shape for p in net.params}
    expected = {f"written:{n}" for n in shapes} | {f"call{k}:{n}" for k in range(calls)
                                                    for n in shapes}
    if set(arrays) != expected:
        raise PluginError(f"{what}: its process gave back arrays gradcheck did not ask for")
    written = {n: _array(arrays, f"written:{n}", s, what) for n, s in shapes.items()}
    answers = tuple({n: _array(arrays, f"call{k}:{n}", s, what) for n, s in shapes.items()}
                    for k in range(calls))
    return Answer(kind, printable(reply.get("form", ""), 60), per_example, answers, written, lr,
                  None if loss is None else float(loss), tuple(storage),
                  tuple(printable(n, 500) for n in notes[:12]))


# -- a training script, read as it runs (``gradcheck CONFIG --impl FILE.py``) ---------------------------
#: bytes of arrays a trace may add to a reply (checks.watch's bounds, 8 bytes an element)
TRACE_BYTES = 8 * 2_000_000 + (1 << 20)
_TRACE_KEYS = {"file", "line", "text", "name", "shape", "dtype", "value", "returned", "updated"}
_TRACE_DTYPES = ("float16", "float32", "float64")


class InScript:
    """The user's training script, run as written in a child process (``checks.script``): the
    gradient source of ``--impl FILE.py``.  Each request runs the script afresh in a new process
    (a script's module-level state is not reused), under ``--timeout``."""

    def __init__(self, target, spec=None, timeout=DEFAULT_TIMEOUT, output=None):
        self.target, self.spec = target, spec
        self.name = target.shown
        self.child = Child(target.shown, timeout, output)
        self.trace = None

    def close(self):
        self.child.close()

    def gradient(self, problem):
        net = problem.net
        header = {"file": str(self.target.file), "shown": self.target.shown,
                  "spec": self.spec.fields(), "network": net.spec(), "lr": problem.step_lr}
        arrays = {"theta": net.theta, "x": np.asarray(problem.x, float),
                  "y": np.asarray(problem.y, float)}
        limit = 4 * net.theta.size * 8 + TRACE_BYTES
        try:
            reply, got = self.child.request("script", header, arrays, max_bytes=limit)
        finally:
            self.child.close()
        answer = _watched_answer(reply, got, net, self.name)
        self.trace = answer.trace
        return gradient_from(problem, answer, f"{self.name} (script)")


def _watched_facts(reply, what):
    """(learning rate, storage dtypes, notes) of a watched run's reply, each checked."""
    if reply.get("kind") != "step" or reply.get("calls") != 1 or reply.get("per_example") is not False:
        raise PluginError(f"{what}: its process gave an answer gradcheck did not ask for")
    lr, storage, notes = reply.get("lr"), reply.get("storage"), reply.get("notes")
    if type(lr) is not float or not (1e-12 <= lr <= 1e12):
        raise PluginError(f"{what}: its process gave a learning rate that is not a positive number")
    if not (isinstance(storage, list) and all(s in STORAGE for s in storage)):
        raise PluginError(f"{what}: its process gave an unknown storage dtype")
    if not (isinstance(notes, list) and len(notes) <= 24 and all(isinstance(n, str) for n in notes)):
        raise PluginError(f"{what}: its process gave notes that are not text")
    return lr, storage, notes


def _watched_answer(reply, arrays, net, what):
    """The reply of a run read by watching the code (a script, or one call whose parameters are
    drawn inside) as an ``Answer``, every field checked: one step; its learning rate a positive
    finite number (the code's own where it could not be set); the parameters as written exactly
    the network's, rounded to the dtype the code keeps them in; the trace within its bounds."""
    lr, storage, notes = _watched_facts(reply, what)
    trace = _trace_from(reply.get("trace"), arrays, net, what)
    shapes = {p.name: p.shape for p in net.params}
    expected = {f"written:{n}" for n in shapes} | {f"call0:{n}" for n in shapes}
    if set(arrays) != expected:
        raise PluginError(f"{what}: its process gave back arrays gradcheck did not ask for")
    values = net.parameters()
    written = {}
    for n, s in shapes.items():
        a = _array(arrays, f"written:{n}", s, what)
        if a.dtype.name not in storage or not np.array_equal(a, values[n].astype(a.dtype)):
            raise PluginError(f"{what}: its process says the code was given {n} values gradcheck "
                              "did not write")
        written[n] = a
    after = {n: _array(arrays, f"call0:{n}", s, what) for n, s in shapes.items()}
    return Answer("step", printable(reply.get("form", ""), 60), False, (after,), written, lr, None,
                  tuple(storage), tuple(printable(n, 500) for n in notes), trace, True)


def _trace_from(items, arrays, net, what):
    """The ``Trace`` a reply carries (``Trace.to_wire``), checked: at most MAX_RECORDS records
    of the known fields, printable text, shapes and values within the bounds, its arrays
    removed from ``arrays``."""
    from .watch import MAX_RECORDS, MAX_TOTAL, Trace
    bad = PluginError(f"{what}: its process gave a trace gradcheck cannot read")
    if not isinstance(items, list) or len(items) > MAX_RECORDS:
        raise bad
    values = {}
    for k, item in enumerate(items):
        if not _record_fields_valid(item, net):
            raise bad
        if item["value"]:
            values[f"trace{k}"] = _record_value(arrays.pop(f"trace{k}", None), item, bad)
    if sum(a.size for a in values.values()) > MAX_TOTAL or any(n.startswith("trace")
                                                                for n in arrays):
        raise bad
    return Trace.from_wire(items, values)


def _record_fields_valid(item, net):
    """Whether one record of a trace has exactly the known fields, each of its kind."""
    if not (isinstance(item, dict) and set(item) == _TRACE_KEYS):
        return False
    texts = (item["file"], item["text"], item["name"])
    if not all(isinstance(t, str) and len(t) <= 1000 and t.isprintable() for t in texts):
        return False
    shape, line = item["shape"], item["line"]
    if type(line) is not int or not 0 < line < 10**7 or not isinstance(shape, list) or len(
            shape) > 8 or not all(type(d) is int and 0 <= d <= 10**9 for d in shape):
        return False
    return (item["dtype"] in _TRACE_DTYPES and type(item["value"]) is bool
            and type(item["returned"]) is bool and isinstance(item["updated"], list)
            and all(n in net.names for n in item["updated"]))


def _record_value(a, item, bad):
    """A record's array: there, of the record's shape and dtype, within MAX_VALUE elements."""
    from .watch import MAX_VALUE
    size = int(np.prod(item["shape"], dtype=np.int64))
    if a is None or a.shape != tuple(item["shape"]) or a.dtype.name != item["dtype"] or (
            size > MAX_VALUE):
        raise bad
    return a