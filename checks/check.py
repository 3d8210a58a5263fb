"""``gradcheck``: the analytic gradient against the numeric one, for a Network and a batch."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..backprop import VARIANTS, BackwardPass, Network
from ..backprop.registry import lookup

from .compare import compare_arrays, compare_directional
from .diagnose import Evidence, diagnose
from .heap import keep_freed_memory
from .differentiate import scheme
from .kinks import find_kinks
from .numeric import base_point, directional, numeric_gradient, slopes, unit_derivatives
from .adapt import ImplSpec, impl_gradient
from .plugin import IMPL_KINDS, AnalyticGradient
from .report import Report
from .sandbox import Isolated
from .rounding import FLOAT64, gradient_error

__all__ = ["gradcheck", "MODES", "describe_network"]

MODES = {"full": "every entry", "directional": "one random direction per array"}


def describe_network(net, m):
    names = [s.name for s in net.sigmas]
    acts = names[0] if len(set(names)) == 1 else "/".join(names)
    text = (f"{list(net.layers)} {acts}, {net.loss.name}, {'biases' if net.bias else 'no biases'}, "
            f"{net.layout} layout, batch {m}")
    if net.reduction != "sum":
        text += f", reduction {net.reduction}"
    if net.l2:
        text += f", l2 {net.l2:g}"
    return text


def _validate_batch(net, x, y):
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
    return x, y


def _validate(net, x, y, variant, impl, impl_kind, method, mode):
    x, y = _validate_batch(net, x, y)
    if impl is None:
        lookup(VARIANTS, variant, "variant", kind=BackwardPass)
    elif not callable(impl):
        raise TypeError(f"`impl` must be a function; got {impl!r}")
    if impl_kind is not None:
        lookup({k: k for k in IMPL_KINDS}, impl_kind, "impl_kind")
    scheme(method)
    lookup(MODES, mode, "mode")
    return x, y


def _forward_with_finite_loss(net, x, y):
    """The forward pass, refusing a batch on which the loss is not finite."""
    with np.errstate(all="ignore"):
        f = net.forward(x)
        cost = net.loss.per_example(f.z[-1], f.a[-1], net.to_columns(y), net.sigmas[-1]).sum()
    if not np.isfinite(cost):
        raise ValueError(f"the loss {net.loss.name} is {cost} on this batch (an output at 0 or 1 "
                         "exactly?): its gradient is not defined there")
    return f


def variant_gradient(net, x, y, variant):
    """A catalogue variant's gradient as an ``AnalyticGradient``."""
    v = lookup(VARIANTS, variant, "variant", kind=BackwardPass)
    try:
        # a wrong variant may overflow (code (2) divides by a (1 - a)): its NaN is a mismatch
        with np.errstate(all="ignore") if v.name != "correct" else np.errstate(under="ignore"):
            nabla_w, nabla_b = v(net, x, y)
    except ValueError as e:  # a shape-changing bug on layers where its shapes cannot fit
        raise ValueError(f"variant '{v.name}' cannot run on layers {list(net.layers)}: "
                         f"{v.summary} ({str(e).splitlines()[0]})") from None
    grads = net.named(nabla_w, nabla_b)
    for p in net.params:
        if grads[p.name].shape != p.shape:
            raise ValueError(f"variant '{v.name}' gives {p.name} the shape {grads[p.name].shape}; "
                             f"the network needs {p.shape}")
    return AnalyticGradient(grads, target=f"variant '{v.name}'")


def _select(net, x, keep):
    return net.from_columns(net.to_columns(x)[:, keep])


def _catalogue(net, x, y):
    """The catalogue's wrong variants that really differ from the correct pass on this network
    (code (2) on one weight layer is the correct pass, and may never be named)."""
    def candidates():
        right = net.named(*VARIANTS["correct"](net, x, y))
        for v in VARIANTS.values():
            if v.name == "correct":
                continue
            try:
                with np.errstate(all="ignore"):
                    grads = net.named(*v(net, x, y))
            except Exception:
                continue
            with np.errstate(invalid="ignore"):
                same = all(np.shape(grads[n]) == np.shape(right[n]) and np.allclose(
                    grads[n], right[n], rtol=1e-12, atol=0) for n in net.names)
            if not same:
                yield v, grads
    return candidates


