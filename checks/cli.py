"""The ``gradcheck`` command.

    gradcheck CONFIG [--variant NAME] [--impl FILE.py[:TARGET] [--impl-kind gradient|step]] [--json]
    gradcheck --list-variants
    gradcheck --search VARIANT [--out PATH] [--force]

Exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input could not be used (one
line on stderr names the problem; never a traceback), 130 interrupted.  ``main(argv, stdout,
stderr)`` is the whole command, so tests and scripts can call it in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import sys
import threading
import time

import numpy as np

from .._entry import PROG, failure_json, wants_json
from ..backprop import VARIANTS, ConfigError
from ..backprop.config import build, read_config

from .budget import refuse_if_too_big, seconds, SLOW_SECONDS
from .spec import ImplSpec
from .check import MODES, check
from .differentiate import SCHEMES, scheme
from .formats import FORMATS, render_text, render_verdict, terminal_width
from .functions import METHODS, check_layer_code
from .layers import ChildLayer, layer_signature
from .outputs import check_writable, written
from .analytic import IMPL_KINDS
from .usercode import PluginError, UserTarget, unique_keys
from .problem import Problem
from .runner import DEFAULT_TIMEOUT, Child, InChild
from .sources import Catalogue

__all__ = ["main"]


class UsageError(Exception):
    pass


class _Once:
    """An option that may be given once: a second value is refused, not silently taken (options
    sharing a destination, --json and --format, count as one)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if hasattr(namespace, self.dest):
            names = "/".join(a.option_strings[-1] for a in parser._actions if a.dest == self.dest)
            raise UsageError(f"{names} is given more than once")
        super().__call__(parser, namespace, values, option_string)


class _StoreOnce(_Once, argparse._StoreAction):
    pass


class _StoreConstOnce(_Once, argparse._StoreConstAction):
    pass


