"""``gradcheck --search VARIANT``: hypothesis looks for the smallest network on which a variant's
gradient is wrong, prints it with its analytic and numeric gradients, and saves it as a config.

The search draws networks with ``checks.strategies.networks_with_batches`` and shrinks the first
failing one: fewer layers, fewer units, a smaller batch, simpler weights.  Derandomized, so the
same call finds the same network.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from ..backprop import VARIANTS, save_config
from ..backprop.registry import lookup

from .check import gradcheck
from .outputs import check_writable, place
from .strategies import networks_with_batches

__all__ = ["find_smallest", "search_command", "output_paths"]


def find_smallest(variant, max_examples=500):
    """(net, x, y): a smallest network and batch on which ``variant`` fails the check, or None."""
    wrong = {name: v for name, v in VARIANTS.items() if name != "correct"}
    lookup(wrong, variant, "--search")

    def fails(problem):
        try:
            return not gradcheck(*problem, variant=variant).passed
        except ValueError:  # e.g. a shape-changing variant on a non-square network
            return False

    try:
        return find(networks_with_batches(max_width=4, max_size=3, min_weight=0.0),
                    fails, settings=settings(max_examples=max_examples, derandomize=True,
                                             database=None, deadline=None,
                                             phases=[Phase.generate, Phase.shrink],
                                             suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None


def output_paths(out, force):
    """The config and the .npz files a search will write at ``out``, checked before it runs."""
    if not str(out).strip():
        raise ValueError("--out needs a file name; got an empty one")
    path = Path(out)
    if path.suffix not in (".toml", ".json"):
        path = path.with_suffix(".toml")
    folder = path.parent
    return check_writable([path, folder / f"{path.stem}-weights.npz",
                           folder / f"{path.stem}-data.npz"], force, "--out")


def _save(paths, net, x, y, force):
    """The config and its .npz files, written in a scratch folder beside them and each put in
    place by ``outputs.place``: no link followed, nothing replaced without ``force``."""
    folder = paths[0].parent
    scratch = Path(tempfile.mkdtemp(prefix=".gradcheck-search-", dir=folder))
    try:
        save_config(scratch / paths[0].name, net, x, y)
        for path in paths[1:] + paths[:1]:  # the config last: it names the others
            place(scratch / path.name, path, force, "--out")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _quiet_interrupts():
    """A Ctrl-C that lands in a callback hypothesis runs (a gc callback) is reported by Python as
    "Exception ignored in ..." with a traceback; the command reports it itself, in one line."""
    previous = sys.unraisablehook

    def hook(unraisable):
        e = unraisable.exc_value
        if not (isinstance(e, KeyboardInterrupt) or type(e).__name__ == "Interrupted"):
            previous(unraisable)
    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def search_command(variant, out, max_examples, force, stdout, stderr, interrupted=lambda: False):
    """Search, print, save.  ``interrupted()``: whether a Ctrl-C arrived that the search may
    have swallowed (hypothesis runs callbacks where an exception is only reported): then nothing
    is saved."""
    if max_examples < 1:
        raise ValueError(f"--max-examples must be a positive number of networks; got {max_examples}")
    wrong = {name: v for name, v in VARIANTS.items() if name != "correct"}
    try:
        lookup(wrong, variant, "--search")
    except ValueError as e:
        raise ValueError(f"--search takes a wrong variant: {e}") from None
    paths = output_paths(out, force)
    with _quiet_interrupts():
        found = find_smallest(variant, max_examples)
    if interrupted():
        raise KeyboardInterrupt
    if found is None:
        stderr.write(f"gradcheck: no network found on which '{variant}' is wrong in "
                     f"{max_examples} tries\n")
        return 1
    net, x, y = found
    _save(paths, net, x, y, force)
    report = gradcheck(net, x, y, variant=variant)
    stdout.write(f"smallest network found on which '{variant}' is wrong "
                 f"({net.theta.size} parameters, batch {net.batch_size(x)}):\n  {net!r}\n"
                 f"  x = {x.tolist()}\n  y = {y.tolist()}\n\n{report}\n\n"
                 f"saved as {paths[0]}; re-run it with:\n  gradcheck {paths[0]} --variant {variant}\n")
    return 0