def _per_example(net, base, D=None):
    """k -> the gradient of example k's own loss term C_k (unreduced), by the complex step.
    ``D``: the unit derivatives D^l of a complex-step numeric gradient on this base, if known."""
    cache = {} if D is None else {"D": D}

    def gradient(k):
        if not cache:
            s = slopes(net, base.f)
            cache["D"] = [None] + [unit_derivatives(net, base, l, s) for l in range(1, net.L + 1)]
        D, f = cache["D"], base.f
        out = {}
        for l in range(1, net.L + 1):
            d = D[l][:, k:k + 1]
            out[f"W{l}"] = net.from_columns(d @ f.a[l - 1][:, k:k + 1].T)
            if net.bias:
                out[f"b{l}"] = net.from_columns(d)
        return out
    return gradient


def _update_first(net, base, analytic):
    """() -> the gradient step code gives when, within each call (one example, or the batch), it
    updates W^l with its gradient before computing delta^{l-1} from it; None for a gradient."""
    if analytic.step is None or net.L < 2:
        return None

    def candidate():
        lr, f, m = analytic.step["lr"], base.f, base.m
        W, _ = net.columns()
        calls = [[k] for k in range(m)] if analytic.step["per_example"] else [list(range(m))]
        total = None
        for cols in calls:
            r = net.scale(len(cols))
            grads = {}
            delta = net.loss.delta(f.z[-1][:, cols], f.a[-1][:, cols], base.y[:, cols],
                                   net.sigmas[-1])
            for l in range(net.L, 0, -1):
                gw = r * (delta @ f.a[l - 1][:, cols].T) + (2 * net.l2 * W[l] if net.l2 else 0)
                grads[f"W{l}"] = net.from_columns(gw)
                if net.bias:
                    grads[f"b{l}"] = net.from_columns(r * delta.sum(axis=1, keepdims=True))
                if l > 1:  # the slip: W^l already stepped when delta^{l-1} is computed
                    delta = ((W[l] - lr * gw).T @ delta) * net.sigmas[l - 2].prime(
                        f.z[l - 1][:, cols])
            total = grads if total is None else {n: total[n] + grads[n] for n in total}
        return total
    return candidate


def precision_notes(params, numeric, tolerance, precision):
    """What a check at a precision narrower than float64 can still miss."""
    if precision is FLOAT64:
        return []
    hides = []
    blind = []
    for p in params:
        top = float(np.max(np.abs(numeric[p.name]), initial=0.0))
        tol = float(np.max(tolerance[p.name], initial=0.0))
        if top > 0:
            hides.append(tol / top)
            if tol >= top:
                blind.append(p.name)
    notes = [f"the gradient was computed in {precision} and judged at {precision}'s rounding "
             "(a worst-case bound): an error below about "
             f"{max(hides, default=0):.0e} of an array's largest entry could still hide"]
    if blind:
        notes.append(f"at {precision} the rounding bound reaches the gradient itself in "
                     f"{', '.join(blind)}: those arrays cannot be judged at this precision")
    return notes


