"""The ``gradcheck`` command (shared/CONTRACT.md section 2).

    gradcheck CONFIG [--variant NAME] [--impl FILE.py:FUNC [--impl-kind gradient|step]] [--json]

Exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input could not be used (one
line on stderr names the problem; never a traceback).  ``main(argv)`` is the whole command, so
tests and scripts can call it in-process.
"""

from __future__ import annotations

import argparse
import json
import sys

from backprop import VARIANTS, ConfigError, load_config

from .check import MODES, gradcheck
from .numeric import METHODS
from .plugin import IMPL_KINDS, PluginError, load_plugin

__all__ = ["main"]

PROG = "gradcheck"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(message)


def _parser():
    p = _Parser(prog=PROG, description="Check a hand-written backward pass against an exact "
                "numerical gradient (complex step by default).",
                epilog="Exit status: 0 every gradient matches, 1 a mismatch was found, 2 the input "
                       "could not be used.  --impl runs the named Python file: check code you trust.")
    p.add_argument("config", nargs="?", help="the saved network config (TOML or JSON)")
    p.add_argument("--variant", default="correct", metavar="NAME",
                   help="a backward pass from the catalogue (default: correct; code2 is the seeds' "
                        "code (2)); see --list-variants")
    p.add_argument("--list-variants", action="store_true",
                   help="list the catalogue of backward passes, one line each, and exit")
    p.add_argument("--impl", metavar="FILE.py:FUNC",
                   help="check your own function instead of a catalogue variant (runs FILE.py)")
    p.add_argument("--impl-kind", choices=IMPL_KINDS, default="gradient",
                   help="gradient: FUNC(weights, biases, x, y) -> (nabla_w, nabla_b); step: "
                        "FUNC(weights, biases, x, y, lr) takes one gradient-descent step "
                        "(default: gradient)")
    p.add_argument("--method", choices=METHODS, default="complex_step",
                   help="the numerical scheme (default: complex_step, exact to rounding)")
    p.add_argument("--mode", choices=MODES, default="full",
                   help="full: every entry (default); directional: one random direction per array")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random directions of --mode directional (default: 0)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of the text report")
    p.add_argument("--search", metavar="VARIANT",
                   help="search (hypothesis) for the smallest network on which VARIANT is wrong, "
                        "print it and save it as a config; CONFIG is not used")
    p.add_argument("--out", metavar="PATH", default="gradcheck-search",
                   help="with --search: where to save the config found (default: "
                        "gradcheck-search.toml and its .npz files)")
    p.add_argument("--max-examples", type=int, default=500, metavar="N",
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


def main(argv=None, stdout=None, stderr=None):
    """Run the command; returns the exit status."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr

    def fail(message):
        stderr.write(f"{PROG}: error: {message}\n")
        return 2

    try:
        args = _parser().parse_args(argv)
    except UsageError as e:
        return fail(str(e))
    except SystemExit as e:  # --help
        return int(e.code or 0)
    try:
        if args.list_variants:
            list_variants(stdout)
            return 0
        if args.search:
            from .search import search_command
            return search_command(args.search, args.out, args.max_examples, stdout, stderr)
        if args.config is None:
            return fail("the config file is missing: gradcheck CONFIG (see --help)")
        if args.variant not in VARIANTS:
            from backprop.network import suggest
            return fail(f"--variant must be one of {', '.join(VARIANTS)}; got {args.variant!r}"
                        f"{suggest(args.variant, VARIANTS)}")
        if args.impl is None and args.impl_kind != "gradient":
            return fail("--impl-kind needs --impl FILE.py:FUNC")
        net, x, y = load_config(args.config)
        impl = load_plugin(args.impl) if args.impl else None
        report = gradcheck(net, x, y, variant=args.variant, impl=impl, impl_kind=args.impl_kind,
                           method=args.method, mode=args.mode, seed=args.seed,
                           progress=_progress(stderr))
    except (ConfigError, PluginError, ValueError, TypeError) as e:
        return fail(str(e))
    except MemoryError:
        return fail("out of memory while checking; try --mode directional or a smaller batch")
    except Exception as e:  # never a traceback: a bug of ours still gets one line
        return fail(f"unexpected {type(e).__name__}: {e} (please report this)")
    if args.json:
        stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        stdout.write(str(report) + "\n")
    return 0 if report.passed else 1
