"""Running one attack case through the real command, and judging what happened.

Each case runs in a fresh folder (``ROOT``, under results/harness/cases/, or
``GRADCHECK_ATTACK_TMP``; removed afterwards unless ``--keep``) holding ``user/`` (the user's folder and
the default working directory), ``outside/`` (files the command must never touch, with a
sentinel) and ``tmp/`` (the case's ``TMPDIR``, so the command's exchange folders are the case's
own and an attack that globs ``gradcheck-*`` in the temp folder can only reach its own).

The command runs in its own session with a unique marker in its environment
(``GRADCHECK_ATTACK_ID``); the harness is a child subreaper, so anything the case leaves behind
is found (by the marker in /proc/PID/environ or cmdline, or as an orphan re-parented to the
harness), killed and counted as a failure.  Its peak RSS is the ``ru_maxrss`` that ``wait4``
reports for it (its own and that of the children it waited for).  As a safety net on a shared
machine every case runs under ``RLIMIT_AS`` (``GRADCHECK_ATTACK_AS_MB``, default 4096) and
without core dumps; when running as root, the command runs with every capability dropped
(``setpriv``), so file permissions (chmod 000, an unwritable folder) apply as for a normal user.

The command prefix is ``CMD``: ``[sys.executable, "-m", "gradcheck"]`` unless ``GRADCHECK_CMD`` says
otherwise (split like a shell line, e.g. ``GRADCHECK_CMD=".venv/bin/gradcheck"``).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import resource
import shlex
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKER_VAR = "GRADCHECK_ATTACK_ID"


def _command_from_env(var, default):
    text = os.environ.get(var)
    if not text:
        return list(default)
    parts = shlex.split(text)
    first = parts[0]
    if os.sep in first and not os.path.isabs(first):  # relative to where the harness was started
        parts[0] = os.path.abspath(first)
    return parts


#: the command under test; every case that runs "the command" runs CMD + its argv
CMD = _command_from_env("GRADCHECK_CMD", [sys.executable, "-m", "gradcheck"])
#: the `python -m MODULE` form, for the cases that must hold for it whatever CMD is
PYTHON_M = [sys.executable, "-m", os.environ.get("GRADCHECK_MODULE", "gradcheck")]
#: the installed console script: the form a gradcheck.py in the current folder cannot shadow
#: (``python -m gradcheck`` finds the folder's gradcheck.py before any of gradcheck runs)
CONSOLE = [os.environ.get("GRADCHECK_SCRIPT", str(Path(sys.executable).with_name("gradcheck")))]
AS_LIMIT = int(os.environ.get("GRADCHECK_ATTACK_AS_MB", "4096")) << 20
DROP_CAPS = (os.geteuid() == 0 and shutil.which("setpriv") is not None
             and os.environ.get("GRADCHECK_ATTACK_NOCAPS", "1") != "0")
SETPRIV = ["setpriv", "--inh-caps=-all", "--bounding-set=-all",
           "--securebits=+noroot,+noroot_locked"]

# -- output capture ----------------------------------------------------------------------------


class Capture:
    """Drains a pipe in a thread: keeps the first KEEP bytes and the last TAIL, counts lines and
    bytes, and collects every line that starts with ``gradcheck:`` and whether ``Traceback``
    appears anywhere, so that a gigabyte of output costs the harness a few megabytes."""

    KEEP = 8 << 20
    TAIL = 1 << 20
    LINE = 200_000

    def __init__(self, fd):
        self.fd = fd
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lines = 0
        self.gc_lines = []
        self.traceback = False
        self._overlap = b""
        self._partial = bytearray()
        self._partial_len = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                self._feed(chunk)
        except OSError:
            pass
        if self._partial_len:
            self._end_line()

    def _feed(self, chunk):
        self.total += len(chunk)
        if len(self.head) < self.KEEP:
            self.head += chunk[:self.KEEP - len(self.head)]
        self.tail += chunk
        if len(self.tail) > 2 * self.TAIL:
            del self.tail[:-self.TAIL]
        if b"Traceback" in self._overlap + chunk:
            self.traceback = True
        self._overlap = chunk[-16:]
        start = 0
        while True:
            i = chunk.find(b"\n", start)
            if i < 0:
                self._add(chunk[start:])
                break
            self._add(chunk[start:i])
            self._end_line()
            start = i + 1

    def _add(self, piece):
        self._partial_len += len(piece)
        room = self.LINE - len(self._partial)
        if room > 0:
            self._partial += piece[:room]

    def _end_line(self):
        self.lines += 1
        if self._partial.startswith(b"gradcheck:") and len(self.gc_lines) < 100:
            self.gc_lines.append(bytes(self._partial))
        self._partial = bytearray()
        self._partial_len = 0

    def join(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()

    @property
    def complete(self):
        return self.total <= self.KEEP

    def text(self):
        return self.head.decode("utf-8", "replace")

    def summary(self, limit=1500):
        if self.total <= limit:
            return self.text()
        tail = bytes(self.tail[-300:]).decode("utf-8", "replace")
        return (self.head[:limit - 300].decode("utf-8", "replace")
                + f"\n[... {self.total:,} bytes in all ...]\n" + tail)


# -- processes ---------------------------------------------------------------------------------

_SUBREAPER = False


def become_subreaper():
    """Orphans of a case are re-parented to this process (Linux), so none can hide."""
    global _SUBREAPER
    if _SUBREAPER or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(36, 1, 0, 0, 0) == 0:  # PR_SET_CHILD_SUBREAPER
            _SUBREAPER = True
    except OSError:
        pass


def _proc_read(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _ppid_and_state(pid):
    text = _proc_read(pid, "stat").decode("ascii", "replace")
    if not text:
        return None, None
    rest = text.rpartition(")")[2].split()
    try:
        return int(rest[1]), rest[0]
    except (IndexError, ValueError):
        return None, None


def case_processes(marker, exclude=()):
    """{pid: cmdline} of live processes that carry ``marker`` or are orphans re-parented here."""
    me = os.getpid()
    needle = marker.encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == me or pid in exclude:
            continue
        ppid, state = _ppid_and_state(pid)
        if state is None or state in ("Z", "X"):
            continue
        orphan = _SUBREAPER and ppid == me
        if orphan or needle in _proc_read(pid, "environ") or needle in _proc_read(pid, "cmdline"):
            cmd = _proc_read(pid, "cmdline").replace(b"\0", b" ").decode("utf-8", "replace")
            found[pid] = cmd.strip()[:200]
    return found


def reap_orphans():
    """Collect the zombies of orphans re-parented to this process (never a live case)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _limits():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > AS_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT if hard != resource.RLIM_INFINITY
                                                else resource.RLIM_INFINITY))