class _StoreTrueOnce(_Once, argparse._StoreTrueAction):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, prints to the stream it is given, and refuses an
    option given twice."""

    def __init__(self, *args, out=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.out = out
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        self.register("action", "store_const", _StoreConstOnce)
        self.register("action", "store_true", _StoreTrueOnce)

    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(message)

    def _print_message(self, message, file=None):
        if message:
            (self.out or sys.stdout).write(message)


#: the options of each mode; any other given explicitly is refused, not silently ignored
OUTPUT_OPTIONS = {"format", "quiet", "color", "plot", "force"}
CHECK_OPTIONS = ({"variant", "impl", "impl_kind", "method", "mode", "seed", "timeout"}
                 | OUTPUT_OPTIONS)
LAYER_OPTIONS = {"shape", "arg", "seed", "method", "mode", "sample", "timeout"} | OUTPUT_OPTIONS
#: the modes of a layer check (``checks.functions.MODES``)
LAYER_MODES = ("full", "fast")
MODE_OPTIONS = {"list_variants": set(), "search": {"out", "force", "max_examples"},
                "config": CHECK_OPTIONS, "layer": LAYER_OPTIONS}


USAGE = """gradcheck CONFIG [--variant NAME | --impl FILE.py[:TARGET]] [options]
       gradcheck --layer FILE.py:FORWARD[,BACKWARD] --shape NAME=SIZES [options]
       gradcheck --list-variants
       gradcheck --search VARIANT [--out PATH] [--force] [--max-examples N]
       gradcheck --version | --help"""

DESCRIPTION = """\
Check a hand-written backward pass against an exact numerical gradient: every
entry is compared, each held to a tolerance from an error model, and when they
differ the report says which array is wrong and how.  Four modes; each lists
its options and examples below."""

NETWORK_HELP = """\
CONFIG is a saved network config (TOML or JSON: layers, activations, loss,
...; see the README).  Checks one of gradcheck's built-in backward passes for
that network (a variant: the correct one, or one with a single known
mistake), or your own code with --impl.
examples:
  gradcheck examples/seed.toml                   the correct pass: exit 0
  gradcheck examples/seed.toml --variant code2   a known mistake: exit 1
  gradcheck examples/seed.toml \\
      --impl examples/seeds_train.py:train_code2 --impl-kind step
  gradcheck examples/nielsen.toml --json \\
      --impl examples/nielsen_backprop.py:gradient"""

LAYER_HELP = """\
Checks one layer's backward pass against its own forward (CS231n style:
forward(...) -> (out, cache), backward(dout, cache) -> one gradient per array
input).
examples:
  gradcheck --layer examples/layers.py:affine_forward \\
      --shape x=4,3 --shape w=3,5 --shape b=5
  gradcheck --layer examples/layers.py:dropout_forward,dropout_backward_bug \\
      --shape x=5,4 --arg dropout_param='{"p": 0.6, "seed": 1}'"""

BOTH_HELP = "For a network (CONFIG) and for --layer."

OUTPUT_HELP = """\
For a network (CONFIG) and for --layer.  The text report is wrapped to the
terminal's width (80 columns when not a terminal; $COLUMNS overrides it) and
coloured on a terminal unless NO_COLOR is set; a long check shows a progress
bar on stderr (on a terminal only)."""

LIST_HELP = """\
example:
  gradcheck --list-variants"""

SEARCH_HELP = """\
Lets hypothesis find and shrink the smallest network on which a variant is
wrong, prints it and saves it as a config.
example:
  gradcheck --search code2 --out /tmp/found
  gradcheck /tmp/found.toml --variant code2      then fails: exit 1"""

EPILOG = """\
exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input
could not be used (one line on stderr names the problem), 130 interrupted.
--impl and --layer import and run the named Python file (in a separate
process): check code you trust."""


def _version():
    """gradcheck's version (``gradcheck.__version__``, the same as the package metadata's)."""
    from .. import __version__
    return __version__


def _parser(out):
    p = _Parser(prog=PROG, out=out, argument_default=argparse.SUPPRESS, usage=USAGE,
                description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False, add_help=False,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    network = p.add_argument_group("check a network", NETWORK_HELP)
    network.add_argument("config", nargs="?", metavar="CONFIG",
                         help="the saved network config (TOML or JSON)")
    network.add_argument("--variant", metavar="NAME",
                         help="which built-in backward pass to check: correct (default), or one "
                              "with a single known mistake, such as code2 (the seeds' code (2)); "
                              "--list-variants lists them")
    network.add_argument("--impl", metavar="FILE.py[:TARGET]",
                         help="check your own code instead: TARGET is a Python expression in "
                              "FILE.py giving a function or method (runs FILE.py); without "
                              ":TARGET, FILE.py is a training script, run as written up to its "
                              "first update")
    network.add_argument("--impl-kind", choices=IMPL_KINDS,
                         help="gradient: the call returns the gradient; step: it takes one "
                              "gradient-descent step (default: what the call shows)")
    network.add_argument("--mode", choices=list(MODES) + ["fast"],
                         help="full: every entry (default); directional: one random direction per "
                              "array, seconds on any size of network; with --layer: full or fast "
                              "(a few random directions per input, for property tests)")
    layer = p.add_argument_group("check a layer", LAYER_HELP)
    layer.add_argument("--layer", metavar="FILE.py:FORWARD[,BACKWARD]",
                       help="the layer's forward and backward functions in FILE.py; BACKWARD "
                            "defaults to FORWARD with 'forward' replaced by 'backward'")
    layer.add_argument("--shape", action="append", metavar="NAME=D1,D2,...",
                       help="an array input of the forward, drawn N(0, 1) with --seed")
    layer.add_argument("--arg", action="append", metavar="NAME=JSON",
                       help="any other input, as JSON: --arg conv_param='{\"stride\": 1}'")
    layer.add_argument("--sample", type=int, metavar="K",
                       help="check K random entries per array instead of every entry")
    listing = p.add_argument_group("list the variants", LIST_HELP)
    listing.add_argument("--list-variants", action="store_true",
                         help="list the built-in backward passes (the correct one and each known "
                              "mistake), one line each, and exit")
    search = p.add_argument_group("search", SEARCH_HELP)
    search.add_argument("--search", metavar="VARIANT",
                        help="search for the smallest network on which VARIANT is wrong")
    search.add_argument("--out", metavar="PATH",
                        help="where to save the config found: PATH.toml and its .npz files "
                             "(default: gradcheck-search)")
    search.add_argument("--max-examples", type=int, metavar="N",
                        help="how many networks hypothesis may try (default: 500)")
    both = p.add_argument_group("numeric side and limits", BOTH_HELP)
    both.add_argument("--method", choices=list(SCHEMES) + ["auto"],
                      help="the numerical scheme (default: complex_step, exact to rounding; with "
                           "--layer the default is auto: the complex step where the code allows "
                           "it, else richardson)")
    both.add_argument("--seed", type=int,
                      help="seed of the random directions (--mode directional) or of the layer's "
                           "inputs (--layer) (default: 0)")
    both.add_argument("--timeout", type=float, metavar="SECONDS",
                      help="how long your code may take to give one gradient, all its calls "
                           f"together (default: {DEFAULT_TIMEOUT:g})")
    output = p.add_argument_group("output", OUTPUT_HELP)
    output.add_argument("--format", choices=list(FORMATS),
                        help="how to print the report: text (default), json, html")
    output.add_argument("--json", dest="format", action="store_const", const="json",
                        help="print one JSON object (the same as --format json)")
    output.add_argument("-q", "--quiet", action="store_true",
                        help="print only the verdict line (errors still go to stderr)")
    output.add_argument("--color", choices=COLOR_CHOICES,
                        help="colour the verdicts: auto (default: on a terminal, unless NO_COLOR "
                             "is set), always, never")
    output.add_argument("--plot", metavar="FILE.png",
                        help="also draw the report: per array, analytic against numeric and their "
                             "difference as a heat map (needs matplotlib)")
    output.add_argument("--force", action="store_true",
                        help="replace a file that already exists at --plot or --out")
    other = p.add_argument_group("other")
    other.add_argument("-h", "--help", action="help", help="show this help and exit")
    other.add_argument("--version", action="version", version=f"{PROG} {_version()}",
                       help="print gradcheck's version and exit")
    return p


#: --color: when the text report is painted
COLOR_CHOICES = ("auto", "always", "never")


def use_color(choice, stream):
    """Whether to paint the text written to ``stream``: ``always``, ``never``, or ``auto``: on a
    terminal, unless ``$NO_COLOR`` is set (to anything) or ``$TERM`` is ``dumb``."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


