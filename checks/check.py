"""``gradcheck``: the analytic gradient against the numeric one, for a Network and a batch."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace

import numpy as np

from backprop import VARIANTS, Network
from backprop.network import suggest

from .compare import compare_directional, compare_full, diagnose
from .numeric import METHODS, KINKED, directional, gamma, numeric_gradient
from .plugin import IMPL_KINDS, impl_gradient
from .report import Report

__all__ = ["gradcheck", "MODES", "describe_network"]

MODES = ("full", "directional")


def describe_network(net, m):
    names = [s.name for s in net.sigmas]
    acts = names[0] if len(set(names)) == 1 else "/".join(names)
    return (f"{list(net.layers)} {acts}, {net.loss.name}, {'biases' if net.bias else 'no biases'}, "
            f"{net.layout} layout, batch {m}")


def _validate(net, x, y, variant, impl, impl_kind, method, mode):
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a backprop.Network; got {type(net).__name__}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    for name, a, n in (("x", x, net.layers[0]), ("y", y, net.layers[-1])):
        if a.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-d batch; got shape {a.shape}")
        width = a.shape[0] if net.layout == "columns" else a.shape[1]
        if width != n:
            want = f"({n}, m)" if net.layout == "columns" else f"(m, {n})"
            raise ValueError(f"`{name}` must have shape {want} in the {net.layout} layout; got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"`{name}` contains NaN or inf")
    if net.batch_size(x) != net.batch_size(y):
        raise ValueError(f"`x` holds {net.batch_size(x)} examples but `y` holds {net.batch_size(y)}")
    if net.batch_size(x) < 1:
        raise ValueError("the batch is empty")
    if not np.all(np.isfinite(net.theta)):
        raise ValueError("the network's parameters contain NaN or inf")

    if impl is None and variant not in VARIANTS:
        raise ValueError(f"`variant` must be one of {', '.join(VARIANTS)}; got {variant!r}"
                         f"{suggest(variant, VARIANTS)}")
    if impl is not None and not callable(impl):
        raise TypeError(f"`impl` must be a function; got {impl!r}")
    if impl_kind not in IMPL_KINDS:
        raise ValueError(f"`impl_kind` must be 'gradient' or 'step'; got {impl_kind!r}")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}"
                         f"{suggest(method, METHODS)}")
    if mode not in MODES:
        raise ValueError(f"`mode` must be 'full' or 'directional'; got {mode!r}")
    return x, y


def _forward_with_finite_loss(net, x, y):
    """The forward pass, refusing a batch on which the loss is not finite."""
    with np.errstate(all="ignore"):
        f = net.forward(x)
        cost = net.loss.value(f.z[-1], f.a[-1], net.to_columns(y), net.sigmas[-1])
    if not np.isfinite(cost):
        raise ValueError(f"the loss {net.loss.name} is {cost} on this batch (an output at 0 or 1 "
                         "exactly?): its gradient is not defined there")
    return f


def _kinks(net, f):
    """(n_l, m) masks of the ReLU units within rounding of their kink, where sigma' is undefined."""
    W, b = net.columns()
    m = f.a[0].shape[1]
    kinks = [None]
    for l in range(1, net.L + 1):
        kink = np.zeros(f.z[l].shape, dtype=bool)
        if net.sigmas[l - 1].name in KINKED:
            size = np.abs(W[l]) @ np.abs(f.a[l - 1]) + np.abs(b[l])
            kink = np.abs(f.z[l]) <= gamma(net, m) * size
        kinks.append(kink)
    return kinks


def _depends_on_kinks(net, f, kinks):
    """Entries whose gradient passes through a unit at a kink: {name: bool mask}, layout shapes."""
    W, _ = net.columns()
    dep = [None] * (net.L + 1)
    dep[net.L] = kinks[net.L]
    for l in range(net.L - 1, 0, -1):
        dep[l] = kinks[l] | ((np.abs(W[l + 1]).T @ dep[l + 1]) > 0)
    out = {}
    for l in range(1, net.L + 1):
        d = dep[l].astype(float)
        out[f"W{l}"] = net.from_columns((d @ (f.a[l - 1] != 0).T) > 0)
        if net.bias:
            out[f"b{l}"] = net.from_columns(d.any(axis=1, keepdims=True))
    return out


