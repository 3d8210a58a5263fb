"""``gradcheck --search VARIANT``: hypothesis looks for the smallest network on which a variant's
gradient is wrong, prints it with its analytic and numeric gradients, and saves it as a config.

The search draws networks with ``checks.strategies.networks_with_batches`` and shrinks the first
failing one: fewer layers, fewer units, a smaller batch, simpler weights.  Derandomized, so the
same call finds the same network.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from backprop import VARIANTS, save_config
from backprop.network import suggest

from .check import gradcheck
from .strategies import networks_with_batches

__all__ = ["find_smallest", "search_command"]


def find_smallest(variant, max_examples=500):
    """(net, x, y): a smallest network and batch on which ``variant`` fails the check, or None."""
    if variant not in VARIANTS or variant == "correct":
        choices = [v for v in VARIANTS if v != "correct"]
        raise ValueError(f"--search takes a wrong variant: one of {', '.join(choices)}; got "
                         f"{variant!r}{suggest(variant, choices)}")

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


def search_command(variant, out, max_examples, stdout, stderr):
    found = find_smallest(variant, max_examples)
    if found is None:
        stderr.write(f"gradcheck: no network found on which '{variant}' is wrong in "
                     f"{max_examples} tries\n")
        return 1
    net, x, y = found
    path = Path(out)
    if path.suffix not in (".toml", ".json"):
        path = path.with_suffix(".toml")
    save_config(path, net, x, y)
    report = gradcheck(net, x, y, variant=variant)
    stdout.write(f"smallest network found on which '{variant}' is wrong "
                 f"({net.theta.size} parameters, batch {net.batch_size(x)}):\n  {net!r}\n"
                 f"  x = {x.tolist()}\n  y = {y.tolist()}\n\n{report}\n\n"
                 f"saved as {path}; re-run it with:\n  gradcheck {path} --variant {variant}\n")
    return 0