#: the progress bar's length in characters (less on a narrow terminal)
BAR = 30


class ProgressBar:
    """``progress(done, total)`` for the numeric side, drawn on a terminal as the share of the
    work done (not of the entries: an entry of a low layer costs more than one near the output),
    with the rate and the time left.

    ``work``: the segments the numeric side reports, in its order, as (items, cost of one item);
    when ``total`` is not their count, the items are taken as equal.  Nothing is drawn during
    the first ``delay`` seconds (a short check shows no bar), and at most every ``every``
    seconds; the line is cleared when the work is done.  A ``done`` that goes back starts a new
    pass (a check judged again at float32)."""

    def __init__(self, stream, work, unit, *, clock=time.monotonic, delay=0.5, every=0.1):
        self.stream, self.work, self.unit = stream, list(work), unit
        self.clock, self.delay, self.every = clock, delay, every
        self.start = self.shown = None
        self.last = 0
        self.drawn = 0

    def share(self, done, total):
        """The share of the work in the first ``done`` of ``total`` items."""
        if sum(n for n, _ in self.work) != total or not total:
            return done / total if total else 1.0
        spent = whole = 0.0
        left = done
        for n, cost in self.work:
            spent += min(max(left, 0), n) * cost
            whole += n * cost
            left -= n
        return spent / whole if whole else done / total

    def __call__(self, done, total):
        now = self.clock()
        if self.start is None or done < self.last:
            self.start, self.shown = now, None
        self.last = done
        if done >= total:
            self.clear()
            return
        if now - self.start < self.delay or (self.shown is not None and
                                             now - self.shown < self.every):
            return
        self.shown = now
        self.draw(self.share(done, total), done / max(now - self.start, 1e-9), now - self.start)

    def draw(self, share, rate, elapsed):
        left = elapsed * (1 - share) / share if share > 0 else None
        eta = f"{_duration(left)} left" if left is not None else "estimating"
        tail = f" {100 * share:3.0f}%  {rate:,.0f} {self.unit}/s  {eta}"
        # a bar of fixed length, room left for the longest tail
        room = min(BAR, max(terminal_width(self.stream) - 1 - len(PROG) - 5 - 40, 10))
        filled = int(round(room * share))
        line = f"{PROG}: [{'#' * filled}{'-' * (room - filled)}]{tail}"
        self.stream.write("\r" + line.ljust(self.drawn))
        self.drawn = len(line)
        self.stream.flush()

    def clear(self):
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"


