"""The ``gradcheck`` command.

    gradcheck CONFIG [--variant NAME] [--impl FILE.py:TARGET [--impl-kind gradient|step]] [--json]
    gradcheck --list-variants
    gradcheck --search VARIANT [--out PATH] [--force]

Exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input could not be used (one
line on stderr names the problem; never a traceback), 130 interrupted.  ``main(argv, stdout,
stderr)`` is the whole command, so tests and scripts can call it in-process.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..backprop import VARIANTS, ConfigError
from ..backprop.config import build, read_config

from .budget import refuse_if_too_big, seconds, SLOW_SECONDS
from .spec import ImplSpec
from .check import MODES, check
from .differentiate import SCHEMES, scheme
from .formats import FORMATS
from .functions import METHODS, check_layer_code
from .layers import ChildLayer, layer_signature
from .outputs import check_writable, replace_link
from .analytic import IMPL_KINDS
from .usercode import PluginError, UserTarget
from .problem import Problem
from .runner import DEFAULT_TIMEOUT, Child, InChild
from .sources import Catalogue

__all__ = ["main"]

PROG = "gradcheck"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting and prints to the stream it is given."""

    def __init__(self, *args, out=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.out = out

    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(message)

    def _print_message(self, message, file=None):
        if message:
            (self.out or sys.stdout).write(message)


#: the options of each mode; any other given explicitly is refused, not silently ignored
CHECK_OPTIONS = {"variant", "impl", "impl_kind", "method", "mode", "seed", "format", "timeout",
                 "plot", "force"}
LAYER_OPTIONS = {"shape", "arg", "seed", "method", "sample", "format", "timeout", "plot", "force"}
MODE_OPTIONS = {"list_variants": set(), "search": {"out", "force", "max_examples"},
                "config": CHECK_OPTIONS, "layer": LAYER_OPTIONS}


def _parser(out):
    p = _Parser(prog=PROG, out=out, argument_default=argparse.SUPPRESS,
                description="Check a hand-written backward pass against an exact numerical "
                            "gradient (complex step by default).",
                epilog="Exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input "
                       "could not be used, 130 interrupted.  --impl runs the named Python file: "
                       "check code you trust.")
    p.add_argument("config", nargs="?", help="the saved network config (TOML or JSON)")
    p.add_argument("--variant", metavar="NAME",
                   help="a backward pass from the catalogue (default: correct; code2 is the seeds' "
                        "code (2)); see --list-variants")
    p.add_argument("--list-variants", action="store_true",
                   help="list the catalogue of backward passes, one line each, and exit")
    p.add_argument("--impl", metavar="FILE.py:TARGET",
                   help="check your own code instead of a catalogue variant (runs FILE.py)")
    p.add_argument("--impl-kind", choices=IMPL_KINDS,
                   help="gradient: the call returns the gradient; step: it takes one "
                        "gradient-descent step (default: what the call shows)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="how long your code may take to give one gradient, all its calls "
                        f"together (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--method", choices=list(SCHEMES) + ["auto"],
                   help="the numerical scheme (default: complex_step, exact to rounding; with "
                        "--layer the default is auto: the complex step where the code is "
                        "complex-safe, else richardson)")
    p.add_argument("--mode", choices=list(MODES),
                   help="full: every entry (default); directional: one random direction per array")
    p.add_argument("--seed", type=int,
                   help="seed of the random directions of --mode directional (default: 0)")
    p.add_argument("--format", choices=list(FORMATS),
                   help="how to print the report: text (default), json, html")
    p.add_argument("--json", dest="format", action="store_const", const="json",
                   help="print one JSON object (the same as --format json)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the report: per array, analytic against numeric and their "
                        "difference as a heat map (needs matplotlib)")
    p.add_argument("--search", metavar="VARIANT",
                   help="search (hypothesis) for the smallest network on which VARIANT is wrong, "
                        "print it and save it as a config")
    p.add_argument("--layer", metavar="FILE.py:FORWARD[,BACKWARD]",
                   help="check a layer's backward pass against its forward (CS231n style: "
                        "forward(...) -> (out, cache), backward(dout, cache) -> grads); BACKWARD "
                        "defaults to FORWARD with 'forward' replaced by 'backward'")
    p.add_argument("--shape", action="append", metavar="NAME=D1,D2,...",
                   help="with --layer: an array input of the forward, drawn N(0, 1) with --seed")
    p.add_argument("--arg", action="append", metavar="NAME=JSON",
                   help="with --layer: any other input, as JSON: --arg conv_param='{\"stride\": 1}'")
    p.add_argument("--sample", type=int, metavar="K",
                   help="with --layer: check K random entries per array instead of every entry")
    p.add_argument("--out", metavar="PATH",
                   help="with --search: where to save the config found (default: "
                        "gradcheck-search.toml and its .npz files)")
    p.add_argument("--force", action="store_true",
                   help="replace files that already exist at --out or --plot")
    p.add_argument("--max-examples", type=int, metavar="N",
                   help="with --search: how many networks hypothesis may try (default: 500)")
    return p


def _progress(stream):
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None

    def show(done, total):
        stream.write(f"\r{PROG}: {done}/{total} checked")
        if done >= total:
            stream.write("\r" + " " * 40 + "\r")
        stream.flush()
    return show


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
                raise UsageError(f"--{option.replace('_', '-')} needs --impl FILE.py:TARGET")
        return Catalogue(getattr(args, "variant", "correct"), field="--variant")
    if "variant" in args:
        raise UsageError("--variant and --impl cannot be used together")
    table = ImplSpec.from_table(cfg.fields.get("impl"))
    return InChild(UserTarget.parse(args.impl), getattr(args, "impl_kind", None) or table.kind,
                   table, getattr(args, "timeout", DEFAULT_TIMEOUT), output=stderr)


def run_check(args, stdout, stderr):
    plot = _plot_path(args)
    mode = getattr(args, "mode", "full")
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
                       getattr(args, "seed", 0), progress=_progress(stderr))
    finally:
        source.close()
    if plot is not None:
        report.plot(replace_link(plot))
    stdout.write(FORMATS[getattr(args, "format", "text")](report) + "\n")
    return 0 if report.passed else 1