def gradcheck(net, x, y, variant="correct", impl=None, impl_kind=None, impl_spec=None,
              method="complex_step", mode="full", seed=0, progress=None):
    """Check a backward pass of ``net`` on the batch (x, y) against the numeric gradient.

    variant: a name from ``backprop.VARIANTS`` (used when ``impl`` is None).
    impl: the user's code: ``impl(weights, biases, x, y) -> (nabla_w, nabla_b)``,
      ``impl(weights, biases, x, y, lr)`` taking one step, or any callable of the kinds
      ``checks.adapt`` meets as written (a method of the user's own object, a function of a
      parameter dict, one example per call, ...).
    impl_kind: "gradient" or "step"; None lets the call show which it is.
    impl_spec: an ``[impl]`` table (a dict) or ``checks.adapt.ImplSpec``, for what the code
      cannot tell by itself.
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
    keep_freed_memory()
    if impl_spec is not None and not isinstance(impl_spec, ImplSpec):
        impl_spec = ImplSpec.from_table(impl_spec)

    def analytic_for(x, y):
        if impl is None:
            return variant_gradient(net, x, y, variant)
        if isinstance(impl, Isolated):  # the command: the code runs in a child process
            return impl.gradient(net, x, y, impl_kind, impl_spec)
        return impl_gradient(net, x, y, impl, impl_kind, impl_spec)

    x, y, f, analytic, undefined, notes = _gradient_under_test(net, x, y, analytic_for)
    base = base_point(net, x, y, forward=f)
    float64_error, analytic_error = _error_bounds(net, base, analytic)
    if mode == "directional":
        d = directional(net, x, y, method, seed=seed, exclude=undefined, base=base,
                        bounds=analytic_error)
        checks = compare_directional(net.params, analytic.gradient, d)
        failing = [p.name for p in checks if not p.passed]
        diagnosis = "" if not failing else (
            f"{', '.join(failing)} disagree with the numeric derivative along a random direction; "
            "run the full check for the entries and a diagnosis.")
        return _report(net, base.m, analytic, checks, method, mode, d.evaluations, diagnosis, (),
                       notes)
    numeric = numeric_gradient(net, x, y, method, progress=progress, base=base,
                               structural=float64_error)
    if undefined is not None:
        numeric = replace(numeric, skipped={n: numeric.skipped[n] | undefined[n] for n in net.names})
    return _full_report(net, x, y, base, analytic, analytic_error, numeric, method, notes)


def _gradient_under_test(net, x, y, analytic_for):
    """(x, y, forward, gradient, undefined entries, notes): examples that put a ReLU unit at its
    kink, for the precision the gradient came back in, are dropped when others remain (and the
    gradient taken again without them); when every example does, the entries through such a
    unit are left out."""
    f = _forward_with_finite_loss(net, x, y)
    analytic = analytic_for(x, y)
    kinks = find_kinks(net, f, analytic.precision, analytic.inputs_rounded)
    notes, undefined = [], None
    if kinks.some:
        keep = ~kinks.examples
        notes.append(f"example(s) {', '.join(map(str, np.flatnonzero(kinks.examples)))} put a ReLU "
                     "unit at its kink, where the gradient is not defined: checked on the others")
        x, y = _select(net, x, keep), _select(net, y, keep)
        f = net.forward(x)
        analytic = analytic_for(x, y)
    elif kinks.every:
        undefined = kinks.undefined(net, f)
        count = sum(int(u.sum()) for u in undefined.values())
        notes.append(f"every example puts a ReLU unit at its kink: the {count} entries whose "
                     "gradient passes through one are not defined there and were not compared")
    return x, y, f, analytic, undefined, notes + list(analytic.notes)


def _error_bounds(net, base, analytic):
    """(the numeric side's float64 rounding bound, the code's: for its precision, plus a step's
    recovery)."""
    float64_error = gradient_error(net, base.f, base.y, base.D_L, FLOAT64, B=base.B,
                                   absW=base.absW)
    if analytic.precision is FLOAT64 and not analytic.inputs_rounded:
        analytic_error = float64_error  # the same bound as the numeric side's own rounding
    else:
        analytic_error = gradient_error(net, base.f, base.y, base.D_L, analytic.precision,
                                        inputs_rounded=analytic.inputs_rounded, B=base.B,
                                        absW=base.absW)
    if analytic.extra:
        analytic_error = {n: e + analytic.extra.get(n, 0.0) for n, e in analytic_error.items()}
    return float64_error, analytic_error


def _full_report(net, x, y, base, analytic, analytic_error, numeric, method, notes):
    """Every entry against its tolerance, the notes, and the diagnosis where something failed."""
    tolerance = {n: analytic_error[n] + numeric.error_bound[n] for n in net.names}
    checks = compare_arrays(net.params, analytic.gradient, numeric.gradient, tolerance,
                            numeric.skipped)
    skipped = sum(p.skipped for p in checks)
    if skipped and not any("kink: the" in n for n in notes):
        notes.append(f"{skipped} entries skipped: their finite-difference steps carry a unit across "
                     "a kink (the complex step never does)")
    notes += precision_notes(net.params, numeric.gradient, tolerance, analytic.precision)
    zero = [p.name for p in net.params if not np.any(numeric.gradient[p.name])]
    if zero:
        notes.append(f"the true gradient of {', '.join(zero)} is zero on this batch (inactive "
                     "units?), so the check says little about them: try another seed or batch")
    diagnosis, findings = "", ()
    if not all(p.passed for p in checks):
        diagnosis, findings = diagnose(Evidence(
            net.params, analytic.gradient, numeric.gradient, tolerance, numeric.skipped, net=net,
            m=base.m, per_example=_per_example(net, base, numeric.unit_derivatives), catalogue=_catalogue(net, x, y),
            update_first=_update_first(net, base, analytic)))
    arrays = {n: (np.asarray(analytic.gradient[n], dtype=float), numeric.gradient[n],
                  tolerance[n]) for n in net.names}
    return _report(net, base.m, analytic, checks, method, "full", numeric.evaluations, diagnosis,
                   findings, notes, arrays)


def _report(net, m, analytic, checks, method, mode, evaluations, diagnosis, findings, notes,
            arrays=None):
    return Report(passed=all(p.passed for p in checks),
                  max_relative_error=max(p.max_relative_error for p in checks),
                  parameters=checks, target=analytic.target, method=method, mode=mode,
                  evaluations=evaluations, network=describe_network(net, m), diagnosis=diagnosis,
                  notes=tuple(notes), precision=analytic.precision.name, findings=findings,
                  arrays=arrays)