def network_work(net, m, method):
    """The segments of a network check's numeric side, in the order it reports them, as (items,
    multiply-adds per item): the complex step carries each unit of layers L, ..., 1 to the output;
    finite differences carry each entry of W1, b1, W2, ... (``checks.budget``'s cost model)."""
    layers, L = net.layers, net.L
    above = [0] * (L + 1)  # cost of carrying one perturbation from layer l to the output
    for l in range(L - 1, -1, -1):
        above[l] = layers[l + 1] * m + sum(layers[k] * layers[k - 1] * m
                                           for k in range(l + 2, L + 1))
    if method.complex:
        return [(layers[l], max(above[l], layers[L] * m)) for l in range(L, 0, -1)], "units"
    return [(int(np.prod(p.shape)), above[p.layer] + layers[p.layer] * m)
            for p in net.params], "entries"


def _progress(stream, args=None, net=None, m=0, method=None):
    """The progress callback of a network check: a ``ProgressBar`` on ``stream`` when it is a
    terminal and --quiet was not given, else None."""
    if "quiet" in (args or ()) or not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    work, unit = network_work(net, m, method) if net is not None else ([], "items")
    return ProgressBar(stream, work, unit)


def list_variants(out):
    width = max(len(name) for name in VARIANTS)
    for name, variant in VARIANTS.items():
        out.write(f"{name:<{width}}  {variant.summary}\n")


def _mode(args):
    """Which mode the arguments ask for; refuse options that mode would ignore."""
    given = set(vars(args))
    modes = [m for m in ("list_variants", "search", "layer") if m in given]
    if "config" in given and args.config is not None:
        modes.append("config")
    if len(modes) > 1:
        raise UsageError(" and ".join(f"--{m.replace('_', '-')}" if m != "config" else "CONFIG"
                                      for m in modes) + " cannot be used together")
    if not modes:
        raise UsageError("the config file is missing: gradcheck CONFIG (see --help)")
    mode = modes[0]
    ignored = given - MODE_OPTIONS[mode] - {mode, "config"}
    if ignored:
        what = {"list_variants": "--list-variants", "search": "--search", "layer": "--layer",
                "config": "a check of CONFIG"}[mode]
        names = ", ".join(sorted(f"--{o.replace('_', '-')}" for o in ignored))
        raise UsageError(f"{names} cannot be used with {what}")
    return mode


def _plot_path(args):
    """The --plot file, checked before the check runs (matplotlib there, the path writable)."""
    path = getattr(args, "plot", None)
    if path is None:
        if "force" in args and "out" not in args:
            raise UsageError("--force needs --plot or --out")
        return None
    from .plot import require_matplotlib
    require_matplotlib()
    check_writable([path], getattr(args, "force", False), "--plot")
    return path