MAX_LAYER_ELEMENTS = 10**7


def _shapes(items):
    shapes = {}
    for item in items or []:
        name, sep, dims = item.partition("=")
        try:
            shape = [int(d) for d in dims.split(",") if d.strip()] if sep else None
        except ValueError:
            shape = None
        if not name.isidentifier() or not shape or any(d < 1 for d in shape):
            raise UsageError(f"--shape must be NAME=D1,D2,... with positive sizes; got {item!r}")
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
        try:
            args[name] = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"--arg {name}: not JSON ({e.msg}); strings need quotes: "
                             f"--arg {name}='\"text\"'") from None
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
    plot = _plot_path(args)
    target = UserTarget.parse(args.layer, "--layer")
    forward, backward = _layer_names(target)
    seed = getattr(args, "seed", 0)
    with Child(target.shown, getattr(args, "timeout", DEFAULT_TIMEOUT), stderr) as child:
        signature = layer_signature(child, target, forward)
        inputs = _layer_inputs(signature, forward, shapes, values, seed)
        code = ChildLayer(child, target, forward, backward, inputs)
        report = check_layer_code(code, f"{forward} / {backward}", method=method, sample=sample,
                                  seed=seed)
    if plot is not None:
        report.plot(replace_link(plot))
    stdout.write(FORMATS[getattr(args, "format", "text")](report) + "\n")
    return 0 if report.passed else 1


def _wants_json(argv):
    """Whether the arguments ask for JSON (read without the parser, which may be what failed)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for k, arg in enumerate(argv):
        if arg == "--json" or arg == "--format=json" or (
                arg == "--format" and k + 1 < len(argv) and argv[k + 1] == "json"):
            return True
    return False


def main(argv=None, stdout=None, stderr=None):
    """Run the command; returns the exit status."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    as_json = _wants_json(argv)

    def fail(message, status=2):
        line = " ".join(str(message).split())
        stderr.write(f"{PROG}: error: {line}\n" if status == 2 else f"{PROG}: {line}\n")
        if as_json:  # --json is valid JSON in every outcome
            stdout.write(json.dumps({"passed": False, "max_relative_error": None, "parameters": [],
                                     "error": line, "status": status}) + "\n")
        return status

    try:
        try:
            args = _parser(stdout).parse_args(argv)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        mode = _mode(args)
        if mode == "list_variants":
            list_variants(stdout)
            return 0
        if mode == "layer":
            return run_layer_command(args, stdout, stderr)
        if mode == "search":
            from .search import search_command
            return search_command(args.search, getattr(args, "out", "gradcheck-search"),
                                  getattr(args, "max_examples", 500), getattr(args, "force", False),
                                  stdout, stderr)
        return run_check(args, stdout, stderr)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except (UsageError, ConfigError, PluginError, ValueError, TypeError, OSError) as e:
        return fail(e)
    except MemoryError:
        return fail("out of memory while checking; try --mode directional or a smaller batch")
    except RecursionError:
        return fail("the input is nested too deeply")
    except Exception as e:  # never a traceback: a bug of ours still gets one line
        return fail(f"unexpected {type(e).__name__}: {e} (please report this)")