# -- the case ----------------------------------------------------------------------------------

CLASSES = ("config", "npz", "hostile-code", "forge", "cli", "cwd-shadowing", "processes",
           "signals", "memory", "output-files", "messages", "parsing", "state")


@dataclass
class Case:
    """One attack: files to create, the argv, and what must hold afterwards.

    ``files``: path relative to ROOT -> str (tokens @ROOT@, @USER@, @OUTSIDE@, @MARKER@ replaced)
    or bytes; ``setup(ctx)`` makes anything else (links, FIFOs, modes).  ``argv`` (same tokens)
    follows the command; ``cmd`` replaces the command (``"python-m"``: ``python -m MODULE``;
    a list: run that instead, for the Python API cases).  ``status``: the allowed exit statuses
    (None: any; a signal death is the negative signal number).  ``words``: what the one error
    line (status 2, or 130) must contain.  ``during(ctx)`` runs in a thread while the command
    runs (signals, files appearing).  ``post(ctx, run)`` returns extra problems.
    """

    name: str
    cls: str
    argv: list
    files: dict = field(default_factory=dict)
    setup: object = None
    cwd: str = "user"
    cmd: object = None
    status: tuple = (0,)
    words: tuple = ()
    json: bool = None             # None: whether argv asks for --json
    seconds: float = 15.0         # wall-time bound
    kill_after: float = None      # the harness stops a run that goes on this long
    rss_mb: float = 400.0         # peak RSS bound of the command (with the children it reaped)
    quiet: bool = True            # the code prints nothing: on 2/130 stderr is that one line
    may_change: tuple = ()        # paths under ROOT the command may legitimately write
    during: object = None
    post: object = None
    env: dict = field(default_factory=dict)
    stdout_to: str = None         # None: captured; "closed": a pipe closed at once; else a path
    report: bool = None           # None: whether argv asks for a check (CONFIG or --layer)
    note: str = ""

    def __post_init__(self):
        assert self.cls in CLASSES, self.cls
        if self.json is None:
            self.json = "--json" in self.argv or "--format=json" in self.argv or any(
                a == "--format" and b == "json" for a, b in zip(self.argv, self.argv[1:]))
        if self.report is None:
            argv = [] if callable(self.argv) else self.argv
            self.report = (not isinstance(self.cmd, list) and bool(argv)
                           and ("--layer" in argv or not argv[0].startswith("-"))
                           and not {"--search", "--help", "--list-variants"} & set(argv))
        if self.kill_after is None:
            self.kill_after = max(2 * self.seconds, self.seconds + 20)

    def expected(self):
        parts = [f"exit {'/'.join(map(str, self.status)) if self.status else 'any'}"]
        if self.words:
            parts.append("one error line with " + ", ".join(repr(w) for w in self.words))
        if self.json:
            parts.append("one JSON object")
        parts.append(f"< {self.seconds:g} s, < {self.rss_mb:g} MB, nothing left, files intact")
        return "; ".join(parts)


