"""The comparison of an analytic gradient with the numeric one, and the diagnosis of a failure.

Per entry the test is |analytic - numeric| <= tolerance, with the tolerance built from the error
model, not a fixed rtol: the numeric scheme's own bound, plus the float64 rounding of the backward
pass under test, gamma F (F is the size of the terms the entry is summed from; see
``checks.numeric``), plus, for a gradient recovered from a step, the rounding of that recovery.
"""

from __future__ import annotations

import numpy as np

from backprop import VARIANTS

from .numeric import gamma
from .report import Entry, ParameterCheck

__all__ = ["compare_full", "compare_directional", "diagnose"]

WORST = 5


def _tolerances(net, numeric, m, extra):
    return {name: numeric.error_bound[name] + gamma(net, m) * numeric.scale[name]
            + extra.get(name, 0.0) for name in net.names}


def _relative(err, numeric, scale):
    """err / max(|numeric|, F) per entry; an array whose terms are all zero uses its own size."""
    denom = np.maximum(np.abs(numeric), scale)
    fallback = max(float(np.max(denom, initial=0.0)), np.finfo(float).tiny)
    return err / np.where(denom > 0, denom, fallback)


def compare_full(net, analytic, numeric, m, extra=None):
    """One ``ParameterCheck`` per array: every entry against its tolerance."""
    extra = extra or {}
    tol = _tolerances(net, numeric, m, extra)
    checks = []
    for name in net.names:
        an, num, skip = analytic[name], numeric.gradient[name], numeric.skipped[name]
        err = np.abs(an - num)
        bad = ~(err <= tol[name]) & ~skip                     # NaN counts as a mismatch
        rel = np.where(skip, 0.0, _relative(err, num, numeric.scale[name]))
        rel = np.where(np.isnan(rel), np.inf, rel)
        ranking = np.where(bad, np.inf, 0) + np.where(skip, -np.inf, rel)
        order = np.argsort(-ranking, axis=None, kind="stable")[:WORST]
        worst = tuple(Entry(tuple(int(i) for i in np.unravel_index(k, an.shape)), float(an.flat[k]),
                            float(num.flat[k]), float(tol[name].flat[k])) for k in order)
        l = int(name[1:])
        checks.append(ParameterCheck(
            name=name, connects=f"layer {l - 1} -> layer {l}" if name[0] == "W" else f"bias of layer {l}",
            shape=an.shape, passed=not bad.any(), max_relative_error=float(np.max(rel, initial=0.0)),
            checked=int(an.size - skip.sum()), mismatches=int(bad.sum()), skipped=int(skip.sum()),
            worst=worst))
    return tuple(checks)


def compare_directional(net, analytic, directional, m):
    """One ``ParameterCheck`` per array: <analytic, V> against the numeric d/dt C(theta + t V)."""
    checks = []
    for name in net.names:
        an = float(np.sum(analytic[name] * directional.directions[name]))
        num = directional.estimate[name]
        tol = directional.error_bound[name] + gamma(net, m) * directional.scale[name]
        err = abs(an - num)
        denom = max(abs(num), directional.scale[name]) or 1.0
        l = int(name[1:])
        checks.append(ParameterCheck(
            name=name, connects=f"layer {l - 1} -> layer {l}" if name[0] == "W" else f"bias of layer {l}",
            shape=analytic[name].shape, passed=bool(err <= tol),
            max_relative_error=err / denom if np.isfinite(err) else float("inf"),
            checked=1, mismatches=int(not err <= tol), worst=(Entry((), an, num, tol),)))
    return tuple(checks)


# -- diagnosis -----------------------------------------------------------------------------------
def _within(net, a, b, tol):
    """a equals b within tol everywhere (the same NaN or inf counts as equal)."""
    with np.errstate(invalid="ignore"):
        return all(np.all((np.abs(a[n] - b[n]) <= tol[n]) | (np.isnan(a[n]) & np.isnan(b[n]))
                          | (a[n] == b[n])) for n in net.names)


def _factor(net, analytic, numeric, tol):
    """c such that analytic = c numeric in every array, or None."""
    num = np.concatenate([numeric[n].ravel() for n in net.names])
    an = np.concatenate([analytic[n].ravel() for n in net.names])
    norm = num @ num
    if not norm > 0 or not np.all(np.isfinite(an)):
        return None
    c = (an @ num) / norm
    scaled = {n: c * numeric[n] for n in net.names}
    tol_c = {n: max(1.0, abs(c)) * tol[n] + 1e-9 * abs(c) * np.abs(numeric[n]) for n in net.names}
    return c if _within(net, analytic, scaled, tol_c) else None


