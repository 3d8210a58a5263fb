"""The attack table: hostile and broken inputs through the real command, each with what must hold.

    python -m tests.harness hostile [--only CLASS[,CLASS]] [--name SUBSTRING] [--keep] [--list]

Every case names its class, the files it makes (config, data, the user's code), the argv after
the command (``engine.CMD``) and its expectations: the allowed exit statuses, the words of the one
``gradcheck: error:`` line, valid JSON under --json, a time bound, a peak-RSS bound, no process
left behind, no file changed that the command does not own (see ``engine``).

The user's code runs as the case's user; the forge cases look for the command's exchange folder
(argv, /proc/self, the temp folder, the working directory) and only ever touch one that lies in
the case's own folder (``GRADCHECK_ATTACK_ROOT``; the case's TMPDIR is inside it).
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import time
import zipfile
import zlib

import numpy as np

from .engine import CLASSES, Case, run_table

# -- building blocks -----------------------------------------------------------------------------

NET = "layers = [3, 2]\nseed = 1\n"
IMPL = ["cfg/net.toml", "--impl"]

RIGHT = '''import numpy as np

def grad(weights, biases, x, y):
    W, b = weights[0], biases[0]
    a = 1 / (1 + np.exp(-(W @ x + b)))
    d = (a - y) * a * (1 - a)
    return [d @ x.T], [d.sum(axis=1, keepdims=True)]

def wrong(weights, biases, x, y):
    gw, gb = grad(weights, biases, x, y)
    return [3 * gw[0]], [3 * gb[0]]

def started():
    open("@ROOT@/started", "w").close()
'''

LAYER = '''import numpy as np

def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)

def wrong_backward(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return 3 * dx, 3 * dw, 3 * db

def scaled_forward(x, w, param):
    s = param["scale"]
    return s * (x @ w), (x, w, s)

def scaled_backward(dout, cache):
    x, w, s = cache
    return s * (dout @ w.T), s * (x.T @ dout)

def started():
    open("@ROOT@/started", "w").close()
'''
SHAPES = ["--shape", "x=4,3", "--shape", "w=3,5", "--shape", "b=5"]


def layer_argv(pair="affine_forward,affine_backward", file="L.py"):
    return ["--layer", f"{file}:{pair}", *SHAPES]


#: finds the command's exchange folder from inside the user's code, by one route or any
FIND = r'''
import glob as _glob, json as _json, os as _os, sys as _sys, tempfile as _tempfile

def _exchange(how="any"):
    root = _os.path.realpath(_os.environ.get("GRADCHECK_ATTACK_ROOT", "/nonexistent"))
    def ours(d):
        d = _os.path.realpath(d)
        return d.startswith(root + _os.sep) and _os.path.isfile(_os.path.join(d, "request.json"))
    found = []
    if how in ("argv", "any"):
        found += _sys.argv[1:]
    if how in ("proc", "any"):
        try:
            found += open("/proc/self/cmdline", "rb").read().decode().split("\0")[1:]
        except OSError:
            pass
        for fd in _os.listdir("/proc/self/fd"):
            try:
                found.append(_os.path.dirname(_os.readlink("/proc/self/fd/" + fd)))
            except OSError:
                pass
    if how in ("tmpglob", "any"):
        found += sorted(_glob.glob(_os.path.join(_tempfile.gettempdir(), "gradcheck-*")))
    if how in ("cwd", "any"):
        found += [_os.getcwd()] + _glob.glob(_os.path.join(_os.getcwd(), "gradcheck-*"))
    for d in found:
        if d and _os.path.isdir(d) and ours(d):
            open(_os.path.join(root, "found-exchange"), "w").close()
            return d
    return None
'''


def user(body="", base=RIGHT, find=False):
    return base + (FIND if find else "") + body


def impl_case(name, cls, body, target, *, extra=(), status=(0,), words=(), base=RIGHT,
              find=False, files=None, **kw):
    """A config check of ``user/p.py:TARGET`` (cwd user/, config in user/cfg/)."""
    fs = {"user/cfg/net.toml": NET, "user/p.py": user(body, base, find)}
    fs.update(files or {})
    return Case(name, cls, [*IMPL, f"p.py:{target}", *extra], files=fs, status=status,
                words=words, **kw)


def layer_case(name, cls, body, pair, *, extra=(), status=(0,), words=(), find=False,
               files=None, **kw):
    fs = {"user/L.py": user(body, LAYER, find)}
    fs.update(files or {})
    return Case(name, cls, [*layer_argv(pair), *extra], files=fs, status=status, words=words,
                **kw)


def no_files(prefix, what="gradcheck imported the user's files"):
    """post(): no file named prefix* under ROOT (e.g. a shadow module's mark)."""
    def post(ctx, run):
        hits = [str(p.relative_to(ctx.root)) for p in ctx.root.glob(f"**/{prefix}*")]
        return [f"{what}: {', '.join(sorted(hits))}"] if hits else []
    return post


def _pid_alive_with_marker(ctx):
    try:
        with open(f"/proc/{ctx.pid}/environ", "rb") as f:
            return ctx.marker.encode() in f.read()
    except OSError:
        return False


def send(ctx, sig, group):
    if not _pid_alive_with_marker(ctx):
        ctx.events.append(f"{signal.Signals(sig).name}: the command had already ended")
        return
    (os.killpg if group else os.kill)(ctx.pid, sig)
    ctx.events.append(f"{signal.Signals(sig).name} sent to the {'group' if group else 'pid'} "
                      f"at {time.monotonic() - ctx.started:.2f} s")


def signal_when_started(sig, group=False, delay=0.3, times=1, gap=0.05):
    """during(): once the user's code has started (ROOT/started), send ``sig``."""
    def during(ctx):
        if not ctx.wait_for("started"):
            ctx.events.append("the user's code never started")
            return
        time.sleep(delay)
        for k in range(times):
            send(ctx, sig, group)
            time.sleep(gap)
    return during


def signal_at(t, sig=signal.SIGINT, group=True):
    """during(): send ``sig`` t seconds after launch (Ctrl-C in a terminal: to the group)."""
    def during(ctx):
        time.sleep(max(0.0, ctx.started + t - time.monotonic()))
        send(ctx, sig, group)
    return during


def sh(*steps):
    """setup(): a sequence of steps, each a callable(ctx)."""
    def setup(ctx):
        for step in steps:
            step(ctx)
    return setup


def symlink(rel, target):
    return lambda ctx: os.symlink(ctx.sub(target), ctx.path(rel))


def hardlink(rel, target):
    return lambda ctx: os.link(ctx.path(target), ctx.path(rel))


def fifo(rel):
    return lambda ctx: os.mkfifo(ctx.path(rel))


def mkdir(rel):
    return lambda ctx: ctx.path(rel).mkdir(parents=True, exist_ok=True)


def chmod(rel, mode):
    return lambda ctx: os.chmod(ctx.path(rel), mode)


def write_npz(rel, **arrays):
    def step(ctx):
        path = ctx.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    return step


def raw_npz(rel, members, compress=False):
    """An npz made by hand: member name -> (header dict, data bytes or ('zeros', n))."""
    def step(ctx):
        path = ctx.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with zipfile.ZipFile(path, "w", mode) as z:
            for name, (header, data) in members.items():
                with z.open(zipfile.ZipInfo(name), "w", force_zip64=True) as f:
                    if header is not None:
                        np.lib.format.write_array_header_1_0(f, header)
                    if isinstance(data, tuple):  # ("zeros", n): n zero bytes, streamed
                        block = bytes(1 << 20)
                        left = data[1]
                        while left > 0:
                            f.write(block[:min(left, len(block))])
                            left -= len(block)
                    else:
                        f.write(data)
    return step


def zip_bomb(rel, members):
    """Like raw_npz but deflated: gigabytes of zeros in a few megabytes."""
    def step(ctx):
        path = ctx.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for name, (header, nbytes) in members.items():
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with z.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array_header_1_0(f, header)
                    block = bytes(8 << 20)
                    left = nbytes
                    while left > 0:
                        f.write(block[:min(left, len(block))])
                        left -= len(block)
    return step


def file_appears(rel, content="appeared during the check\n", after="started", delay=0.0,
                 link_to=None):
    """during(): once ROOT/after exists (or ``after`` seconds from launch), a file (or a symlink)
    appears at ROOT/rel."""
    def during(ctx):
        if isinstance(after, str):
            ctx.wait_for(after)
        else:
            time.sleep(max(0.0, ctx.started + after - time.monotonic()))
        time.sleep(delay)
        path = ctx.path(rel)
        if link_to:
            os.symlink(ctx.sub(link_to), path)
        else:
            path.write_text(content)
        ctx.events.append(f"{rel} appeared at {time.monotonic() - ctx.started:.2f} s")
    return during


def regular_file_at(rel):
    def post(ctx, run):
        p = ctx.path(rel)
        if run.status != 0:
            return []
        if os.path.islink(p) or not p.is_file():
            return [f"{rel} is not a regular file after a successful run"]
        return []
    return post


def keeps(rel, text):
    """post(): ROOT/rel still holds ``text`` (the file that appeared during the check)."""
    def post(ctx, run):
        p = ctx.path(rel)
        try:
            if os.path.islink(p):
                got = os.readlink(p)
                return [] if got == ctx.sub(text) else [f"{rel} now links to {got}"]
            got = p.read_bytes()
        except OSError as e:
            return [f"{rel}: {e.strerror}"]
        return [] if got == text.encode() else [f"{rel} was replaced (now {got[:40]!r})"]
    return post


def nothing_new_in(rel):
    def post(ctx, run):
        new = [p.name for p in ctx.path(rel).iterdir() if p.name != "sentinel.txt"]
        return [f"created in {rel}/: {new}"] if new else []
    return post


def both(*posts):
    def post(ctx, run):
        out = []
        for p in posts:
            out += p(ctx, run) or []
        return out
    return post


SEARCH = ["--search", "code2", "--max-examples", "50"]
CASES = []


def add(*cases):
    CASES.extend(cases)


# -- config ----------------------------------------------------------------------------------------

add(
    Case("a directory as config", "config", ["cfg"], setup=mkdir("user/cfg"), status=(2,),
         words=("is a directory",)),
    Case("/dev/zero as config", "config", ["/dev/zero"], status=(2,),
         words=("not a regular file",)),
    Case("/dev/null as config", "config", ["/dev/null"], status=(2,),
         words=("not a regular file",)),
    Case("a FIFO as config", "config", ["pipe.toml"], setup=fifo("user/pipe.toml"), status=(2,),
         words=("not a regular file",), seconds=10),
    Case("a symlink to a FIFO as config", "config", ["link.toml"],
         setup=sh(fifo("outside/pipe"), symlink("user/link.toml", "@OUTSIDE@/pipe")),
         status=(2,), words=("not a regular file",), seconds=10),
    Case("a symlink loop as config", "config", ["loop.toml"],
         setup=symlink("user/loop.toml", "@USER@/loop.toml"), status=(2,), words=("loop.toml",)),
    Case("deeply nested JSON", "config", ["deep.json"],
         files={"user/deep.json": "[" * 100000 + "]" * 100000}, status=(2,), words=("deep.json",)),
    Case("deeply nested TOML", "config", ["deep.toml"],
         files={"user/deep.toml": "a = " + "[" * 100000 + "]" * 100000}, status=(2,),
         words=("deep.toml",)),
    Case("a 2 MiB config", "config", ["big.toml"], files={"user/big.toml": "# " + "x" * (2 << 20)},
         status=(2,), words=("larger than",)),
    Case("an empty config", "config", ["e.toml"], files={"user/e.toml": ""}, status=(2,),
         words=("layers",)),
    Case("a config that is not UTF-8", "config", ["bin.toml"],
         files={"user/bin.toml": b"layers = [3, 2]\n# \xff\xfe\n"}, status=(2,), words=("UTF-8",)),
    Case("a JSON config that is a list", "config", ["l.json"], files={"user/l.json": "[3, 2]"},
         status=(2,), words=("table",)),
    Case("JSON l2 = NaN", "config", ["n.json"],
         files={"user/n.json": '{"layers": [3, 2], "l2": NaN}'}, status=(2,), words=("l2",)),
    Case("JSON l2 = Infinity", "config", ["n.json"],
         files={"user/n.json": '{"layers": [3, 2], "l2": Infinity}'}, status=(2,), words=("l2",)),
    Case("JSON batch = 1e308", "config", ["n.json"],
         files={"user/n.json": '{"layers": [3, 2], "batch": 1e308}'}, status=(2,),
         words=("batch",)),
    Case("batch = 10**12 refused before allocating", "config", ["b.toml"],
         files={"user/b.toml": "layers = [3, 2]\nbatch = 1000000000000\n"}, status=(2,),
         seconds=10, rss_mb=300),
    Case("layers of 100,000 units refused before allocating", "config", ["b.toml"],
         files={"user/b.toml": "layers = [100000, 100000, 100000]\n"}, status=(2,), seconds=10,
         rss_mb=300),
    Case("a layer of 0 units", "config", ["z.toml"], files={"user/z.toml": "layers = [3, 0]\n"},
         status=(2,), words=("layers",)),
    Case("one layer only", "config", ["z.toml"], files={"user/z.toml": "layers = [3]\n"},
         status=(2,), words=("layers",)),
    Case("layers as strings", "config", ["z.json"],
         files={"user/z.json": '{"layers": ["3", "2"]}'}, status=(2,), words=("layers",)),
    Case("a fractional layer size", "config", ["z.toml"],
         files={"user/z.toml": "layers = [3, 2.5]\n"}, status=(2,), words=("layers",)),
    Case("a 100-digit seed", "config", ["s.toml"],
         files={"user/s.toml": "layers = [3, 2]\nseed = " + "9" * 100 + "\n"}, status=(0, 2)),
    Case("a misspelt activation gets a suggestion", "config", ["a.toml"],
         files={"user/a.toml": 'layers = [3, 2]\nactivations = "sigmod"\n'}, status=(2,),
         words=("did you mean", "sigmoid")),
    Case("one activation too many", "config", ["a.toml"],
         files={"user/a.toml": 'layers = [3, 2]\nactivations = ["tanh", "tanh"]\n'}, status=(2,),
         words=("activations",)),
    Case("bias = \"yes\"", "config", ["a.toml"],
         files={"user/a.toml": 'layers = [3, 2]\nbias = "yes"\n'}, status=(2,), words=("bias",)),
    Case("impl = 5", "config", ["a.toml"], files={"user/a.toml": 'layers = [3, 2]\nimpl = 5\n'},
         status=(2,), words=("impl",)),
    Case("an [impl] kind that does not exist", "config", ["a.toml", "--impl", "p.py:grad"],
         files={"user/a.toml": 'layers = [3, 2]\n[impl]\nkind = "bogus"\n', "user/p.py": RIGHT},
         status=(2,), words=("kind",)),
    Case("a TOML key with a newline", "config", ["k.toml"],
         files={"user/k.toml": 'layers = [3, 2]\n"bad\\nkey" = 1\n'}, status=(2,),
         words=("bad\\nkey",)),
    Case("weights = \"\"", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = ""\n'}, status=(2,), words=("weights",)),
    Case("weights is a directory", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = "wdir"\n'}, setup=mkdir("user/wdir"),
         status=(2,), words=("is a directory",)),
    Case("weights = /dev/zero", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = "/dev/zero"\n'}, status=(2,),
         words=("not a regular file",)),
    Case("weights = /proc/self/environ", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = "/proc/self/environ"\n'}, status=(2,),
         words=("npz",)),
    Case("data is a symlink loop", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\ndata = "loop.npz"\n'},
         setup=symlink("user/loop.npz", "@USER@/loop.npz"), status=(2,), words=("loop.npz",)),
    Case("weights is a symlink loop", "config", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = "loop.npz"\n'},
         setup=symlink("user/loop.npz", "@USER@/loop.npz"), status=(2,), words=("loop.npz",)),
    Case("a config with a UTF-8 byte-order mark", "config", ["bom.toml"],
         files={"user/bom.toml": b"\xef\xbb\xbflayers = [3, 2]\n"}, status=(0, 2)),
)

# -- npz -----------------------------------------------------------------------------------------

W_TOML = 'layers = [3, 2]\nweights = "w.npz"\n'
D_TOML = 'layers = [3, 2]\ndata = "d.npz"\n'
rng = np.random.default_rng(0)
GOOD_W = {"W1": rng.standard_normal((2, 3)), "b1": rng.standard_normal((2, 1))}
GOOD_D = {"x": rng.standard_normal((3, 5)), "y": rng.random((2, 5))}


def _npz_bytes(**arrays):
    import io
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _truncated(arrays):
    data = _npz_bytes(**arrays)
    return data[:len(data) // 2]


def npz_case(name, which, *, setup=None, files=None, status=(2,), words=(), **kw):
    toml = W_TOML if which == "w" else D_TOML
    return Case(name, "npz", ["c.toml"], files={"user/c.toml": toml, **(files or {})},
                setup=setup, status=status, words=words, **kw)


add(
    npz_case("truncated weights npz", "w", files={"user/w.npz": _truncated(GOOD_W)},
             words=("w.npz",)),
    npz_case("truncated data npz", "d", files={"user/d.npz": _truncated(GOOD_D)},
             words=("d.npz",)),
    npz_case("an object array (a pickle) in the weights", "w",
             setup=write_npz("user/w.npz", W1=np.array([[object()] * 3] * 2, dtype=object),
                             b1=GOOD_W["b1"]), words=("pickle",)),
    npz_case("an object array (a pickle) in the data", "d",
             setup=write_npz("user/d.npz", x=np.array([[1, "a"]] * 3, dtype=object),
                             y=GOOD_D["y"]), words=("pickle",)),
    npz_case("NaN in the weights", "w",
             setup=write_npz("user/w.npz", W1=np.full((2, 3), np.nan), b1=GOOD_W["b1"])),
    npz_case("inf in the data", "d",
             setup=write_npz("user/d.npz", x=np.full((3, 5), np.inf), y=GOOD_D["y"])),
    npz_case("W1 of the wrong shape", "w",
             setup=write_npz("user/w.npz", W1=np.zeros((3, 2)), b1=GOOD_W["b1"]),
             words=("W1", "shape")),
    npz_case("b1 missing", "w", setup=write_npz("user/w.npz", W1=GOOD_W["W1"]), words=("b1",)),
    npz_case("y of the wrong shape", "d",
             setup=write_npz("user/d.npz", x=GOOD_D["x"], y=np.zeros((3, 5))), words=("y",)),
    npz_case("x one-dimensional", "d",
             setup=write_npz("user/d.npz", x=np.zeros(3), y=GOOD_D["y"]), words=("x",)),
    npz_case("a header declaring x of shape (3, 10**11)", "d", seconds=10, rss_mb=300,
             setup=raw_npz("user/d.npz", {
                 "x.npy": ({"descr": "<f8", "fortran_order": False, "shape": (3, 10**11)}, b""),
                 "y.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2, 10**11)}, b"")})),
    npz_case("a zip bomb behind a small header (x reads 15 values of 512 MB)", "d",
             status=(0, 2), seconds=20, rss_mb=300,
             setup=zip_bomb("user/d.npz", {
                 "x.npy": ({"descr": "<f8", "fortran_order": False, "shape": (3, 5)}, 512 << 20),
                 "y.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2, 5)}, 80)})),
    npz_case("an extra member that decompresses to 1 GB", "w", status=(0, 2), seconds=20,
             rss_mb=300,
             setup=lambda ctx: _add_bomb(ctx)),
    npz_case("two members both named x", "d", words=("two members",),
             setup=raw_npz("user/d.npz", {
                 "x.npy": ({"descr": "<f8", "fortran_order": False, "shape": (3, 5)}, bytes(120)),
                 "y.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2, 5)}, bytes(80)),
                 "x": ({"descr": "<f8", "fortran_order": False, "shape": (3, 20_000_000)}, b"")})),
    npz_case("complex weights", "w",
             setup=write_npz("user/w.npz", W1=GOOD_W["W1"] + 1j, b1=GOOD_W["b1"]),
             words=("dtype",)),
    npz_case("string data", "d", setup=write_npz("user/d.npz", x=np.full((3, 5), "ab"),
                                                 y=GOOD_D["y"]), words=("dtype",)),
    npz_case("a structured dtype with an object field", "d",
             setup=write_npz("user/d.npz", x=np.zeros((3, 5), dtype=[("a", "f8"), ("o", "O")]),
                             y=GOOD_D["y"]), words=("x",)),
    npz_case("data is a FIFO", "d", setup=fifo("user/d.npz"), words=("not a regular file",),
             seconds=10),
    npz_case("weights is a symlink to /dev/zero", "w", setup=symlink("user/w.npz", "/dev/zero"),
             words=("not a regular file",)),
    npz_case("an npz of 20,000 members", "w", status=(0, 2), seconds=20,
             setup=lambda ctx: _many_members(ctx)),
    npz_case("big-endian, Fortran-ordered weights are read as they are", "w", status=(0,),
             setup=write_npz("user/w.npz", W1=np.asfortranarray(GOOD_W["W1"].astype(">f8")),
                             b1=GOOD_W["b1"].astype(">f8"))),
    npz_case("a member shorter than its header says", "w", words=("W1",),
             setup=raw_npz("user/w.npz", {
                 "W1.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2, 3)}, bytes(16)),
                 "b1.npy": ({"descr": "<f8", "fortran_order": False, "shape": (2, 1)}, bytes(16))})),
    npz_case("a member that is not a .npy array", "w", words=("W1",),
             setup=raw_npz("user/w.npz", {"W1.npy": (None, b"not an array"),
                                          "b1.npy": (None, b"nor this")})),
    npz_case("an encrypted-flag member", "w", words=("w.npz",),
             setup=lambda ctx: _encrypted(ctx)),
)


def _add_bomb(ctx):
    """w.npz: the right W1 and b1, and a member junk.npy of 960 MB of zeros, deflated."""
    with zipfile.ZipFile(ctx.path("user/w.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, a in GOOD_W.items():
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, a)
        with z.open("junk.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (3, 40_000_000)})
            block = bytes(8 << 20)
            for _ in range(960_000_000 // len(block)):
                f.write(block)


def _many_members(ctx):
    with zipfile.ZipFile(ctx.path("user/w.npz"), "w") as z:
        for name, a in GOOD_W.items():
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, a)
        small = _npz_bytes(a=np.zeros(1))
        with zipfile.ZipFile(__import__("io").BytesIO(small)) as s:
            member = s.read("a.npy")
        for k in range(20_000):
            z.writestr(f"m{k}.npy", member)


def _encrypted(ctx):
    data = bytearray(_npz_bytes(**GOOD_W))
    # set the "encrypted" bit in every local and central header's flags
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while True:
            i = data.find(sig, start)
            if i < 0:
                break
            data[i + off] |= 1
            start = i + 4
    ctx.path("user/w.npz").write_bytes(bytes(data))


# -- hostile code (config checks, --impl) ---------------------------------------------------------

add(
    impl_case("os._exit(0) in the code", "hostile-code",
              "def bad(w, b, x, y):\n    import os\n    os._exit(0)\n", "bad", status=(2,),
              words=("exited with status 0",)),
    impl_case("sys.exit(0) in the code", "hostile-code",
              "def bad(w, b, x, y):\n    import sys\n    sys.exit(0)\n", "bad", status=(2,),
              words=("SystemExit",)),
    impl_case("os._exit(0) while importing", "hostile-code", "import os\nos._exit(0)\n", "grad",
              status=(2,), words=("exited",)),
    impl_case("sys.exit(0) while importing", "hostile-code", "import sys\nsys.exit(0)\n", "grad",
              status=(2,), words=("SystemExit",)),
    impl_case("a crash (SIGSEGV)", "hostile-code",
              "def bad(w, b, x, y):\n    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
              "bad", status=(2,), words=("signal 11",)),
    impl_case("SIGALRM from signal.alarm", "hostile-code",
              "def bad(w, b, x, y):\n    import signal, time\n    signal.alarm(1)\n    time.sleep(5)\n",
              "bad", status=(2,), words=("signal 14",)),
    impl_case("an infinite loop, --timeout 2", "hostile-code",
              "def bad(w, b, x, y):\n    while True:\n        pass\n", "bad", extra=("--timeout", "2"),
              status=(2,), words=("did not return within 2",), seconds=8),
    impl_case("an infinite loop that ignores SIGTERM and SIGINT, --timeout 2", "hostile-code",
              "def bad(w, b, x, y):\n    import signal\n"
              "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
              "        signal.signal(s, signal.SIG_IGN)\n    while True:\n        pass\n", "bad",
              extra=("--timeout", "2"), status=(2,), words=("did not return",), seconds=8),
    impl_case("a TARGET expression that sleeps, --timeout 2", "hostile-code", "",
              "__import__('time').sleep(100) or grad", extra=("--timeout", "2"), status=(2,),
              words=("did not return",), seconds=8),
    impl_case("a leftover non-daemon thread", "hostile-code",
              "import threading, time\ndef slow(w, b, x, y):\n"
              "    threading.Thread(target=time.sleep, args=(600,)).start()\n"
              "    return grad(w, b, x, y)\n", "slow", seconds=8),
    impl_case("np.seterr(all='raise') left behind", "hostile-code",
              "def raising(w, b, x, y):\n    np.seterr(all='raise')\n"
              "    np.set_printoptions(precision=1)\n    return grad(w, b, x, y)\n", "raising"),
    impl_case("a write to file descriptor 1 under --json", "hostile-code",
              "def loud(w, b, x, y):\n    import os\n    os.write(1, b'{garbage')\n"
              "    print('more garbage')\n    return grad(w, b, x, y)\n", "loud", extra=("--json",),
              quiet=False),
    impl_case("fd 1 and 2 closed by the code", "hostile-code",
              "def mute(w, b, x, y):\n    import os\n    for fd in (1, 2):\n        try:\n"
              "            os.close(fd)\n        except OSError:\n            pass\n"
              "    return grad(w, b, x, y)\n", "mute", extra=("--json",)),
    impl_case("a NaN gradient", "hostile-code",
              "def nan(w, b, x, y):\n    g = grad(w, b, x, y)\n    g[0][0][0, 0] = np.nan\n"
              "    return g\n", "nan", extra=("--json",), status=(1,)),
    impl_case("None returned", "hostile-code", "def none(w, b, x, y):\n    return None\n", "none",
              status=(2,)),
    impl_case("strings returned", "hostile-code",
              "def s(w, b, x, y):\n    return ['a'], ['b']\n", "s", status=(2,)),
    impl_case("a three-tuple returned", "hostile-code",
              "def t(w, b, x, y):\n    g = grad(w, b, x, y)\n    return g[0], g[1], g[1]\n", "t",
              status=(2,)),
    impl_case("KeyboardInterrupt raised by the code (no Ctrl-C)", "hostile-code",
              "def k(w, b, x, y):\n    raise KeyboardInterrupt\n", "k", status=(2,),
              words=("KeyboardInterrupt",)),
    impl_case("an exception whose str() raises", "hostile-code",
              "class E(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
              "def e(w, b, x, y):\n    raise E()\n", "e", status=(2,), words=("p.py",)),
    impl_case("an array-like whose __array__ raises", "hostile-code",
              "class A:\n    def __array__(self, *a, **k):\n        raise MemoryError('sneaky')\n"
              "    def __len__(self):\n        return 1\n    def __getitem__(self, i):\n"
              "        raise IndexError\n"
              "def a(w, b, x, y):\n    return [A()], [A()]\n", "a", status=(2,)),
    # the code's signal cannot reach gradcheck (the child's own PID namespace, checks.boot):
    # the check goes on and the wrong gradient it returns is called wrong
    impl_case("the code sends SIGINT to gradcheck", "hostile-code",
              "def k(w, b, x, y):\n    import os, signal, time\n"
              "    os.kill(os.getppid(), signal.SIGINT)\n    time.sleep(2)\n    return wrong(w, b, x, y)\n",
              "k", extra=("--json",), status=(1,)),
    impl_case("the code sends SIGTERM to gradcheck (--json)", "hostile-code",
              "def k(w, b, x, y):\n    import os, signal, time\n"
              "    os.kill(os.getppid(), signal.SIGTERM)\n    time.sleep(2)\n    return wrong(w, b, x, y)\n",
              "k", extra=("--json",), status=(1,)),
    impl_case("the code calls os.setsid() and os.chdir('/')", "hostile-code",
              "def s(w, b, x, y):\n    import os\n    try:\n        os.setsid()\n    except OSError:\n"
              "        pass\n    os.chdir('/')\n    return grad(w, b, x, y)\n", "s"),
    impl_case("the code deletes the exchange folder and returns", "hostile-code",
              "def d(w, b, x, y):\n    import shutil\n    f = _exchange()\n    if f:\n"
              "        shutil.rmtree(f)\n    return grad(w, b, x, y)\n", "d", find=True,
              status=(0, 2)),
    impl_case("the code writes garbage to every descriptor above 2", "hostile-code",
              "def g(w, b, x, y):\n    import os\n    for fd in map(int, os.listdir('/proc/self/fd')):\n"
              "        if fd > 2:\n            try:\n                os.write(fd, b'\\xff' * 64)\n"
              "            except OSError:\n                pass\n    return grad(w, b, x, y)\n", "g",
              status=(0, 2)),
    impl_case("the code replaces request.npz while it runs", "hostile-code",
              "def r(w, b, x, y):\n    f = _exchange()\n    if f:\n"
              "        open(f + '/request.npz', 'wb').write(b'junk')\n"
              "    return wrong(w, b, x, y)\n", "r", find=True, status=(1, 2)),
)

# -- forge: a gradient wrong by 3x must never exit 0 ------------------------------------------------


def found_note(ctx, run):
    """post(): say (as an event, not a problem) whether the code found an exchange folder."""
    if ctx.path("found-exchange").exists():
        run.events.append("the code found the command's exchange folder")
    return []


def forge_config(name, body, **kw):
    """A config check of a 3x-wrong gradient whose code tries to forge a pass."""
    kw.setdefault("post", found_note)
    kw.setdefault("status", (1, 2))
    kw.setdefault("extra", ("--json",))
    return impl_case(name, "forge", body, "attack", find=True, **kw)


def forge_layer(name, body, **kw):
    kw.setdefault("post", found_note)
    kw.setdefault("status", (1, 2))
    kw.setdefault("extra", ("--json",))
    return layer_case(f"--layer: {name}", "forge", body, "affine_forward,attack", find=True,
                      **kw)


def _write_result(precision="float64", extra=None, meta=None, how="any"):
    """User code: write a forged result (the 3x-wrong gradient) into the exchange folder, exit."""
    meta_text = repr(meta or {})
    return f'''
def attack(w, b, x, y):
    g = wrong(w, b, x, y)
    d = _exchange({how!r})
    if d is None:
        return g
    arrays = {{"g_W1": g[0][0], "g_b1": g[1][0]}}
    extra = {'None' if extra is None else 'float(' + repr(str(extra)) + ')'}
    if extra is not None:
        arrays.update(e_W1=np.full((2, 3), extra), e_b1=np.full((2, 1), extra))
    np.savez(d + "/result.npz", **arrays)
    meta = {{"target": "forged", "precision": {precision!r}, "inputs_rounded": False,
            "notes": [], "step": None}}
    meta.update({meta_text})
    open(d + "/result.json", "w").write(_json.dumps(meta))
    _os._exit(0)
'''


def _plant(filename, how="fifo", write_json=True):
    """User code: plant a special file as result.json / result.npz, then exit."""
    return f'''
def attack(w, b, x, y):
    g = wrong(w, b, x, y)
    d = _exchange()
    if d is None:
        return g
    if {write_json!r} and {filename!r} != "result.json":
        open(d + "/result.json", "w").write(_json.dumps({{"target": "t", "precision": "float64",
                                                         "notes": []}}))
    path = d + "/" + {filename!r}
    if {how!r} == "fifo":
        _os.mkfifo(path)
    else:
        _os.symlink("/dev/zero", path)
    _os._exit(0)
'''


BOMB = r'''
def attack(w, b, x, y):
    import zipfile
    g = wrong(w, b, x, y)
    d = _exchange()
    if d is None:
        return g
    with zipfile.ZipFile(d + "/result.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for name, shape in (("g_W1", (12000, 12000)), ("g_b1", (2, 1))):
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array_header_1_0(
                    f, {"descr": "<f8", "fortran_order": False, "shape": shape})
                n = 8 * shape[0] * shape[1]
                block = bytes(8 << 20)
                while n > 0:
                    f.write(block[:min(n, len(block))])
                    n -= len(block)
    open(d + "/result.json", "w").write(_json.dumps({"target": "t", "precision": "float64"}))
    _os._exit(0)
'''

add(
    forge_config("control: a 3x gradient, no tricks", "attack = wrong\n", status=(1,)),
    forge_config("a result claiming float16 precision, then os._exit(0)",
                 _write_result(precision="float16")),
    forge_config("a result with an extra tolerance of 1e9, then os._exit(0)",
                 _write_result(extra=1e9)),
    forge_config("a result with a NaN extra tolerance", _write_result(extra=float("nan"))),
    forge_config("a result with a negative extra tolerance",
                 _write_result(extra=-1.0)),
    forge_config("a result claiming inputs_rounded at float16",
                 _write_result(precision="float16", meta={"inputs_rounded": True})),
    forge_config("a result claiming a step of lr 1e-300, per example",
                 _write_result(meta={"step": {"lr": 1e-300, "per_example": True}})),
    forge_config("a result with \"passed\": \"false\" and \"status\": 0",
                 _write_result(meta={"passed": "false", "status": 0})),
    forge_config("exchange folder found through argv", _write_result(extra=1e9, how="argv")),
    forge_config("exchange folder found through /proc/self", _write_result(extra=1e9, how="proc")),
    forge_config("exchange folder found by globbing the temp folder",
                 _write_result(extra=1e9, how="tmpglob")),
    forge_config("exchange folder found from the working directory",
                 _write_result(extra=1e9, how="cwd")),
    forge_config("numpy.savez patched to add an extra tolerance",
                 "import numpy\n_savez = numpy.savez\n"
                 "def _forged(file, *a, **k):\n"
                 "    for n in [n for n in k if n.startswith('g_')]:\n"
                 "        k['e_' + n[2:]] = np.full(np.shape(k[n]), 1e9)\n"
                 "    return _savez(file, *a, **k)\n"
                 "numpy.savez = _forged\nattack = wrong\n"),
    forge_config("json.dumps patched to claim float16",
                 "import json\n_dumps = json.dumps\n"
                 "def _forged(obj, *a, **k):\n"
                 "    if isinstance(obj, dict) and 'precision' in obj:\n"
                 "        obj = dict(obj, precision='float16')\n"
                 "    return _dumps(obj, *a, **k)\n"
                 "json.dumps = _forged\nattack = wrong\n"),
    forge_config("checks.plugin.detect_precision patched to float16",
                 "import checks.plugin as _p, checks.adapt as _a\n"
                 "_f16 = lambda arrays: _p.PRECISIONS['float16']\n"
                 "_p.detect_precision = _f16\n_a.detect_precision = _f16\nattack = wrong\n"),
    forge_config("checks.compare and checks.functions patched (config mode)",
                 "import checks.compare as _c, checks.functions as _f, checks.check as _k\n"
                 "_c.compare_arrays = lambda *a, **k: ()\n_f._report = lambda *a, **k: None\n"
                 "_k.compare_arrays = _c.compare_arrays\nattack = wrong\n"),
    forge_config("builtins patched (all, bool, max)",
                 "import builtins\nbuiltins.all = lambda *a: True\n"
                 "builtins.max = lambda *a, **k: 0\nattack = wrong\n"),
    forge_config("sys.exit and os._exit patched",
                 "import sys, os\nsys.exit = lambda *a: None\nos._exit = lambda *a: None\n"
                 "attack = wrong\n"),
    forge_config("__main__ of the child patched (np, json)",
                 "import __main__, types\n"
                 "if hasattr(__main__, 'np'):\n"
                 "    _np = __main__.np\n"
                 "    def _savez(file, **k):\n"
                 "        k.update({'e_' + n[2:]: _np.full(_np.shape(v), 1e9) for n, v in list(k.items()) if n.startswith('g_')})\n"
                 "        return _np.savez(file, **k)\n"
                 "    __main__.np = types.SimpleNamespace(**{n: getattr(_np, n) for n in dir(_np) if not n.startswith('__')})\n"
                 "    __main__.np.savez = _savez\n"
                 "attack = wrong\n"),
    forge_config("a fake report printed on stdout",
                 "def attack(w, b, x, y):\n    print('gradcheck PASSED: FORGED')\n"
                 "    print('{\"passed\": true, \"FORGED\": 1}')\n    return wrong(w, b, x, y)\n",
                 quiet=False, status=(1,)),
    forge_config("a fake report through os.write(1) and /proc/self/fd/1",
                 "def attack(w, b, x, y):\n    import os\n"
                 "    os.write(1, b'{\"passed\": true, \"FORGED\": 1}\\n')\n"
                 "    with open('/proc/self/fd/1', 'w') as f:\n        f.write('gradcheck PASSED FORGED\\n')\n"
                 "    return wrong(w, b, x, y)\n", quiet=False, status=(1,)),
    forge_config("a fake report written to gradcheck's own stdout (/proc/PPID/fd/1)",
                 "def attack(w, b, x, y):\n    import os\n    try:\n"
                 "        with open(f'/proc/{os.getppid()}/fd/1', 'w') as f:\n"
                 "            f.write('{\"passed\": true, \"FORGED\": 1}\\n')\n"
                 "    except OSError:\n        pass\n    return wrong(w, b, x, y)\n", status=(1,)),
    forge_config("a fake report, then os._exit(0)",
                 "def attack(w, b, x, y):\n    import os\n"
                 "    os.write(1, b'gradcheck PASSED FORGED\\n')\n    os._exit(0)\n",
                 status=(2,), quiet=False),
    forge_config("a float16 copy of the 3x gradient",
                 "def attack(w, b, x, y):\n    gw, gb = wrong(w, b, x, y)\n"
                 "    return [gw[0].astype(np.float16)], [gb[0].astype(np.float16)]\n", status=(1,)),
    forge_config("a 3x gradient rounded to float16 values in float64",
                 "def attack(w, b, x, y):\n    gw, gb = wrong(w, b, x, y)\n"
                 "    return [gw[0].astype(np.float16).astype(float)], "
                 "[gb[0].astype(np.float16).astype(float)]\n", status=(1,)),
    forge_config("a FIFO named result.json", _plant("result.json", "fifo"), status=(1, 2),
                 seconds=15),
    forge_config("result.json a symlink to /dev/zero", _plant("result.json", "devzero"),
                 status=(1, 2), seconds=15),
    forge_config("result.npz a FIFO", _plant("result.npz", "fifo"), status=(1, 2), seconds=15),
    forge_config("result.npz a symlink to /dev/zero", _plant("result.npz", "devzero"),
                 status=(1, 2), seconds=15),
    forge_config("a 2 MB result.npz that inflates to 1.1 GB", BOMB, status=(1, 2), seconds=20,
                 rss_mb=400),
    forge_config("an error result with escapes and 10,000 characters",
                 "def attack(w, b, x, y):\n    d = _exchange()\n    if d is None:\n"
                 "        return wrong(w, b, x, y)\n"
                 "    open(d + '/result.json', 'w').write(_json.dumps({'error': "
                 "'\\x1b]0;pwned\\x07\\x1b[2J' + 'A' * 10000}))\n    _os._exit(0)\n", status=(1, 2)),
)

add(
    forge_layer("control: a 3x backward, no tricks", "attack = wrong_backward\n", status=(1,)),
    forge_layer("checks.functions._report patched to pass",
                "import dataclasses, checks.functions as _f\n_orig = _f._report\n"
                "_f._report = lambda *a, **k: dataclasses.replace(_orig(*a, **k), passed=True)\n"
                "attack = wrong_backward\n"),
    forge_layer("checks.functions.compare_arrays patched to compare numeric with numeric",
                "import checks.functions as _f\n_orig = _f.compare_arrays\n"
                "_f.compare_arrays = lambda params, an, num, tol, sk: _orig(params, num, num, tol, sk)\n"
                "attack = wrong_backward\n"),
    forge_layer("checks.compare.compare_arrays patched (the module)",
                "import checks.compare as _c, dataclasses\n_orig = _c.compare_arrays\n"
                "_c.compare_arrays = lambda *a, **k: tuple(dataclasses.replace(p, passed=True, "
                "mismatches=0) for p in _orig(*a, **k))\n"
                "attack = wrong_backward\n"),
    forge_layer("builtins.all patched", "import builtins\nbuiltins.all = lambda *a: True\n"
                "attack = wrong_backward\n"),
    forge_layer("numpy.count_nonzero patched to 0",
                "import numpy\nnumpy.count_nonzero = lambda *a, **k: 0\nattack = wrong_backward\n"),
    forge_layer("numpy.abs patched to zeros",
                "import numpy\n_abs = numpy.abs\n"
                "def _fake(x, *a, **k):\n    r = _abs(x, *a, **k)\n"
                "    return r * 0 if getattr(r, 'dtype', None) is not None and r.dtype.kind == 'f' and r.ndim else r\n"
                "numpy.abs = _fake\nattack = wrong_backward\n"),
    forge_layer("checks.report.Report.passed made always true",
                "import checks.report as _r\n_init = _r.Report.__init__\n"
                "def _fake(self, *a, **k):\n    k['passed'] = True\n    _init(self, *a, **k)\n"
                "_r.Report.__init__ = _fake\nattack = wrong_backward\n"),
    forge_layer("json.dumps patched to write passed: true",
                "import json\n_dumps = json.dumps\n"
                "def _forged(obj, *a, **k):\n"
                "    if isinstance(obj, dict) and 'passed' in obj:\n"
                "        obj = dict(obj, passed=True)\n    return _dumps(obj, *a, **k)\n"
                "json.dumps = _forged\nattack = wrong_backward\n"),
    forge_layer("checks.formats.FORMATS patched to print PASSED",
                "import checks.formats as _fm\n"
                "_fm.FORMATS['json'] = lambda r: '{\"passed\": true, \"FORGED\": 1, \"max_relative_error\": 0, \"parameters\": []}'\n"
                "_fm.FORMATS['text'] = lambda r: 'gradcheck PASSED: FORGED'\n"
                "attack = wrong_backward\n"),
    forge_layer("sys.exit patched, os._exit(0) after writing result.json (passed: true)",
                "import sys\nsys.exit = lambda *a: None\n"
                "def attack(dout, cache):\n    d = _exchange()\n    if d:\n"
                "        open(d + '/result.json', 'w').write(_json.dumps({'text': 'gradcheck PASSED: FORGED', 'passed': True}))\n"
                "        _os._exit(0)\n    return wrong_backward(dout, cache)\n"),
    forge_layer("a result with \"passed\": \"false\"",
                "def attack(dout, cache):\n    d = _exchange()\n    if d:\n"
                "        open(d + '/result.json', 'w').write(_json.dumps({'text': 'x', 'passed': 'false'}))\n"
                "        _os._exit(0)\n    return wrong_backward(dout, cache)\n"),
    forge_layer("a result with \"passed\": 1 found through /proc/self",
                "def attack(dout, cache):\n    d = _exchange('proc')\n    if d:\n"
                "        open(d + '/result.json', 'w').write(_json.dumps({'text': 'x', 'passed': 1}))\n"
                "        _os._exit(0)\n    return wrong_backward(dout, cache)\n"),
    forge_layer("a result found by globbing the temp folder",
                "def attack(dout, cache):\n    d = _exchange('tmpglob')\n    if d:\n"
                "        open(d + '/result.json', 'w').write(_json.dumps({'text': 'x', 'passed': True}))\n"
                "        _os._exit(0)\n    return wrong_backward(dout, cache)\n"),
    forge_layer("a fake report on stdout, os.write(1) and /proc/self/fd/1",
                "def attack(dout, cache):\n    import os\n    print('gradcheck PASSED FORGED')\n"
                "    os.write(1, b'{\"passed\": true, \"FORGED\": 1}\\n')\n"
                "    open('/proc/self/fd/1', 'w').write('FORGED\\n')\n"
                "    return wrong_backward(dout, cache)\n", quiet=False, status=(1,)),
    forge_layer("a fake report on gradcheck's own stdout (/proc/PPID/fd/1)",
                "def attack(dout, cache):\n    import os\n    try:\n"
                "        open(f'/proc/{os.getppid()}/fd/1', 'w').write('{\"passed\": true, \"FORGED\": 1}\\n')\n"
                "    except OSError:\n        pass\n    return wrong_backward(dout, cache)\n",
                status=(1,)),
    forge_layer("a float16 copy of the 3x backward",
                "def attack(dout, cache):\n"
                "    return tuple(g.astype(np.float16) for g in wrong_backward(dout, cache))\n",
                status=(1,)),
    forge_layer("a FIFO named result.json",
                "def attack(dout, cache):\n    d = _exchange()\n    if d:\n"
                "        _os.mkfifo(d + '/result.json')\n        _os._exit(0)\n"
                "    return wrong_backward(dout, cache)\n", status=(1, 2), seconds=15),
    forge_layer("result.json a symlink to /dev/zero",
                "def attack(dout, cache):\n    d = _exchange()\n    if d:\n"
                "        _os.symlink('/dev/zero', d + '/result.json')\n        _os._exit(0)\n"
                "    return wrong_backward(dout, cache)\n", status=(1, 2), seconds=15),
)

# a forward computing in float16 with a 3x backward: judged at float16, still wrong
add(Case("a float16 forward with a 3x backward", "forge",
         [*layer_argv("f16_forward,f16_backward"), "--json"],
         files={"user/L.py": LAYER + "\ndef f16_forward(x, w, b):\n"
                "    x16, w16, b16 = (a.astype(np.float16) for a in (x, w, b))\n"
                "    return x16 @ w16 + b16, (x16, w16, b16)\n"
                "def f16_backward(dout, cache):\n    x, w, b = cache\n    d = dout.astype(np.float16)\n"
                "    return 3 * (d @ w.T), 3 * (x.T @ d), 3 * d.sum(axis=0)\n"},
         status=(1, 2)))

F16 = (LAYER + "\ndef cast_forward(x, w, b):\n    return (x @ w + b).astype(np.float16), (x, w, b)\n"
       "def cast_backward(dout, cache):\n    x, w, b = cache\n"
       "    return 3 * (dout @ w.T), 3 * (x.T @ dout), 3 * dout.sum(axis=0)\n"
       "def wild_backward(dout, cache):\n    x, w, b = cache\n"
       "    return -100 * (dout @ w.T), 0 * (x.T @ dout), 7 * dout.sum(axis=0)\n")
add(Case("a forward whose output is cast to float16, with a 3x backward", "forge",
         [*layer_argv("cast_forward,cast_backward"), "--json"], files={"user/L.py": F16},
         status=(1, 2)),
    Case("a forward whose output is cast to float16, with a -100x/0x/7x backward", "forge",
         [*layer_argv("cast_forward,wild_backward"), "--json"], files={"user/L.py": F16},
         status=(1, 2)))


# -- cwd-shadowing -----------------------------------------------------------------------------


def shadow(name):
    """A module (or package) that marks that it was imported, then refuses."""
    bare = name.rstrip("/")
    text = (f"open('@ROOT@/SHADOWED-{bare}', 'w').close()\n"
            f"raise ImportError(\"the user's {bare} was imported instead of the real one\")\n")
    if name.endswith("/"):
        return {f"{name}__init__.py": text}
    return {f"{name}.py": text}


SHADOWS = ["random", "json", "inspect", "numpy", "tempfile", "backprop/", "checks/", "gradcheck"]
# a gradcheck.py in the current folder shadows ``python -m gradcheck`` itself before any of
# gradcheck runs (as it would any module run with -m): the README points to the console script,
# which these cases run
for mod in SHADOWS:
    label = mod.rstrip("/") + ("/ package" if mod.endswith("/") else ".py")
    files = {f"user/{k}": v for k, v in shadow(mod).items()}
    how = "console" if mod == "gradcheck" else None
    add(impl_case(f"{label} in the user's folder (cwd), --impl", "cwd-shadowing", "", "grad",
                  files=files, post=no_files("SHADOWED-"), cmd=how),
        layer_case(f"{label} in the user's folder (cwd), --layer", "cwd-shadowing", "",
                   "affine_forward,affine_backward", files=files, post=no_files("SHADOWED-"),
                   cmd=how))
for mod in ("random", "json", "numpy", "checks/", "backprop/"):
    label = mod.rstrip("/") + ("/ package" if mod.endswith("/") else ".py")
    files = {f"user/{k}": v for k, v in shadow(mod).items()}
    add(impl_case(f"{label} in the user's folder, python -m", "cwd-shadowing", "", "grad",
                  files=files, post=no_files("SHADOWED-"), cmd="python-m"))
    # the user's file elsewhere: the shadow only beside the file, cwd clean
    add(Case(f"{label} beside the user's file only (cwd elsewhere)", "cwd-shadowing",
             ["cfg/net.toml", "--impl", "../code/p.py:grad"],
             files={"user/cfg/net.toml": NET, "code/p.py": RIGHT,
                    **{f"code/{k}": v for k, v in shadow(mod).items()}},
             post=no_files("SHADOWED-")))
add(
    Case("the user's code saved as backprop.py (--impl)", "cwd-shadowing",
         [*IMPL, "backprop.py:grad"], files={"user/cfg/net.toml": NET, "user/backprop.py": RIGHT}),
    Case("the user's code saved as checks.py (--impl)", "cwd-shadowing",
         [*IMPL, "checks.py:grad"], files={"user/cfg/net.toml": NET, "user/checks.py": RIGHT}),
    Case("the user's code saved as gradcheck.py (--impl)", "cwd-shadowing",
         [*IMPL, "gradcheck.py:grad"], files={"user/cfg/net.toml": NET, "user/gradcheck.py": RIGHT},
         cmd="console"),
    Case("the user's layer saved as backprop.py (--layer)", "cwd-shadowing",
         ["--layer", "backprop.py:affine_forward,affine_backward", *SHAPES],
         files={"user/backprop.py": LAYER}),
    Case("the user's layer saved as checks.py (--layer)", "cwd-shadowing",
         ["--layer", "checks.py:affine_forward,affine_backward", *SHAPES],
         files={"user/checks.py": LAYER}),
    Case("the user's code as checks.py, python -m", "cwd-shadowing", [*IMPL, "checks.py:grad"],
         files={"user/cfg/net.toml": NET, "user/checks.py": RIGHT}, cmd="python-m"),
)

# -- processes -----------------------------------------------------------------------------------

DAEMON = '''
def _daemon(close=True, marker_in_argv=False, clear_env=False):
    import os, subprocess, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            if close:
                fd = os.open(os.devnull, os.O_RDWR)
                for k in (0, 1, 2):
                    os.dup2(fd, k)
            if clear_env:
                os.execve(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)",
                                           "@MARKER@"], {})
            time.sleep(600)
        os._exit(0)
    time.sleep(0.2)
'''


def proc_case(name, body, target="p", *, layer=False, status=(0,), seconds=8, **kw):
    """The code starts processes and returns at once: the check ends promptly (well before the
    --timeout of 10 s), and nothing it started is left."""
    kw.setdefault("extra", ("--timeout", "10"))
    kw.setdefault("kill_after", 40)
    if layer:
        return layer_case(name, "processes", DAEMON + body, f"{target},affine_backward",
                          status=status, seconds=seconds, **kw)
    return impl_case(name, "processes", DAEMON + body, target, status=status, seconds=seconds,
                     **kw)


add(
    proc_case("subprocess.Popen(['sleep', '600']) left running",
              "def p(w, b, x, y):\n    import subprocess\n    subprocess.Popen(['sleep', '600'])\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("Popen sleep 600 with its output to /dev/null",
              "def p(w, b, x, y):\n    import subprocess\n"
              "    subprocess.Popen(['sleep', '600'], stdout=subprocess.DEVNULL, "
              "stderr=subprocess.DEVNULL)\n    return grad(w, b, x, y)\n"),
    proc_case("Popen sleep 600 in a new session",
              "def p(w, b, x, y):\n    import subprocess\n"
              "    subprocess.Popen(['sleep', '600'], start_new_session=True, "
              "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n    return grad(w, b, x, y)\n"),
    proc_case("a double-forked setsid daemon, fds closed",
              "def p(w, b, x, y):\n    _daemon(close=True)\n    return grad(w, b, x, y)\n"),
    proc_case("a double-forked setsid daemon keeping the output pipe",
              "def p(w, b, x, y):\n    _daemon(close=False)\n    return grad(w, b, x, y)\n"),
    proc_case("a daemon with an empty environment",
              "def p(w, b, x, y):\n    _daemon(close=True, clear_env=True)\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("a forked child in its own process group",
              "def p(w, b, x, y):\n    import os, time\n    if os.fork() == 0:\n"
              "        os.setpgid(0, 0)\n        time.sleep(600)\n        os._exit(0)\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("a thread sleeping 600 s",
              "def p(w, b, x, y):\n    import threading, time\n"
              "    threading.Thread(target=time.sleep, args=(600,)).start()\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("a multiprocessing pool left open",
              "def _sq(v):\n    return v * v\n"
              "def p(w, b, x, y):\n    import multiprocessing as mp\n"
              "    pool = mp.get_context('fork').Pool(2)\n    pool.map(_sq, range(4))\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("a spawned multiprocessing process sleeping",
              "def p(w, b, x, y):\n    import multiprocessing as mp, time\n"
              "    mp.get_context('spawn').Process(target=time.sleep, args=(600,)).start()\n"
              "    return grad(w, b, x, y)\n"),
    proc_case("a subprocess started while importing",
              "import subprocess as _sp\n_sp.Popen(['sleep', '600'])\np = grad\n"),
    proc_case("a daemon started while importing",
              "_daemon(close=True)\np = grad\n"),
    proc_case("an infinite loop with a child process, --timeout 2",
              "def p(w, b, x, y):\n    import subprocess\n    subprocess.Popen(['sleep', '600'])\n"
              "    while True:\n        pass\n", extra=("--timeout", "2"), status=(2,),
              words=("did not return",)),
    proc_case("a TARGET that runs 'sleep 600 &' through the shell",
              "", target="__import__('os').system('sleep 600 &')", status=(2,),
              words=("not callable",)),
    proc_case("--layer: a forward that starts sleep 600",
              "def p(x, w, b):\n    import subprocess\n    subprocess.Popen(['sleep', '600'])\n"
              "    return affine_forward(x, w, b)\n", layer=True),
    proc_case("--layer: a forward that starts a setsid daemon",
              "_started = []\ndef p(x, w, b):\n    if not _started:\n        _started.append(1)\n"
              "        _daemon(close=True)\n    return affine_forward(x, w, b)\n", layer=True),
)

# -- signals -------------------------------------------------------------------------------------

SLEEPER = ("def slow(w, b, x, y):\n    started()\n    import time\n    time.sleep(60)\n"
           "    return grad(w, b, x, y)\n"
           "def slow3(w, b, x, y):\n    started()\n    import time\n    time.sleep(2)\n"
           "    return grad(w, b, x, y)\n"
           "def slow_kids(w, b, x, y):\n    import subprocess, time\n"
           "    subprocess.Popen(['sleep', '600'])\n    started()\n    time.sleep(60)\n"
           "    return grad(w, b, x, y)\n")
LAYER_SLEEPER = ("def slow_forward(x, w, b):\n    started()\n    import time\n    time.sleep(60)\n"
                 "    return affine_forward(x, w, b)\n")


def sig_case(name, sig, *, target="slow", group=False, times=1, status=None, words=(),
             layer=False, extra=(), seconds=6, **kw):
    during = signal_when_started(sig, group=group, times=times)
    if layer:
        return layer_case(name, "signals", LAYER_SLEEPER, "slow_forward,affine_backward",
                          extra=extra, status=status, words=words, during=during,
                          seconds=seconds, **kw)
    return impl_case(name, "signals", SLEEPER, target, extra=extra, status=status, words=words,
                     during=during, seconds=seconds, **kw)


add(
    sig_case("SIGINT to gradcheck while the code runs", signal.SIGINT, status=(130,),
             words=("interrupt",)),
    sig_case("Ctrl-C (SIGINT to the group) while the code runs, --json", signal.SIGINT,
             group=True, status=(130,), extra=("--json",)),
    sig_case("Ctrl-C twice while the code runs", signal.SIGINT, group=True, times=2,
             status=(130,)),
    sig_case("SIGINT while the code runs a subprocess", signal.SIGINT, target="slow_kids",
             status=(130,)),
    sig_case("SIGTERM while the code runs", signal.SIGTERM),
    sig_case("SIGTERM to the group while the code runs a subprocess", signal.SIGTERM,
             target="slow_kids", group=True),
    sig_case("SIGTERM while the code runs a subprocess", signal.SIGTERM, target="slow_kids"),
    sig_case("SIGHUP while the code runs", signal.SIGHUP),
    sig_case("SIGHUP while the code runs a subprocess", signal.SIGHUP, target="slow_kids"),
    sig_case("SIGTERM while the code runs, --json", signal.SIGTERM, extra=("--json",),
             status=(2, 130, 143)),
    sig_case("--layer: SIGINT while the forward runs", signal.SIGINT, layer=True, status=(130,)),
    sig_case("--layer: SIGTERM while the forward runs", signal.SIGTERM, layer=True),
    sig_case("--layer: SIGHUP while the forward runs", signal.SIGHUP, layer=True),
    Case("stdout closed early (gradcheck ... | head -c0)", "signals", [*IMPL, "p.py:grad"],
         files={"user/cfg/net.toml": NET, "user/p.py": RIGHT}, stdout_to="closed",
         status=(0, 1, 2, 141, -13), json=False),
    Case("stdout is /dev/full (disk full)", "signals", ["cfg/net.toml"],
         files={"user/cfg/net.toml": NET}, stdout_to="/dev/full", status=(2,), json=False),
)

# -- memory --------------------------------------------------------------------------------------

add(
    impl_case("the code prints 1 GiB to stdout", "memory",
              "def loud(w, b, x, y):\n    import sys\n    line = 'x' * 1023 + '\\n'\n"
              "    block = line * 1024\n    for _ in range(1024):\n        sys.stdout.write(block)\n"
              "    return grad(w, b, x, y)\n", "loud", extra=("--json",), status=(0, 2),
              quiet=False, seconds=60, rss_mb=400),
    impl_case("the code writes 1 GiB to fd 1 without a newline", "memory",
              "def loud(w, b, x, y):\n    import os\n    block = b'y' * (1 << 20)\n"
              "    for _ in range(1024):\n        os.write(1, block)\n    return grad(w, b, x, y)\n",
              "loud", status=(0, 2), quiet=False, seconds=60, rss_mb=400),
    impl_case("the code writes 256 MiB to stderr", "memory",
              "def loud(w, b, x, y):\n    import os\n    block = b'z' * (1 << 20)\n"
              "    for _ in range(256):\n        os.write(2, block)\n    return grad(w, b, x, y)\n",
              "loud", status=(0, 2), quiet=False, seconds=30, rss_mb=400),
    layer_case("--layer: the forward prints 512 MiB", "memory",
               "_said = []\ndef loud_forward(x, w, b):\n    import os\n    if not _said:\n"
               "        _said.append(1)\n        block = b'q' * (1 << 20)\n"
               "        for _ in range(512):\n            os.write(1, block)\n"
               "    return affine_forward(x, w, b)\n", "loud_forward,affine_backward",
               status=(0, 2), quiet=False, seconds=40, rss_mb=400),
    impl_case("the code asks for an 8 TB array", "memory",
              "def big(w, b, x, y):\n    np.ones(1 << 40)\n    return grad(w, b, x, y)\n", "big",
              status=(2,), words=("MemoryError",)),
    impl_case("the code allocates without end (harness RLIMIT_AS 4 GiB)", "memory",
              "def big(w, b, x, y):\n    keep = []\n    while True:\n"
              "        keep.append(np.ones(1 << 24))\n", "big", status=(2,), seconds=30,
              rss_mb=4500, extra=("--timeout", "20")),
    impl_case("a gradient of a huge wrong shape (8000 x 8000)", "memory",
              "def big(w, b, x, y):\n    return [np.zeros((8000, 8000))], [np.zeros((2, 1))]\n",
              "big", status=(2,), words=("shape",), seconds=15, rss_mb=1200),
    impl_case("a gradient of a small wrong shape", "memory",
              "def small(w, b, x, y):\n    return [np.zeros(2)], [np.zeros((2, 1))]\n", "small",
              status=(2,), words=("shape",)),
    impl_case("a gradient as a 10-million-entry Python list", "memory",
              "def big(w, b, x, y):\n    return [[0.0] * 10_000_000], [[0.0, 0.0]]\n", "big",
              status=(2,), seconds=20, rss_mb=1200),
    layer_case("--layer: a backward returning a huge array", "memory",
               "def big_backward(dout, cache):\n    dx, dw, db = affine_backward(dout, cache)\n"
               "    return np.zeros((8000, 8000)), dw, db\n", "affine_forward,big_backward",
               status=(2,), words=("shape",), rss_mb=1200),
    impl_case("unbounded recursion in the code", "memory",
              "def rec(w, b, x, y):\n    return rec(w, b, x, y)\n", "rec", status=(2,),
              words=("RecursionError",)),
    impl_case("a C stack overflow (repr of a deep list, recursion limit lifted)", "memory",
              "def rec(w, b, x, y):\n    import sys\n    sys.setrecursionlimit(10**8)\n"
              "    deep = []\n    for _ in range(10**6):\n        deep = [deep]\n"
              "    return repr(deep)\n", "rec", extra=("--timeout", "10"), status=(2,),
              words=("signal 11",), seconds=20),
)

# -- output files ----------------------------------------------------------------------------------

OUT = ["user/found.toml", "user/found-weights.npz", "user/found-data.npz"]


def search_case(name, setup=None, force=False, status=(0,), words=(), may_change=(), **kw):
    argv = [*SEARCH, "--out", "found"] + (["--force"] if force else [])
    return Case(name, "output-files", argv, setup=setup, status=status, words=words,
                may_change=may_change, seconds=kw.pop("seconds", 20), **kw)


def plot_case(name, setup=None, force=False, status=(0,), words=(), may_change=(), impl=None,
              layer=False, **kw):
    if layer:
        argv = [*layer_argv(), "--plot", "plot.png"]
        files = {"user/L.py": LAYER}
    elif impl:
        argv = [*IMPL, f"p.py:{impl}", "--plot", "plot.png"]
        files = {"user/cfg/net.toml": NET, "user/p.py": RIGHT + SLEEPER}
    else:
        argv = ["cfg/net.toml", "--plot", "plot.png"]
        files = {"user/cfg/net.toml": NET}
    argv += ["--force"] if force else []
    return Case(name, "output-files", argv, files=files, setup=setup, status=status, words=words,
                may_change=may_change, seconds=kw.pop("seconds", 20), **kw)


add(
    search_case("--out: a symlink at the path, no --force",
                sh(symlink("user/found.toml", "@OUTSIDE@/sentinel.txt")), status=(2,),
                words=("already exists",)),
    search_case("--out: a symlink at the path, --force",
                sh(symlink("user/found.toml", "@OUTSIDE@/sentinel.txt")), force=True,
                may_change=OUT, post=regular_file_at("user/found.toml")),
    search_case("--out: a dangling symlink to outside, no --force",
                sh(symlink("user/found.toml", "@OUTSIDE@/new.toml")), status=(2,),
                words=("already exists",), post=nothing_new_in("outside")),
    search_case("--out: a dangling symlink to outside, --force",
                sh(symlink("user/found.toml", "@OUTSIDE@/new.toml")), force=True,
                may_change=OUT, post=both(nothing_new_in("outside"),
                                          regular_file_at("user/found.toml"))),
    search_case("--out: a hard link to a file elsewhere, no --force",
                sh(hardlink("user/found.toml", "outside/sentinel.txt")), status=(2,),
                words=("already exists",)),
    search_case("--out: a hard link to a file elsewhere, --force",
                sh(hardlink("user/found.toml", "outside/sentinel.txt")), force=True,
                may_change=OUT),
    search_case("--out: the weights file a hard link elsewhere, --force",
                sh(hardlink("user/found-weights.npz", "outside/sentinel.txt")), force=True,
                may_change=OUT),
    search_case("--out: the data file a symlink elsewhere, --force",
                sh(symlink("user/found-data.npz", "@OUTSIDE@/sentinel.txt")), force=True,
                may_change=OUT),
    search_case("--out: the data file a symlink elsewhere, no --force",
                sh(symlink("user/found-data.npz", "@OUTSIDE@/sentinel.txt")), status=(2,),
                words=("already exists",)),
    search_case("--out: a directory at the path", mkdir("user/found.toml"), status=(2,),
                words=("directory",)),
    search_case("--out: a directory at the path, --force", mkdir("user/found.toml"), force=True,
                status=(2,), words=("directory",)),
    search_case("--out: a FIFO at the path, --force", fifo("user/found.toml"), force=True,
                status=(2,), seconds=15),
    Case("--out: an unwritable folder", "output-files", [*SEARCH, "--out", "ro/found"],
         setup=sh(mkdir("user/ro"), chmod("user/ro", 0o555)), status=(2,),
         words=("not writable",), seconds=20),
    Case("--out: a folder that does not exist", "output-files",
         [*SEARCH, "--out", "missing/found"], status=(2,), words=("does not exist",)),
    Case("--out: an empty path", "output-files", [*SEARCH, "--out", ""], status=(2,),
         words=("--out",)),
    search_case("--out: a file appears at the path during the search, no --force",
                status=(0, 2), during=file_appears("user/found.toml", after=0.6),
                post=keeps("user/found.toml", "appeared during the check\n"),
                may_change=("user/found-weights.npz", "user/found-data.npz")),
    search_case("--out: a symlink appears at the path during the search, --force",
                force=True, status=(0, 2),
                during=file_appears("user/found.toml", after=0.6,
                                    link_to="@OUTSIDE@/sentinel.txt"),
                may_change=OUT),
    plot_case("--plot: a symlink at the path, no --force",
              symlink("user/plot.png", "@OUTSIDE@/sentinel.txt"), status=(2,),
              words=("already exists",)),
    plot_case("--plot: a symlink at the path, --force",
              symlink("user/plot.png", "@OUTSIDE@/sentinel.txt"), force=True,
              may_change=("user/plot.png",), post=regular_file_at("user/plot.png")),
    plot_case("--plot: a dangling symlink to outside, --force",
              symlink("user/plot.png", "@OUTSIDE@/new.png"), force=True,
              may_change=("user/plot.png",), post=nothing_new_in("outside")),
    plot_case("--plot: a hard link to a file elsewhere, no --force",
              hardlink("user/plot.png", "outside/sentinel.txt"), status=(2,),
              words=("already exists",)),
    plot_case("--plot: a hard link to a file elsewhere, --force",
              hardlink("user/plot.png", "outside/sentinel.txt"), force=True,
              may_change=("user/plot.png",)),
    plot_case("--plot: a directory at the path, --force", mkdir("user/plot.png"), force=True,
              status=(2,), words=("directory",)),
    plot_case("--plot: a FIFO at the path, --force", fifo("user/plot.png"), force=True,
              status=(2,), seconds=15),
    Case("--plot: an unwritable folder", "output-files", ["cfg/net.toml", "--plot", "ro/p.png"],
         files={"user/cfg/net.toml": NET}, setup=sh(mkdir("user/ro"), chmod("user/ro", 0o555)),
         status=(2,), words=("not writable",)),
    plot_case("--plot: a file appears at the path during the check, no --force", impl="slow3",
              status=(0, 2), during=file_appears("user/plot.png", after="started"),
              post=keeps("user/plot.png", "appeared during the check\n")),
    plot_case("--plot: a symlink appears at the path during the check, --force", impl="slow3",
              force=True, status=(0, 2),
              during=file_appears("user/plot.png", after="started",
                                  link_to="@OUTSIDE@/sentinel.txt"),
              may_change=("user/plot.png",)),
    plot_case("--layer --plot: a symlink at the path, --force",
              symlink("user/plot.png", "@OUTSIDE@/sentinel.txt"), force=True, layer=True,
              may_change=("user/plot.png",), post=regular_file_at("user/plot.png")),
    plot_case("--layer --plot: a hard link elsewhere, --force",
              hardlink("user/plot.png", "outside/sentinel.txt"), force=True, layer=True,
              may_change=("user/plot.png",)),
)

# -- messages ------------------------------------------------------------------------------------

for t in (0.05, 0.1, 0.2, 0.3, 0.5):
    for js in (False, True):
        add(impl_case(f"Ctrl-C {t:g} s after launch" + (", --json" if js else ""), "messages",
                      SLEEPER, "slow", extra=("--json",) if js else (), status=(130,),
                      during=signal_at(t), seconds=6))
add(
    layer_case("--layer: Ctrl-C 0.3 s after launch", "messages", LAYER_SLEEPER,
               "slow_forward,affine_backward", status=(130,), during=signal_at(0.3), seconds=6),
    Case("--search: Ctrl-C 0.3 s after launch", "messages",
         ["--search", "code2", "--max-examples", "100000", "--out", "s"],
         status=(130,), during=signal_at(0.3), seconds=6, post=no_files("user/s.", "an interrupted search left files")),
    Case("--search: Ctrl-C 0.7 s after launch", "messages",
         ["--search", "code2", "--max-examples", "100000", "--out", "s"],
         status=(130,), during=signal_at(0.7), seconds=6, post=no_files("user/s.", "an interrupted search left files")),
    impl_case("--timeout inf", "messages", "", "grad", extra=("--timeout", "inf"), status=(0, 2)),
    impl_case("--timeout 1e400", "messages", "", "grad", extra=("--timeout", "1e400"),
              status=(0, 2)),
    impl_case("--timeout nan", "messages", "", "grad", extra=("--timeout", "nan"), status=(2,),
              words=("--timeout",)),
    impl_case("--timeout -1", "messages", "", "grad", extra=("--timeout", "-1"), status=(2,),
              words=("--timeout",)),
    impl_case("--timeout 0", "messages", "", "grad", extra=("--timeout", "0"), status=(2,),
              words=("--timeout",)),
    impl_case("--timeout abc", "messages", "", "grad", extra=("--timeout", "abc"), status=(2,),
              words=("--timeout",)),
    impl_case("--timeout 1e-9", "messages", "", "grad", extra=("--timeout", "1e-9"), status=(2,),
              words=("--timeout",)),
    Case("a config that does not exist", "messages", ["missing.toml"], status=(2,),
         words=("missing.toml", "does not exist")),
    Case("a config that does not exist, --json", "messages", ["missing.toml", "--json"],
         status=(2,), words=("does not exist",)),
    Case("a user file that does not exist", "messages", [*IMPL, "nope.py:grad"],
         files={"user/cfg/net.toml": NET}, status=(2,), words=("nope.py", "does not exist")),
    Case("a layer file that does not exist", "messages", layer_argv(file="nope.py"),
         status=(2,), words=("nope.py",)),
    Case("a weights file that does not exist", "messages", ["w.toml"],
         files={"user/w.toml": W_TOML}, status=(2,), words=("w.npz", "does not exist")),
    Case("an unreadable config (chmod 000)", "messages", ["cfg/net.toml"],
         files={"user/cfg/net.toml": NET}, setup=chmod("user/cfg/net.toml", 0), status=(2,),
         words=("net.toml", "permission")),
    impl_case("an unreadable user file (chmod 000)", "messages", "", "grad",
              setup=chmod("user/p.py", 0), status=(2,), words=("p.py", "permission")),
    Case("an unreadable layer file (chmod 000)", "messages", layer_argv(),
         files={"user/L.py": LAYER}, setup=chmod("user/L.py", 0), status=(2,),
         words=("L.py", "permission")),
    npz_case("an unreadable weights file (chmod 000)", "w",
             setup=sh(write_npz("user/w.npz", **GOOD_W), chmod("user/w.npz", 0)),
             words=("w.npz", "permission")),
    Case("an unreadable config folder (chmod 000)", "messages", ["cfg/net.toml"],
         files={"user/cfg/net.toml": NET}, setup=chmod("user/cfg", 0), status=(2,),
         words=("net.toml", "permission")),
    Case("a config that is a directory, --json", "messages", ["cfg", "--json"],
         setup=mkdir("user/cfg"), status=(2,), words=("directory",)),
    Case("a missing config whose name has terminal escapes", "messages",
         ["\x1b[31mred\x1b]0;pwned\x07.toml"], status=(2,), words=("does not exist",)),
    Case("an existing bad config whose name has a newline and escapes", "messages",
         ["bad\n\x1b[2Jname.toml"], files={"user/bad\n\x1b[2Jname.toml": "layers = 5\n"},
         status=(2,), words=("layers",)),
    Case("a missing user file whose name has escapes", "messages",
         [*IMPL, "\x1b[31mp\x1b[0m.py:grad"], files={"user/cfg/net.toml": NET}, status=(2,),
         words=("does not exist",)),
    Case("a weights name with escapes in the config", "messages", ["w.toml"],
         files={"user/w.toml": 'layers = [3, 2]\nweights = "\\u001b[31mw\\n.npz"\n'}, status=(2,),
         words=("does not exist",)),
    Case("an activation name with escapes", "messages", ["a.toml"],
         files={"user/a.toml": 'layers = [3, 2]\nactivations = "sig\\u001b[2Jmoid"\n'},
         status=(2,), words=("activation",)),
    Case("a --variant name with escapes", "messages", ["cfg/net.toml", "--variant",
                                                       "code\x1b[31m2"],
         files={"user/cfg/net.toml": NET}, status=(2,), words=("variant",)),
    impl_case("an exception message with terminal escapes", "messages",
              "def e(w, b, x, y):\n    raise ValueError('\\x1b[2J\\x1b[31mred\\x1b]0;pwned\\x07 end')\n",
              "e", status=(2,), words=("ValueError",)),
    impl_case("an exception message with a C1 control (CSI) and a bidi override", "messages",
              "def e(w, b, x, y):\n    raise ValueError('\\x9b31m red \\u202e desrever')\n",
              "e", status=(2,), words=("ValueError",)),
    impl_case("an exception message of 10,000 characters", "messages",
              "def e(w, b, x, y):\n    raise ValueError('A' * 10000)\n", "e", status=(2,),
              words=("ValueError",)),
    impl_case("an exception message with carriage returns and newlines", "messages",
              "def e(w, b, x, y):\n    raise ValueError('first\\rgradcheck PASSED\\nsecond line')\n",
              "e", status=(2,), words=("ValueError",)),
    impl_case("an exception message starting with a newline", "messages",
              "def e(w, b, x, y):\n    raise ValueError('\\nthe real message')\n", "e",
              status=(2,), words=("ValueError", "real message")),
    layer_case("--layer: a forward raising with escapes", "messages",
               "def e_forward(x, w, b):\n    raise ValueError('\\x1b[2J' + 'B' * 10000)\n",
               "e_forward,affine_backward", status=(2,), words=("ValueError",)),
    impl_case("a TARGET that is not callable", "messages", "CONSTANT = 3\n", "CONSTANT",
              status=(2,), words=("not callable",)),
    impl_case("a TARGET that does not exist", "messages", "", "nothing_here", status=(2,),
              words=("nothing_here",)),
    impl_case("a TARGET that is not an expression", "messages", "", "grad(", status=(2,),
              words=("expression",)),
    impl_case("a user file with a syntax error", "messages", "def (:\n", "grad", status=(2,),
              words=("SyntaxError",)),
    impl_case("a user file that is not UTF-8", "messages", "", "grad",
              files={"user/p.py": b"x = '\xff\xfe'\n"}, status=(2,), words=("p.py",)),
    impl_case("a user 'file' that is a directory", "messages", "", "grad",
              setup=lambda ctx: (os.unlink(ctx.path("user/p.py")), mkdir("user/p.py")(ctx)),
              status=(2,), words=("p.py",)),
    impl_case("a TARGET whose evaluation raises with escapes", "messages", "",
              "(_ for _ in ()).throw(ValueError('\\x1b[31mboom'))", status=(2,),
              words=("ValueError",)),
    Case("a non-ASCII config name with PYTHONIOENCODING=ascii", "messages", ["café.toml"],
         env={"PYTHONIOENCODING": "ascii"}, status=(2,), words=("does not exist",)),
    Case("a config name of invalid UTF-8, --json", "messages",
         [os.fsdecode(b"\xff\xfe.toml"), "--json"], status=(2,), words=("does not exist",)),
)

# -- parsing -------------------------------------------------------------------------------------

RUN = {"user/cfg/net.toml": NET, "user/p.py": RIGHT}


def parse_case(name, argv, *, status=(2,), words=(), files=None, **kw):
    return Case(name, "parsing", argv, files=files if files is not None else RUN, status=status,
                words=words, **kw)


add(
    parse_case("a JSON config with duplicate keys", ["d.json"],
               files={"user/d.json": '{"layers": [3, 2], "layers": [4, 2]}'}, words=("layers",)),
    parse_case("a JSON config with duplicate keys in [impl]", ["d.json", "--impl", "p.py:grad"],
               files={"user/d.json": '{"layers": [3, 2], "impl": {"kind": "step", '
                                     '"kind": "gradient"}}', "user/p.py": RIGHT},
               words=("kind",)),
    parse_case("a JSON config with a duplicate loss", ["d.json"],
               files={"user/d.json": '{"layers": [3, 2], "loss": "nope", '
                                     '"loss": "half_squared_error"}'}, words=("loss",)),
    parse_case("a TOML config with duplicate keys", ["d.toml"],
               files={"user/d.toml": "layers = [3, 2]\nlayers = [4, 2]\n"}, words=("d.toml",)),
    parse_case("--js (an abbreviation of --json)", ["cfg/net.toml", "--js"], words=("--js",)),
    parse_case("--form json (an abbreviation of --format)", ["cfg/net.toml", "--form", "json"],
               words=("--form",)),
    parse_case("--imp (an abbreviation of --impl)", ["cfg/net.toml", "--imp", "p.py:grad"],
               words=("--imp",)),
    parse_case("--time (an abbreviation of --timeout)",
               ["cfg/net.toml", "--impl", "p.py:grad", "--time", "5"], words=("--time",)),
    parse_case("--list (an abbreviation of --list-variants)", ["--list"], words=("--list",)),
    parse_case("--impl-k (an abbreviation of --impl-kind)",
               ["cfg/net.toml", "--impl", "p.py:grad", "--impl-k", "gradient"],
               words=("--impl-k",)),
    parse_case("--var (an abbreviation of --variant)", ["cfg/net.toml", "--var", "code2"],
               words=("--var",)),
    parse_case("--for (ambiguous: --format, --force)", ["cfg/net.toml", "--for", "json"]),
    parse_case("--impl given twice", ["cfg/net.toml", "--impl", "q.py:wrong", "--impl",
                                      "p.py:grad"], words=("--impl",)),
    parse_case("--timeout given twice", ["cfg/net.toml", "--impl", "p.py:grad", "--timeout", "1",
                                         "--timeout", "100"], words=("--timeout",)),
    parse_case("--variant given twice", ["cfg/net.toml", "--variant", "code2", "--variant",
                                         "correct"], words=("--variant",)),
    # formats that conflict promise no JSON (gradcheck._entry.wants_json)
    parse_case("--format json then --format text", ["cfg/net.toml", "--format", "json",
                                                    "--format", "text"], words=("--format",),
               json=False),
    parse_case("--json with --format text", ["cfg/net.toml", "--json", "--format", "text"],
               words=("--format",), json=False),
    parse_case("--json twice (a repeated flag)", ["cfg/net.toml", "--json", "--json"],
               status=(0, 2)),
    parse_case("--shape given twice for one name", ["--layer", "L.py:affine_forward",
                                                    "--shape", "x=4,3", "--shape", "x=5,3",
                                                    "--shape", "w=3,5", "--shape", "b=5"],
               files={"user/L.py": LAYER}, words=("x",)),
    parse_case("--shape with an empty dimension", ["--layer", "L.py:affine_forward",
                                                   "--shape", "x=4,,3", "--shape", "w=3,5",
                                                   "--shape", "b=5"],
               files={"user/L.py": LAYER}, words=("--shape",)),
    parse_case("--arg JSON with duplicate keys", ["--layer", "L.py:scaled_forward",
                                                  "--shape", "x=4,3", "--shape", "w=3,5", "--arg",
                                                  'param={"scale": 1, "scale": 3}'],
               files={"user/L.py": LAYER}, words=("--arg",)),
    parse_case("an unknown option --jsn", ["cfg/net.toml", "--jsn"], words=("--jsn",)),
    parse_case("an unknown short option -x", ["cfg/net.toml", "-x"], words=("-x",)),
    parse_case("two configs", ["cfg/net.toml", "cfg/net.toml"]),
    parse_case("--json=yes", ["cfg/net.toml", "--json=yes"], words=("--json",)),
    parse_case("--seed 1e3", ["cfg/net.toml", "--seed", "1e3"], words=("--seed",)),
    parse_case("--max-examples 0", ["--search", "code2", "--max-examples", "0", "--out", "s"],
               words=("--max-examples",)),
    parse_case("--max-examples -5", ["--search", "code2", "--max-examples", "-5", "--out", "s"],
               words=("--max-examples",)),
    parse_case("--sample -1", [*layer_argv(), "--sample", "-1"], files={"user/L.py": LAYER},
               words=("--sample",)),
    parse_case("a config named --json after --", ["--", "--json"], json=False,
               words=("does not exist",)),
    parse_case("--impl-kind given twice", ["cfg/net.toml", "--impl", "p.py:grad", "--impl-kind",
                                           "step", "--impl-kind", "gradient"],
               words=("--impl-kind",)),
    parse_case("--impl FILE.py (a script, per the contract) checks a correct script",
               ["cfg/net.toml", "--impl", "s.py"], status=(0,),
               files={"user/cfg/net.toml": NET, "user/s.py": (
                   "import numpy as np\nrng = np.random.default_rng(0)\n"
                   "W1 = rng.standard_normal((2, 3))\nb1 = np.zeros((2, 1))\n"
                   "x = rng.standard_normal((3, 10))\ny = rng.random((2, 10))\nlr = 0.5\n"
                   "for i in range(2):\n    a = 1 / (1 + np.exp(-(W1 @ x + b1)))\n"
                   "    d = (a - y) * a * (1 - a)\n    W1 -= lr * d @ x.T\n"
                   "    b1 -= lr * d.sum(axis=1, keepdims=True)\n")}),
)

# -- cli -----------------------------------------------------------------------------------------

add(
    Case("--list-variants", "cli", ["--list-variants"], status=(0,)),
    Case("--list-variants --json is refused", "cli", ["--list-variants", "--json"], status=(2,),
         words=("--list-variants",)),
    Case("no arguments", "cli", [], status=(2,), words=("config",)),
    Case("--help", "cli", ["--help"], status=(0,)),
    Case("the correct variant, --json", "cli", ["cfg/net.toml", "--json"],
         files={"user/cfg/net.toml": NET}, status=(0,)),
    Case("code2, --json", "cli", ["cfg/net.toml", "--variant", "code2", "--json"],
         files={"user/cfg/net.toml": "layers = [3, 4, 2]\nseed = 1\n"}, status=(1,)),
    impl_case("a right gradient, --json", "cli", "", "grad", extra=("--json",), status=(0,)),
    impl_case("a 3x gradient, text", "cli", "", "wrong", status=(1,)),
    impl_case("a right gradient through a lambda TARGET", "cli", "",
              "lambda weights, biases, x, y: grad(weights, biases, x, y)", status=(0,)),
    layer_case("a right layer, --json", "cli", "", "affine_forward,affine_backward",
               extra=("--json",), status=(0,)),
    layer_case("a 3x layer, --format=json", "cli", "", "affine_forward,wrong_backward",
               extra=("--format=json",), status=(1,)),
    Case("an --impl with --variant is refused", "cli",
         ["cfg/net.toml", "--impl", "p.py:grad", "--variant", "code2"], files=RUN, status=(2,),
         words=("--variant",)),
    Case("--timeout without --impl is refused", "cli", ["cfg/net.toml", "--timeout", "3"],
         files={"user/cfg/net.toml": NET}, status=(2,), words=("--timeout",)),
    Case("a relative --impl from another working directory", "cli",
         ["../user/cfg/net.toml", "--impl", "../user/p.py:grad"], files=RUN, cwd="outside",
         status=(0,)),
)

# -- state (the Python API, run in a subprocess) ----------------------------------------------------

API_PRELUDE = '''import sys, warnings
import numpy as np
from gradcheck import Network
from gradcheck import check_function, check_layer, gradcheck

def state():
    return (np.geterr(), np.get_printoptions(), len(warnings.filters), sys.stdout, sys.stderr)

np.seterr(over="warn", divide="ignore", invalid="warn", under="ignore")
np.set_printoptions(precision=4, linewidth=99)
problems = []
'''
API_END = '''
if problems:
    print("STATE CHANGED: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
'''


def api_case(name, body):
    """A Python API script: ``body`` appends to ``problems`` what changed; an exception it
    raises is a problem too (reported, not a traceback)."""
    wrapped = ("try:\n" + "".join("    " + line + "\n" if line.strip() else "\n"
                                   for line in body.strip("\n").splitlines())
               + "except Exception as e:\n"
               + "    problems.append(f'raised {type(e).__name__}: {e}')\n")
    return Case(name, "state", [], files={"user/api.py": API_PRELUDE + wrapped + API_END},
                cmd=[sys.executable, "api.py"], status=(0,), words=(), quiet=False,
                seconds=30)


NET_API = '''
net = Network([3, 4, 2], activations="sigmoid", seed=0)
rng = np.random.default_rng(1)
x, y = rng.standard_normal((3, 5)), rng.random((2, 5))
'''

add(
    api_case("check_function leaves numpy's error state and print options", '''
w = np.random.default_rng(0).standard_normal(5)
before = state()
check_function(lambda: (float(np.sum(w ** 2)), 2 * w), {"w": w})
if state() != before:
    problems.append(f"{before} -> {state()}")
'''),
    api_case("check_function whose f changes numpy's state", '''
w = np.random.default_rng(0).standard_normal(5)
def f():
    np.seterr(all="raise")
    np.set_printoptions(precision=1, threshold=5)
    return float(np.sum(w ** 2)), 2 * w
before = state()
check_function(f, {"w": w})
if state() != before:
    problems.append(f"{before} -> {state()}")
'''),
    api_case("check_function whose f raises restores params and state", '''
w = np.array([0.5, -0.0, 5e-324, 1.0])
saved = w.copy()
calls = [0]
def f():
    calls[0] += 1
    np.seterr(all="raise")
    if calls[0] > 2:
        raise RuntimeError("boom")
    return float(np.sum(w ** 2)), 2 * w
before = state()
try:
    check_function(f, {"w": w})
except Exception:
    pass
if state() != before:
    problems.append(f"state {before} -> {state()}")
if w.tobytes() != saved.tobytes():
    problems.append(f"w {saved} -> {w}")
'''),
    api_case("check_function leaves numpy's global RandomState", '''
w = np.random.default_rng(0).standard_normal(5)
np.random.seed(7)
before = np.random.get_state()[1].copy(), np.random.get_state()[2]
check_function(lambda: (float(np.sum(w ** 2)), 2 * w), {"w": w})
after = np.random.get_state()
if not (np.array_equal(before[0], after[1]) and before[1] == after[2]):
    problems.append("np.random's global state moved")
'''),
    api_case("check_function whose f warns leaves the warnings filters", '''
w = np.random.default_rng(0).standard_normal(5)
def f():
    warnings.warn("from f")
    warnings.simplefilter("error")
    return float(np.sum(w ** 2)), 2 * w
filters = list(warnings.filters)
check_function(f, {"w": w})
if list(warnings.filters) != filters:
    problems.append("warnings.filters changed")
'''),
    api_case("check_layer leaves numpy's state", '''
def fwd(x, w):
    np.seterr(all="raise")
    return x @ w, (x, w)
def bwd(dout, cache):
    x, w = cache
    np.set_printoptions(precision=2)
    return dout @ w.T, x.T @ dout
before = state()
rng = np.random.default_rng(0)
check_layer(fwd, bwd, rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
if state() != before:
    problems.append(f"{before} -> {state()}")
'''),
    api_case("gradcheck with impl= leaves numpy's state, x, y and the net", NET_API + '''
def impl(weights, biases, xx, yy):
    np.seterr(all="raise")
    np.set_printoptions(precision=1)
    print("noise from the code")
    W, b = weights, biases
    a1 = 1 / (1 + np.exp(-(W[0] @ xx + b[0]))); a2 = 1 / (1 + np.exp(-(W[1] @ a1 + b[1])))
    d2 = (a2 - yy) * a2 * (1 - a2); d1 = (W[1].T @ d2) * a1 * (1 - a1)
    return [d1 @ xx.T, d2 @ a1.T], [d1.sum(1, keepdims=True), d2.sum(1, keepdims=True)]
theta = net.theta.copy(); xs, ys = x.copy(), y.copy()
before = state()
r = gradcheck(net, x, y, impl=impl)
if not r.passed:
    problems.append("the right gradient did not pass")
if state() != before:
    problems.append(f"{before} -> {state()}")
if not (np.array_equal(theta, net.theta) and np.array_equal(xs, x) and np.array_equal(ys, y)):
    problems.append("net.theta, x or y changed")
'''),
    api_case("gradcheck(impl=obj.method) leaves the object's list of arrays", NET_API + '''
class Mine:
    def __init__(self):
        r = np.random.default_rng(5)
        self.weights = [r.standard_normal((4, 3)), r.standard_normal((2, 4))]
        self.biases = [r.standard_normal((4, 1)), r.standard_normal((2, 1))]
    def backprop(self, xx, yy):
        W, b = self.weights, self.biases
        a0 = xx; z1 = W[0] @ a0 + b[0]; a1 = 1 / (1 + np.exp(-z1))
        z2 = W[1] @ a1 + b[1]; a2 = 1 / (1 + np.exp(-z2))
        d2 = (a2 - yy) * a2 * (1 - a2); d1 = (W[1].T @ d2) * a1 * (1 - a1)
        return ([d1 @ a0.T, d2 @ a1.T], [d1.sum(1, keepdims=True), d2.sum(1, keepdims=True)])
obj = Mine()
ids = [id(a) for a in obj.weights + obj.biases]
saved = [a.copy() for a in obj.weights + obj.biases]
r = gradcheck(net, x, y, impl=obj.backprop)
now = obj.weights + obj.biases
if [id(a) for a in now] != ids:
    problems.append("the object's arrays were replaced")
if not all(np.array_equal(a, b) for a, b in zip(now, saved)):
    problems.append("the object's arrays were overwritten with the config's values")
if not r.passed:
    problems.append("the right backprop did not pass")
'''),
    api_case("gradcheck(impl=obj.method) leaves separately named arrays", NET_API + '''
class Mine:
    def __init__(self):
        r = np.random.default_rng(5)
        self.W1, self.W2 = r.standard_normal((4, 3)), r.standard_normal((2, 4))
        self.b1, self.b2 = r.standard_normal((4, 1)), r.standard_normal((2, 1))
    def gradients(self, X, Y):
        a0 = X; a1 = 1 / (1 + np.exp(-(self.W1 @ a0 + self.b1)))
        a2 = 1 / (1 + np.exp(-(self.W2 @ a1 + self.b2)))
        d2 = (a2 - Y) * a2 * (1 - a2); d1 = (self.W2.T @ d2) * a1 * (1 - a1)
        return {"dW1": d1 @ a0.T, "db1": d1.sum(1, keepdims=True),
                "dW2": d2 @ a1.T, "db2": d2.sum(1, keepdims=True)}
obj = Mine()
names = ["W1", "W2", "b1", "b2"]
saved = {n: getattr(obj, n).copy() for n in names}
ids = {n: id(getattr(obj, n)) for n in names}
gradcheck(net, x, y, impl=obj.gradients)
for n in names:
    if id(getattr(obj, n)) != ids[n] or not np.array_equal(getattr(obj, n), saved[n]):
        problems.append(f"obj.{n} changed")
'''),
    api_case("gradcheck(impl=obj.method) leaves a params dict", NET_API + '''
class Mine:
    def __init__(self):
        r = np.random.default_rng(5)
        self.params = {"W1": r.standard_normal((4, 3)), "b1": r.standard_normal((4, 1)),
                       "W2": r.standard_normal((2, 4)), "b2": r.standard_normal((2, 1))}
    def grads(self, X, Y):
        p = self.params
        a1 = 1 / (1 + np.exp(-(p["W1"] @ X + p["b1"])))
        a2 = 1 / (1 + np.exp(-(p["W2"] @ a1 + p["b2"])))
        d2 = (a2 - Y) * a2 * (1 - a2); d1 = (p["W2"].T @ d2) * a1 * (1 - a1)
        return {"W1": d1 @ X.T, "b1": d1.sum(1, keepdims=True),
                "W2": d2 @ a1.T, "b2": d2.sum(1, keepdims=True)}
obj = Mine()
saved = {k: v.copy() for k, v in obj.params.items()}
keys = list(obj.params)
gradcheck(net, x, y, impl=obj.grads)
if list(obj.params) != keys or any(not np.array_equal(obj.params[k], saved[k]) for k in keys):
    problems.append("obj.params changed")
'''),
    api_case("gradcheck(impl=obj.train, step) leaves the object's arrays", NET_API + '''
class Mine:
    def __init__(self):
        r = np.random.default_rng(5)
        self.wih, self.who = r.standard_normal((4, 3)), r.standard_normal((2, 4))
        self.bh, self.bo = r.standard_normal((4, 1)), r.standard_normal((2, 1))
        self.learning_rate = 0.1
    def train(self, X, Y):
        a1 = 1 / (1 + np.exp(-(self.wih @ X + self.bh)))
        a2 = 1 / (1 + np.exp(-(self.who @ a1 + self.bo)))
        d2 = (a2 - Y) * a2 * (1 - a2); d1 = (self.who.T @ d2) * a1 * (1 - a1)
        self.who -= self.learning_rate * d2 @ a1.T
        self.bo -= self.learning_rate * d2.sum(1, keepdims=True)
        self.wih -= self.learning_rate * d1 @ X.T
        self.bh -= self.learning_rate * d1.sum(1, keepdims=True)
obj = Mine()
names = ["wih", "who", "bh", "bo"]
saved = {n: getattr(obj, n).copy() for n in names}
lr = obj.learning_rate
try:
    gradcheck(net, x, y, impl=obj.train, impl_kind="step")
except Exception as e:
    problems.append(f"gradcheck raised {e!r}")
for n in names:
    if not np.array_equal(getattr(obj, n), saved[n]):
        problems.append(f"obj.{n} changed")
if obj.learning_rate != lr:
    problems.append(f"obj.learning_rate {lr} -> {obj.learning_rate}")
'''),
    api_case("gradcheck restores sys.stdout when the code raises", NET_API + '''
def impl(weights, biases, xx, yy):
    print("noise")
    raise RuntimeError("boom")
out, err = sys.stdout, sys.stderr
try:
    gradcheck(net, x, y, impl=impl)
except Exception:
    pass
if sys.stdout is not out or sys.stderr is not err:
    problems.append("sys.stdout or sys.stderr replaced")
'''),
)

TABLE = CASES
_names = [c.name for c in TABLE]
assert len(set(_names)) == len(_names), sorted({n for n in _names if _names.count(n) > 1})


# -- the command ---------------------------------------------------------------------------------


def select(only=None, name=None):
    cases = TABLE
    if only:
        wanted = {c.strip() for part in only for c in part.split(",") if c.strip()}
        unknown = wanted - set(CLASSES)
        if unknown:
            raise SystemExit(f"unknown class {sorted(unknown)}; the classes are {', '.join(CLASSES)}")
        cases = [c for c in cases if c.cls in wanted]
    if name:
        cases = [c for c in cases if name.lower() in c.name.lower()]
    return cases


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.harness hostile",
                                description="Run the attack table through the real command.")
    p.add_argument("--only", action="append", metavar="CLASS[,CLASS]",
                   help=f"run only these classes: {', '.join(CLASSES)}")
    p.add_argument("--name", metavar="SUBSTRING", help="run only cases whose name contains it")
    p.add_argument("--jobs", type=int, default=1, help="cases run one at a time (1)")
    p.add_argument("--keep", action="store_true", help="keep each case's folder (printed)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    args = p.parse_args(argv)
    cases = select(args.only, args.name)
    if args.list:
        for c in cases:
            print(f"{c.cls:<14} {c.name}")
        print(f"{len(cases)} cases")
        return 0
    runs = run_table(cases, "hostile", keep=args.keep, jobs=args.jobs)
    return 0 if all(r.ok for r in runs) else 1