def gradcheck(net, x, y, variant="correct", impl=None, impl_kind="gradient",
              method="complex_step", mode="full", seed=0, progress=None):
    """Check a backward pass of ``net`` on the batch (x, y) against the numeric gradient.

    variant: a name from ``backprop.VARIANTS`` (used when ``impl`` is None).
    impl: a user's function, ``impl(weights, biases, x, y) -> (nabla_w, nabla_b)`` for
      ``impl_kind="gradient"``, or ``impl(weights, biases, x, y, lr)`` taking one step in place
      (or returning the new ``(weights, biases)``) for ``impl_kind="step"``.
    method: the numeric scheme, ``complex_step`` (default), ``central``, ``richardson``, ``forward``.
    mode: ``full`` (every entry) or ``directional`` (one random direction per array, ``seed``).
    progress: called as progress(done, total) during long checks.

    >>> from backprop import Network
    >>> net = Network([2, 3, 1], seed=0)
    >>> x, y = np.ones((2, 4)), np.zeros((1, 4))
    >>> gradcheck(net, x, y).passed, gradcheck(net, x, y, variant="code2").passed
    (True, False)
    """
    x, y = _validate(net, x, y, variant, impl, impl_kind, method, mode)
    notes = []
    f = _forward_with_finite_loss(net, x, y)
    kinks = _kinks(net, f)
    at_kink = np.any([k.any(axis=0) for k in kinks[1:]], axis=0)
    undefined = None
    if at_kink.any() and not at_kink.all():
        keep = ~at_kink
        notes.append(f"example(s) {', '.join(map(str, np.flatnonzero(at_kink)))} put a ReLU unit at its "
                     "kink, where the gradient is not defined: checked on the other examples")
        x = net.from_columns(net.to_columns(x)[:, keep])
        y = net.from_columns(net.to_columns(y)[:, keep])
        f = net.forward(x)
    elif at_kink.all():
        undefined = _depends_on_kinks(net, f, kinks)
        count = sum(int(u.sum()) for u in undefined.values())
        notes.append(f"every example puts a ReLU unit at its kink: the {count} entries whose gradient "
                     "passes through one are not defined there and were not compared")
    m = net.batch_size(x)

    extra = {}
    if impl is None:
        # a wrong variant may overflow (code (2) divides by a (1 - a)): its NaN is a mismatch
        try:
            with np.errstate(all="ignore") if variant != "correct" else nullcontext():
                nabla_w, nabla_b = VARIANTS[variant](net, x, y)
        except ValueError as e:  # a shape-changing bug on layers where its shapes cannot fit
            raise ValueError(f"variant '{variant}' cannot run on layers {list(net.layers)}: "
                             f"{VARIANTS[variant].summary} ({str(e).splitlines()[0]})") from None
        analytic = {f"W{l}": g for l, g in enumerate(nabla_w, start=1)}
        analytic.update({f"b{l}": g for l, g in enumerate(nabla_b or [], start=1)})
        checked = f"variant '{variant}'"
    else:
        analytic, extra, impl_notes = impl_gradient(net, x, y, impl, impl_kind)
        notes += impl_notes
        name = getattr(impl, "__gradcheck_name__", getattr(impl, "__name__", "impl"))
        checked = f"{name} ({impl_kind})"
    for name in net.names:
        if analytic[name].shape != net.shapes[name]:
            raise ValueError(f"variant '{variant}' gives {name} the shape {analytic[name].shape}; "
                             f"the network needs {net.shapes[name]}")

    if mode == "full":
        numeric = numeric_gradient(net, x, y, method, progress=progress, forward=f)
        if undefined is not None:
            numeric = replace(numeric, skipped={n: numeric.skipped[n] | undefined[n]
                                                for n in net.names})
        checks = compare_full(net, analytic, numeric, m, extra)
        passed = all(p.passed for p in checks)
        diagnosis = "" if passed else diagnose(net, x, y, analytic, numeric, checks, m, extra)
        skipped = sum(p.skipped for p in checks)
        if skipped and undefined is None:
            notes.append(f"{skipped} entries skipped: their finite-difference steps carry a ReLU unit "
                         "across its kink (the complex step never does)")
        evaluations = numeric.evaluations
    else:
        d = directional(net, x, y, method, seed=seed, exclude=undefined, forward=f)
        checks = compare_directional(net, analytic, d, m)
        passed = all(p.passed for p in checks)
        failing = [p.name for p in checks if not p.passed]
        diagnosis = "" if passed else (
            f"{', '.join(failing)} disagree with the numeric derivative along a random direction; "
            "run the full check for the entries and a diagnosis.")
        evaluations = d.evaluations
    return Report(passed=passed, max_relative_error=max(p.max_relative_error for p in checks),
                  parameters=checks, checked=checked, method=method, mode=mode,
                  evaluations=evaluations, network=describe_network(net, m), diagnosis=diagnosis,
                  notes=tuple(notes))