def _source(args, cfg, stderr):
    """Where the gradient under test comes from: a catalogue variant, or the user's code run in
    a child process; every option and the config's [impl] table validated here, once."""
    if "impl" not in args:
        for option in ("impl_kind", "timeout"):
            if option in args:
                raise UsageError(f"--{option.replace('_', '-')} needs --impl FILE.py[:TARGET]")
        return Catalogue(getattr(args, "variant", "correct"), field="--variant")
    if "variant" in args:
        raise UsageError("--variant and --impl cannot be used together")
    table = ImplSpec.from_table(cfg.fields.get("impl"))
    target = UserTarget.parse(args.impl, script=True)
    if target.expression is None:  # a training script, run as written
        from .runner import InScript
        if getattr(args, "impl_kind", None) not in (None, "step"):
            raise UsageError("--impl FILE.py (a script) takes a step; --impl-kind gradient needs "
                             "FILE.py:TARGET")
        return InScript(target, table, getattr(args, "timeout", DEFAULT_TIMEOUT), output=stderr)
    return InChild(target, getattr(args, "impl_kind", None) or table.kind,
                   table, getattr(args, "timeout", DEFAULT_TIMEOUT), output=stderr)


def run_check(args, stdout, stderr):
    plot = _plot_path(args)
    mode = getattr(args, "mode", "full")
    if mode not in MODES:
        raise UsageError(f"--mode {mode} is for --layer; a network takes --mode "
                         f"{' or '.join(MODES)}")
    if plot is not None and mode != "full":
        raise UsageError("--plot needs --mode full")
    cfg = read_config(args.config)
    source = _source(args, cfg, stderr)
    method = scheme(getattr(args, "method", "complex_step"))
    net, x, y = build(cfg, size_check=lambda layers, m: refuse_if_too_big(layers, m))
    estimate = seconds(cfg.layers, cfg.m, method, smooth=all(a.smooth for a in net.sigmas))
    if estimate > SLOW_SECONDS:
        stderr.write(f"{PROG}: this check will take about {estimate / 60:.0f} minutes "
                     f"({method}, layers {list(cfg.layers)}, batch {cfg.m}); --mode directional "
                     "takes seconds\n")
    try:
        report = check(Problem.checked(net, x, y), source, method, mode,
                       getattr(args, "seed", 0),
                       progress=_progress(stderr, args, net, cfg.m, method))
    finally:
        source.close()
    if plot is not None:
        with written(plot, getattr(args, "force", False), "--plot") as picture:
            report.plot(picture)
    return write_report(report, args, stdout)


def write_report(report, args, stdout):
    """Write ``report`` as --format, --quiet and --color ask; return the exit status, 0 passed or
    1 failed.  A check where nothing could be decided is no verdict: ValueError (exit 2)."""
    if not report.decided:
        counts = "; ".join(f"{n} {reason}" for reason, n in report.undecided.items())
        raise ValueError(f"nothing could be decided: every entry was left undecided ({counts})")
    fmt = getattr(args, "format", "text")
    if fmt != "text":
        text = FORMATS[fmt](report)
    else:
        color = use_color(getattr(args, "color", "auto"), stdout)
        render = render_verdict if "quiet" in args else render_text
        text = render(report, width=terminal_width(stdout), color=color)
    stdout.write(text + "\n")
    stdout.flush()  # a closed pipe or a full disk shows here, inside the command
    return 0 if report.passed else 1


def _output_options(args):
    """Refuse --quiet and --color where the report is not text."""
    fmt = getattr(args, "format", "text")
    given = [f"--{o}" for o in ("quiet", "color") if o in args]
    if given and fmt != "text":
        raise UsageError(f"{' and '.join(given)} apply to the text report; they cannot be used "
                         f"with --format {fmt}")


MAX_LAYER_ELEMENTS = 10**7