class Context:
    def __init__(self, case):
        self.case = case
        self.marker = uuid.uuid4().hex
        base = Path(os.environ.get("GRADCHECK_ATTACK_TMP", REPO / "results" / "harness" / "cases"))
        base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="gc-attack-", dir=base))
        self.user = self.root / "user"
        self.outside = self.root / "outside"
        self.tmp = self.root / "tmp"
        for d in (self.user, self.outside, self.tmp):
            d.mkdir()
        (self.outside / "sentinel.txt").write_text("a file the command must never touch\n")
        self.pid = None
        self.started = None
        self.events = []      # what during() did, for the report

    def sub(self, text):
        return (text.replace("@ROOT@", str(self.root)).replace("@USER@", str(self.user))
                .replace("@OUTSIDE@", str(self.outside)).replace("@MARKER@", self.marker))

    def path(self, rel):
        return self.root / rel

    def wait_for(self, rel, timeout=15.0):
        """Wait until ROOT/rel exists (the code under test signals that it runs)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.lexists(self.root / rel):
                return True
            time.sleep(0.01)
        return False

    def cleanup(self):
        for dirpath, dirnames, filenames in os.walk(self.root, topdown=True, followlinks=False):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                try:
                    if not os.path.islink(p):
                        os.chmod(p, 0o700)
                except OSError:
                    pass
            try:
                os.chmod(dirpath, 0o700)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def _hash_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(root, skip=()):
    """{relative path: description} of everything under root except tmp/ and ``skip``; a symbolic
    link is described by its target and by the content of the regular file it reaches; FIFOs
    and devices are never opened."""
    root = Path(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == "tmp" or rel_dir.startswith("tmp" + os.sep):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if rel == "tmp" or any(rel == s or rel.startswith(s.rstrip("/") + "/") for s in skip):
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                desc = ["link", os.readlink(p)]
                try:
                    t = os.stat(p)
                    if stat.S_ISREG(t.st_mode) and os.access(p, os.R_OK):
                        desc.append(_hash_file(p))
                except OSError:
                    desc.append("dangling")
                out[rel] = tuple(desc)
            elif stat.S_ISREG(st.st_mode):
                try:
                    out[rel] = ("file", _hash_file(p))
                except OSError:
                    out[rel] = ("file", "unreadable", st.st_size, st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode))
    return out


@dataclass
class Run:
    name: str
    cls: str
    expected: str
    status: object = None
    seconds: float = 0.0
    rss_mb: float = 0.0
    hung: bool = False
    leftovers: dict = field(default_factory=dict)
    damaged: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    events: list = field(default_factory=list)
    note: str = ""

    @property
    def ok(self):
        return not self.problems

    def to_dict(self):
        return {"name": self.name, "class": self.cls, "ok": self.ok, "expected": self.expected,
                "status": self.status, "seconds": round(self.seconds, 3),
                "rss_mb": round(self.rss_mb, 1), "hung": self.hung,
                "leftovers": {str(k): v for k, v in self.leftovers.items()},
                "damaged": self.damaged, "problems": self.problems,
                "stdout_bytes": self.stdout_bytes, "stderr_bytes": self.stderr_bytes,
                "stdout": self.stdout[:4000], "stderr": self.stderr[:4000], "events": self.events,
                "note": self.note}


def _setup(case, ctx):
    for rel, content in case.files.items():
        path = ctx.root / ctx.sub(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(ctx.sub(content))
    if case.setup is not None:
        case.setup(ctx)


def _command(case, ctx):
    argv = case.argv(ctx) if callable(case.argv) else [ctx.sub(a) for a in case.argv]
    if case.cmd is None:
        cmd = CMD + argv
    elif case.cmd == "python-m":
        cmd = PYTHON_M + argv
    elif case.cmd == "console":
        cmd = CONSOLE + argv
    else:
        cmd = [ctx.sub(a) for a in case.cmd] + argv
    return (SETPRIV + ["--"] + cmd) if DROP_CAPS else cmd


def _bad_chars(text):
    return sorted({f"{ord(c):#04x}" for c in text
                   if (ord(c) < 0x20 and c != "\t") or 0x7f <= ord(c) <= 0x9f})


def run_case(case, keep=False):
    """Run one case; a ``Run`` whose ``problems`` list every expectation that did not hold."""
    become_subreaper()
    ctx = Context(case)
    run = Run(case.name, case.cls, case.expected(), note=case.note)
    try:
        _setup(case, ctx)
        before = snapshot(ctx.root, case.may_change)
        cmd = _command(case, ctx)
        env = {**os.environ, MARKER_VAR: ctx.marker, "TMPDIR": str(ctx.tmp),
               "GRADCHECK_ATTACK_ROOT": str(ctx.root), "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONUNBUFFERED": "", **{k: ctx.sub(v) for k, v in case.env.items()}}
        env = {k: v for k, v in env.items() if v != ""}
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if case.stdout_to == "closed":
            os.close(out_r)
            out_r = os.open(os.devnull, os.O_RDONLY)  # an empty capture
        elif case.stdout_to is not None:
            os.close(out_r)
            os.close(out_w)
            out_w = os.open(ctx.sub(case.stdout_to), os.O_WRONLY)
            out_r = os.open(os.devnull, os.O_RDONLY)
        import subprocess
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ctx.root / case.cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out_w, stderr=err_w, start_new_session=True,
                                preexec_fn=_limits)
        os.close(out_w)
        os.close(err_w)
        ctx.pid, ctx.started = proc.pid, started
        out, err = Capture(out_r), Capture(err_r)
        helper = None
        if case.during is not None:
            def during():
                try:
                    case.during(ctx)
                except Exception as e:  # noqa: BLE001 - reported, never fatal
                    ctx.events.append(f"during() failed: {e!r}")
            helper = threading.Thread(target=during, daemon=True)
            helper.start()
        status_word, usage = None, None
        while True:
            pid, status_word, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > case.kill_after:
                # a hang: Ctrl-C first (gradcheck may still clean up after itself), then SIGKILL
                run.hung = True
                ctx.events.append(f"hung: SIGINT at {case.kill_after:g} s, SIGKILL 3 s later")
                try:
                    os.kill(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                end = time.monotonic() + 3
                while time.monotonic() < end:
                    pid, status_word, usage = os.wait4(proc.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.02)
                if not pid:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    pid, status_word, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        run.seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status_word)
        run.status = proc.returncode
        run.rss_mb = usage.ru_maxrss / 1024
        if helper is not None:
            helper.join(5)
        # anything the case left running: give it a moment to go away by itself, then kill it
        deadline = time.monotonic() + 1.0
        left = case_processes(ctx.marker)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            reap_orphans()
            left = case_processes(ctx.marker)
        run.leftovers = left
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        time.sleep(0.05 if left else 0)
        reap_orphans()
        for cap in (out, err):
            if not cap.join(5):
                ctx.events.append("an output pipe stayed open after the command ended")
        for fd in (out_r, err_r):
            try:
                os.close(fd)
            except OSError:
                pass
        run.stdout, run.stderr = out.summary(), err.summary()
        run.stdout_bytes, run.stderr_bytes = out.total, err.total
        after = snapshot(ctx.root, case.may_change)
        run.damaged = _damage(before, after)
        run.events = ctx.events
        run.problems = judge(case, run, out, err)
        if case.post is not None:
            try:
                run.problems += list(case.post(ctx, run) or [])
            except Exception as e:  # noqa: BLE001
                run.problems.append(f"post-check failed: {e!r}")
    except Exception as e:  # noqa: BLE001 - a harness problem is a visible problem of the case
        run.problems.append(f"harness error: {type(e).__name__}: {e}")
    finally:
        if not keep:
            ctx.cleanup()
        else:
            run.events.append(f"kept {ctx.root}")
    return run


def _damage(before, after):
    damaged = []
    for rel, desc in before.items():
        if rel not in after:
            damaged.append(f"{rel}: removed")
        elif after[rel] != desc:
            what = "replaced" if after[rel][0] != desc[0] else "changed"
            if desc[0] == "link" and after[rel][0] == "link" and after[rel][1] == desc[1]:
                what = "its target changed"
            damaged.append(f"{rel}: {what}")
    for rel in after:
        if rel not in before and rel.startswith("outside" + os.sep):
            damaged.append(f"{rel}: created outside the case's folders")
    return damaged


def _error_lines(err):
    return [line.decode("utf-8", "replace") for line in err.gc_lines]


def judge(case, run, out, err):
    """The expectations of ``case`` that ``run`` broke, one sentence each."""
    problems = []
    status = run.status
    if run.hung:
        problems.append(f"still running after {case.kill_after:g} s (killed by the harness)")
    elif case.status is not None and status not in case.status:
        problems.append(f"exit {status}, expected {'/'.join(map(str, case.status))}")
    if out.traceback or err.traceback:
        problems.append("a Traceback on " + ("stderr" if err.traceback else "stdout"))
    lines = _error_lines(err)
    if status in (2, 130) and not run.hung:
        prefix = "gradcheck: error:" if status == 2 else "gradcheck:"
        mine = [line for line in lines if line.startswith(prefix)]
        if len(mine) != 1:
            problems.append(f"{len(mine)} lines starting {prefix!r} on stderr, expected 1")
        elif case.quiet and err.lines != 1:
            problems.append(f"stderr has {err.lines} lines, expected only the error line")
        if len(mine) == 1:
            line = mine[0]
            missing = [w for w in case.words if w.lower() not in line.lower()]
            if missing:
                problems.append(f"the error line lacks {missing}: {line[:300]!r}")
            if "please report this" in line or "unexpected " in line.lower():
                problems.append(f"the error line reports an internal error: {line[:300]!r}")
        if not case.json and out.total:
            problems.append(f"stdout not empty on exit {status}: {out.summary(200)!r}")
    for line in lines:
        bad = _bad_chars(line)
        if bad:
            problems.append(f"control characters {bad} in a gradcheck line: {line[:200]!r}")
            break
    text = out.text()
    if "FORGED" in text or case.cls == "forge" and "PASSED" in text:
        problems.append("stdout carries text the code under test forged")
    if case.json and not run.hung:
        problems += _judge_json(text, out, status)
    elif (case.report and case.stdout_to is None and status in (0, 1) and not run.hung
          and not text.startswith(f"gradcheck {'PASSED' if status == 0 else 'FAILED'}")):
        problems.append(f"exit {status} but stdout is not the report: {text[:120]!r}")
    if run.seconds > case.seconds and not run.hung:
        problems.append(f"took {run.seconds:.1f} s, bound {case.seconds:g} s")
    if run.rss_mb > case.rss_mb:
        problems.append(f"peak RSS {run.rss_mb:.0f} MB, bound {case.rss_mb:g} MB")
    if run.leftovers:
        problems.append(f"{len(run.leftovers)} process(es) left running: "
                        + "; ".join(f"{p} {c[:80]}" for p, c in list(run.leftovers.items())[:3]))
    if run.damaged:
        problems.append("files damaged: " + "; ".join(run.damaged[:5]))
    return problems


def _judge_json(text, out, status):
    if not out.complete:
        return [f"--json: stdout is {out.total:,} bytes"]
    try:
        obj = json.loads(text)
    except ValueError as e:
        return [f"--json: stdout is not one JSON object ({e}): {text[:200]!r}"]
    if not isinstance(obj, dict):
        return [f"--json: stdout is a JSON {type(obj).__name__}, not an object"]
    problems = []
    passed = obj.get("passed")
    if not isinstance(passed, bool):
        problems.append(f"--json: 'passed' is {passed!r}, not a bool")
    elif status in (0, 1, 2, 130) and passed is not (status == 0):
        problems.append(f"--json: 'passed' is {passed} with exit {status}")
    if "max_relative_error" not in obj or "parameters" not in obj:
        problems.append("--json: 'max_relative_error' or 'parameters' missing")
    if status in (2, 130) and (obj.get("status") != status or not obj.get("error")):
        problems.append(f"--json: exit {status} but status={obj.get('status')!r}, "
                        f"error={obj.get('error')!r}")
    return problems


# -- running a table ---------------------------------------------------------------------------


def describe_run(run):
    """One line: class, name, what was expected, what happened (and which expectations broke)."""
    got = [f"exit {run.status}" + (" (hung, stopped by the harness)" if run.hung else ""),
           f"{run.seconds:.1f} s", f"{run.rss_mb:.0f} MB"]
    if run.leftovers:
        got.append(f"{len(run.leftovers)} left running")
    if run.damaged:
        got.append("damaged " + ", ".join(run.damaged[:3]))
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    line = next((x for x in lines if x.startswith("gradcheck:")), lines[0] if lines else "")
    if line:
        got.append(f"stderr {line[:140]!r}")
    elif run.stdout.strip():
        got.append(f"stdout {run.stdout.strip().splitlines()[0][:100]!r}")
    return (f"FAIL [{run.cls}] {run.name} -- expected {run.expected} -- got {', '.join(got)}"
            f" -- broke: {' | '.join(p[:200] for p in run.problems)}")


def run_table(cases, label, out_dir=None, keep=False, jobs=1, stream=sys.stdout):
    """Run ``cases`` one at a time, print each failure and a summary per class, and write
    results/harness/<label>-<time>.json (and <label>-latest.json).  Returns the runs."""
    if jobs != 1:
        stream.write("note: cases run one at a time (--jobs 1); the machine is shared and orphan "
                     "detection needs it\n")
    runs = []
    for k, case in enumerate(cases, 1):
        stream.write(f"[{k}/{len(cases)}] {case.cls}: {case.name} ... ")
        stream.flush()
        run = run_case(case, keep=keep)
        runs.append(run)
        stream.write(("ok" if run.ok else "FAIL") + f" ({run.seconds:.1f} s)\n")
        stream.flush()
    failing = [r for r in runs if not r.ok]
    stream.write("\n")
    for r in failing:
        stream.write(describe_run(r) + "\n")
    stream.write("\nper class: cases, failing\n")
    for cls in CLASSES:
        mine = [r for r in runs if r.cls == cls]
        if mine:
            bad = sum(not r.ok for r in mine)
            stream.write(f"  {cls:<14} {len(mine):>4} {bad:>4}\n")
    stream.write(f"  {'total':<14} {len(runs):>4} {len(failing):>4}\n")
    out_dir = Path(out_dir or REPO / "results" / "harness")
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"label": label, "command": CMD, "python_m": PYTHON_M, "caps_dropped": DROP_CAPS,
               "as_limit_mb": AS_LIMIT >> 20, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "cases": len(runs), "failing": len(failing),
               "per_class": {cls: {"cases": sum(r.cls == cls for r in runs),
                                   "failing": sum(r.cls == cls and not r.ok for r in runs)}
                             for cls in CLASSES if any(r.cls == cls for r in runs)},
               "runs": [r.to_dict() for r in runs]}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"{label}-{stamp}.json", f"{label}-latest.json"):
        (out_dir / name).write_text(json.dumps(payload, indent=1))
    stream.write(f"\nwritten: {out_dir / f'{label}-{stamp}.json'}\n")
    return runs