def _name_factor(c, m):
    candidates = [(2.0, "exactly 2 times the true gradient: the output error of C = sum (a - y)^2, "
                        "2 (a - y), used with the loss 1/2 sum (a - y)^2 (drop the 2, or use the "
                        "loss squared_error)"),
                  (0.5, "exactly half the true gradient: the output error a - y used with the loss "
                        "sum (a - y)^2, whose derivative is 2 (a - y)"),
                  (-1.0, "the true gradient with its sign flipped: the code returns the ascent "
                         "direction (y - a where a - y is meant); a step with += would then be right, "
                         "a gradient is not")]
    if m > 1:
        candidates += [(1.0 / m, f"exactly 1/m = 1/{m} of the true gradient: an average over the batch "
                                 "where C is a sum over the batch (divide by m in the update step, "
                                 "as Nielsen's eta/m does, not in the gradient)"),
                       (float(m), f"exactly m = {m} times the true gradient")]
    for value, text in candidates:
        if abs(c - value) <= 1e-6 * abs(value):
            return text
    return f"{c:.6g} times the true gradient: a constant factor in BP1 or in the update"


def _per_example(net, numeric, f, k):
    """The gradient of example k's own loss C_k, from the numeric dC_x/dz^l (complex step only)."""
    out = {}
    for l in range(1, net.L + 1):
        d = numeric.unit_derivatives[l][:, k:k + 1]
        out[f"W{l}"] = net.from_columns(d @ f.a[l - 1][:, k:k + 1].T)
        if net.bias:
            out[f"b{l}"] = net.from_columns(d)
    return out


def diagnose(net, x, y, analytic, numeric, checks, m, extra=None):
    """What is wrong, in plain words, from the pattern of the mismatches."""
    extra = extra or {}
    tol = _tolerances(net, numeric, m, extra)
    failing = [p.name for p in checks if not p.passed]
    passing = [p.name for p in checks if p.passed]
    if not failing:
        return ""
    sentences = []
    c = _factor(net, analytic, numeric.gradient, tol)
    if c is not None and abs(c - 1) > 1e-9 and abs(c) > 1e-9:
        sentences.append(f"Every array is {_name_factor(c, m)}.")
    elif numeric.unit_derivatives is not None and m > 1:
        f = net.forward(x)
        for k in range(m):
            single = _per_example(net, numeric, f, k)
            if _within(net, analytic, single, tol):
                which = "the last" if k == m - 1 else f"example {k}"
                sentences.append(f"Every array equals the gradient of {which} of the batch alone: the "
                                 "per-example loop overwrites nabla_w and nabla_b instead of adding to "
                                 "them (nabla += delta_nabla).")
                break
            if failing and all(n.startswith("b") for n in failing) and all(
                    np.all(np.abs(analytic[n] - single[n]) <= tol[n]) for n in failing):
                sentences.append(f"The bias gradients hold example {k}'s delta alone: BP3 sums "
                                 "delta^l over the batch (delta.sum(axis=1, keepdims=True)).")
                break
    if not sentences:
        structural = _structure(net, failing, passing)
        if structural:
            sentences.append(structural)
    match = _catalogue_match(net, x, y, analytic, tol)
    if match:
        sentences.append(match)
    elif sentences and "BP2" in sentences[-1]:
        sentences.append("The classic case is code (2), delta = W.T @ delta, which drops sigma'.")
    if not sentences:
        sentences.append(f"{', '.join(failing)} differ from the numeric gradient in no pattern the "
                         "diagnosis knows; compare the worst entries above.")
    return " ".join(sentences)


def _structure(net, failing, passing):
    L = net.L
    last = {f"W{L}", f"b{L}"} & set(net.names)
    earlier = [n for n in net.names if n not in last]
    if last <= set(passing) and set(failing) <= set(earlier):
        return (f"The output layer ({', '.join(sorted(last))}) is right but earlier layers are wrong "
                f"({', '.join(failing)}): the error is in the delta recurrence, BP2: delta^l = "
                "((W^{l+1})^T delta^{l+1}) * sigma'(z^l).")
    if set(failing) == set(net.names):
        return ("Every array is wrong, the output layer's too: look at BP1, the output error "
                "delta^L = dC/dz^L (a - y for cross-entropy with its softmax or sigmoid output, "
                "(a - y) * sigma'(z^L) for 1/2 sum (a - y)^2).")
    if all(n.startswith("b") for n in failing):
        return (f"Only the bias gradients are wrong ({', '.join(failing)}): BP3, dC/db^l is delta^l "
                "summed over the batch.")
    if len(failing) == 1:
        return f"Only {failing[0]} is wrong; every other array matches."
    return ""


def _catalogue_match(net, x, y, analytic, tol):
    for variant in VARIANTS.values():
        if variant.name == "correct":
            continue
        try:
            with np.errstate(all="ignore"):
                nabla_w, nabla_b = variant(net, x, y)
        except Exception:
            continue
        grads = {f"W{l}": g for l, g in enumerate(nabla_w, start=1)}
        grads.update({f"b{l}": g for l, g in enumerate(nabla_b or [], start=1)})
        if all(grads[n].shape == analytic[n].shape for n in net.names) and _within(
                net, analytic, grads, tol):
            return (f"It matches the catalogue's `{variant.name}` exactly (the line "
                    f"`{variant.line}`): {variant.summary}")
    return ""