def _shapes(items):
    shapes = {}
    for item in items or []:
        name, sep, dims = item.partition("=")
        try:
            shape = [int(d) for d in dims.split(",")] if sep else None
        except ValueError:
            shape = None
        if not name.isidentifier() or not shape or any(d < 1 for d in shape):
            raise UsageError(f"--shape must be NAME=D1,D2,... with positive sizes; got {item!r}")
        if name in shapes:
            raise UsageError(f"--shape {name} is given twice")
        if int(np.prod(shape, dtype=np.int64)) > MAX_LAYER_ELEMENTS:
            raise UsageError(f"--shape {item}: more than {MAX_LAYER_ELEMENTS:,} elements")
        shapes[name] = shape
    return shapes


def _args(items):
    args = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not name.isidentifier() or not sep:
            raise UsageError(f"--arg must be NAME=JSON; got {item!r}")
        if name in args:
            raise UsageError(f"--arg {name} is given twice")
        try:
            args[name] = json.loads(text, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as e:
            raise UsageError(f"--arg {name}: not JSON ({e.msg}); strings need quotes: "
                             f"--arg {name}='\"text\"'") from None
        except ValueError as e:
            raise UsageError(f"--arg {name}: {e}") from None
    return args


def _layer_names(target):
    """(forward, backward) from ``FORWARD[,BACKWARD]``; BACKWARD defaults to FORWARD with
    'forward' replaced by 'backward'."""
    names = [n.strip() for n in target.expression.split(",")]
    if len(names) == 1:
        if "forward" not in names[0]:
            raise UsageError(f"--layer {names[0]!r}: name the backward too, "
                             "FILE.py:FORWARD,BACKWARD")
        names.append(names[0].replace("forward", "backward"))
    if len(names) != 2 or not all(names):
        raise UsageError("--layer takes FILE.py:FORWARD or FILE.py:FORWARD,BACKWARD")
    return names


def _layer_inputs(signature, forward, shapes, values, seed):
    """The forward's inputs in order: each --shape drawn N(0, 1) from ``seed``, each --arg as
    given, until the first parameter with a default that neither names."""
    known = [p["name"] for p in signature]
    unknown = sorted((set(shapes) | set(values)) - set(known))
    if unknown:
        raise UsageError(f"{forward} takes no argument {unknown[0]!r} (it takes "
                         f"{', '.join(known)})")
    rng = np.random.default_rng(seed)
    inputs = []
    for p in signature:
        if p["name"] in shapes:
            inputs.append(rng.standard_normal(shapes[p["name"]]))
        elif p["name"] in values:
            inputs.append(values[p["name"]])
        elif p["default"]:
            break
        else:
            raise UsageError(f"{forward} takes {p['name']}: give --shape {p['name']}=D1,D2,... "
                             f"for an array or --arg {p['name']}=JSON for anything else")
    return inputs


def run_layer_command(args, stdout, stderr):
    shapes, values = _shapes(getattr(args, "shape", None)), _args(getattr(args, "arg", None))
    if not shapes:
        raise UsageError("--layer needs at least one --shape NAME=D1,D2,... (an array input)")
    both = set(shapes) & set(values)
    if both:
        raise UsageError(f"{sorted(both)[0]!r} is given by both --shape and --arg")
    method = getattr(args, "method", "auto")
    if method not in METHODS:
        raise UsageError(f"--layer takes --method {', '.join(METHODS)}; got {method!r}")
    sample = getattr(args, "sample", None)
    if sample is not None and sample < 1:
        raise UsageError(f"--sample must be a positive number of entries; got {sample}")
    mode = getattr(args, "mode", "full")
    if mode not in LAYER_MODES:
        raise UsageError(f"--layer takes --mode {' or '.join(LAYER_MODES)}; got {mode!r}")
    if mode != "full" and getattr(args, "plot", None) is not None:
        raise UsageError("--plot needs --mode full")
    plot = _plot_path(args)
    target = UserTarget.parse(args.layer, "--layer")
    forward, backward = _layer_names(target)
    seed = getattr(args, "seed", 0)
    with Child(target.shown, getattr(args, "timeout", DEFAULT_TIMEOUT), stderr) as child:
        signature = layer_signature(child, target, forward)
        inputs = _layer_inputs(signature, forward, shapes, values, seed)
        code = ChildLayer(child, target, forward, backward, inputs)
        report = check_layer_code(code, f"{forward} / {backward}", method=method, sample=sample,
                                  seed=seed, mode=mode)
    if plot is not None:
        with written(plot, getattr(args, "force", False), "--plot") as picture:
            report.plot(picture)
    return write_report(report, args, stdout)


def _silence(stream):
    """After a failed write to stdout, point it at /dev/null, so that nothing more (Python's own
    flush at exit included) fails on it."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _is_stdout_error(e, stdout):
    """Whether an OSError came from writing the report (not from reading an input file)."""
    return getattr(e, "filename", None) is None


class Interrupted(Exception):
    """SIGTERM or SIGHUP arrived: end the child's processes and exit like Ctrl-C (130)."""


class _Signals:
    """What the command does on SIGINT, SIGTERM and SIGHUP: raise (KeyboardInterrupt, or
    ``Interrupted``) so that every process the user's code started is ended on the way out, and
    remember it, for code that may swallow the exception (hypothesis's callbacks).  Only the
    first signal raises: the ones after it arrive while the command is already ending."""

    def __init__(self):
        self.received = []

    def __call__(self, signum, frame):
        self.received.append(signum)
        if len(self.received) > 1:  # already ending: a second Ctrl-C must not cut the cleanup
            return
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signal.Signals(signum).name)


@contextlib.contextmanager
def _signals_end_the_check():
    """SIGINT, SIGTERM and SIGHUP end the check the way Ctrl-C does: every process the user's
    code started is ended on the way out, and the status is 130 (main thread only)."""
    signals = _Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    previous = {s: signal.signal(s, signals) for s in (signal.SIGINT, signal.SIGTERM,
                                                        signal.SIGHUP)}
    try:
        yield signals
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv=None, stdout=None, stderr=None):
    """Run the command; returns the exit status."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    as_json = wants_json(argv)
    with _signals_end_the_check() as signals:
        return _main(argv, stdout, stderr, as_json, signals)


def _main(argv, stdout, stderr, as_json, signals):

    def fail(message, status=2):
        line = " ".join(str(message).split())
        with contextlib.suppress(OSError):
            stderr.write(f"{PROG}: error: {line}\n" if status == 2 else f"{PROG}: {line}\n")
        if as_json:  # --json is valid JSON in every outcome
            try:
                stdout.write(failure_json(line, status))
                stdout.flush()
            except OSError:
                _silence(stdout)
        return status

    try:
        try:
            args = _parser(stdout).parse_args(argv)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        mode = _mode(args)
        _output_options(args)
        if mode == "list_variants":
            list_variants(stdout)
            return 0
        if mode == "layer":
            return run_layer_command(args, stdout, stderr)
        if mode == "search":
            from .search import search_command
            return search_command(args.search, getattr(args, "out", "gradcheck-search"),
                                  getattr(args, "max_examples", 500), getattr(args, "force", False),
                                  stdout, stderr, interrupted=lambda: bool(signals.received))
        return run_check(args, stdout, stderr)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except Interrupted as e:
        return fail(f"interrupted ({e})", 130)
    except BrokenPipeError:
        _silence(stdout)
        return fail("the report could not be written: its reader closed the pipe")
    except OSError as e:
        if e.errno in (errno.EPIPE, errno.ENOSPC) and _is_stdout_error(e, stdout):
            _silence(stdout)
            return fail(f"the report could not be written: {e.strerror}")
        return fail(e)
    except (UsageError, ConfigError, PluginError, ValueError, TypeError) as e:
        return fail(e)
    except MemoryError:
        return fail("out of memory while checking; try --mode directional or a smaller batch")
    except RecursionError:
        return fail("the input is nested too deeply")
    except Exception as e:  # never a traceback: a bug of ours still gets one line
        return fail(f"unexpected {type(e).__name__}: {e} (please report this)")
