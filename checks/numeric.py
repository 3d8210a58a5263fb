"""The numerical gradient of a network's loss.  It never calls a backward pass.

Structure, not approximation, makes it fast.  A perturbation of W^l_ij (or b^l_i) moves only
z^l_i, by a^{l-1}_j (or 1) times the step, so the layers below l are never recomputed and layer
l+1 takes a rank-one update.  Two ways to use that:

- ``complex_step`` (the default): for each unit i of each layer l, one complex evaluation of the
  layers above with z^l_i + i h, for every example at once; the per-example losses C_x give
  D^l_ix = Im C_x / h = dC_x / dz^l_ix.  The imaginary part is exactly linear in the step (no
  subtraction, h = 1e-20), so the complex step for W^l_ij, whose step moves z^l_ix by
  h a^{l-1}_jx, is sum_x D^l_ix a^{l-1}_jx to rounding: every entry's complex-step derivative
  from n_1 + ... + n_L evaluations instead of one per parameter.  It never crosses a ReLU kink.
- ``forward``, ``central``, ``richardson``: finite differences are not linear in the step, so
  every entry is perturbed on its own (still only the layers above it are recomputed), with the
  step h = eps^k max(1, |w|) scaled to each parameter.  An entry whose steps carry a ReLU unit
  across its kink is marked as skipped rather than compared.

The directional mode checks one random direction V per parameter array: d/dt C(theta + t V).

Rounding.  Every entry carries the size F of the terms it is summed from: with
K^L = |D^L| + (|a^L| + |y|) s^L and K^l = s^l * (|W^{l+1}|^T K^{l+1}), where s^l is the size of
the terms sigma'(z^l) is computed from, F(W^l) = K^l |a^{l-1}|^T and F(b^l) = sum_x K^l.  A float64
gradient computed any reasonable way is then accurate to about (n_0 + ... + n_L + m) eps F: this
is the rounding floor of the comparison (``gamma``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .differentiate import COMPLEX_STEP, EPS, TINY, scheme

__all__ = ["NumericGradient", "Directional", "numeric_gradient", "directional", "gamma", "METHODS"]

METHODS = ("complex_step", "central", "richardson", "forward")
KINKED = ("relu", "leaky_relu")
#: complex elements a chunk of perturbations may hold at once (about 64 MiB)
CHUNK_ELEMENTS = 2**22


def gamma(net, m):
    """Relative rounding of one side of the comparison, in units of F (see the module docstring)."""
    return (sum(net.layers) + m) * EPS


@dataclass(frozen=True)
class NumericGradient:
    """The numeric gradient, per parameter array in the network's layout."""

    gradient: dict            # name -> estimate
    error_bound: dict         # name -> the scheme's bound per entry (rounding included)
    scale: dict               # name -> F, the size of the terms each entry is summed from
    skipped: dict             # name -> bool mask of entries not compared (ReLU kink crossed)
    evaluations: int          # forward evaluations of the layers above a perturbed unit or entry
    method: str
    unit_derivatives: list = field(default=None, repr=False)  # D^l = dC_x/dz^l_x (complex step)


@dataclass(frozen=True)
class Directional:
    """d/dt C(theta + t V_P) for one random unit direction V_P per parameter array P."""

    directions: dict          # name -> V_P (layout shape, unit Frobenius norm)
    estimate: dict            # name -> numeric directional derivative
    error_bound: dict         # name -> its bound
    scale: dict               # name -> sum F |V_P|
    evaluations: int
    method: str


def _chunk(n_items, per_item):
    return max(1, min(n_items, CHUNK_ELEMENTS // max(1, per_item)))


def _columns_y(net, y):
    return net.to_columns(np.asarray(y, dtype=float))


def _shifted_losses(net, f, W, b, y, l, units, dz):
    """Per-example losses (P, m) with z^l[units[p], :] shifted by dz[p], and whether each shift
    carried a ReLU unit across its kink (P,).  Layers below l are reused from ``f``.

    A purely imaginary shift is the complex step.  Its real parts are pinned to the base pass at
    every layer: Re f(z + i h) = f(z) - h^2 f''(z) / 2 would otherwise drift by O(h^2), which can
    carry a unit lying closer than that to a ReLU kink across it.  Pinned, every branch is taken
    on exactly the z the backward pass sees, and only the first-order term Im = h f' travels.
    """
    L, P = net.L, len(units)
    rows = np.arange(P)
    pin = np.iscomplexobj(dz)
    crossed = np.zeros(P, dtype=bool)
    if l == L:
        Z = np.repeat(f.z[L][None], P, axis=0).astype(dz.dtype)
        Z[rows, units] += dz
        first = L
    else:
        zu = f.z[l][units] + dz
        if net.sigmas[l - 1].name in KINKED:
            crossed |= ((zu.real > 0) != (f.z[l][units] > 0)).any(axis=-1)
        au = net.sigmas[l - 1](zu)
        dA = 1j * au.imag if pin else au - f.a[l][units]
        # a^l moved in one row only: z^{l+1} = z^{l+1} + W^{l+1}[:, i] (a'^l_i - a^l_i)
        Z = f.z[l + 1] + W[l + 1][:, units].T[:, :, None] * dA[:, None, :]
        first = l + 1
    A = None  # a^{k-1}, set by the first pass of the loop
    for k in range(first, L + 1):
        if k > first:
            Z = W[k] @ A + b[k]
            if pin:
                Z = f.z[k] + 1j * Z.imag
        if net.sigmas[k - 1].name in KINKED:
            crossed |= ((Z.real > 0) != (f.z[k] > 0)).any(axis=(-2, -1))
        A = net.sigmas[k - 1](Z)
    return net.loss.per_example(Z, A, y, net.sigmas[-1]), crossed


def unit_derivatives(net, f, y, l, h=COMPLEX_STEP):
    """D^l: dC_x / dz^l_ix for every unit i of layer l and example x, by the complex step."""
    W, b = net.columns()
    n, m = f.z[l].shape
    D = np.empty((n, m))
    size = _chunk(n, max(net.layers[l:]) * m)
    for start in range(0, n, size):
        units = np.arange(start, min(n, start + size))
        dz = np.full((len(units), m), 1j * h)
        C, _ = _shifted_losses(net, f, W, b, y, l, units, dz)
        D[units] = C.imag / h
    return D


def term_scales(net, f, top):
    """K^l for l = 1 ... L (index 0 unused) from K^L = top: K^l = s^l * (|W^{l+1}|^T K^{l+1})."""
    W, _ = net.columns()
    K = [None] * (net.L + 1)
    K[net.L] = top
    for l in range(net.L - 1, 0, -1):
        K[l] = net.sigmas[l - 1].prime_scale(f.z[l], f.a[l]) * (np.abs(W[l + 1]).T @ K[l + 1])
    return K


def _entry_scales(net, f, K):
    F = {}
    for l in range(1, net.L + 1):
        F[f"W{l}"] = net.from_columns(K[l] @ np.abs(f.a[l - 1]).T)
        if net.bias:
            F[f"b{l}"] = net.from_columns(K[l].sum(axis=1, keepdims=True))
    return F


def error_scales(net, f, y, D_L):
    """(F, F1) per array: F sizes the rounding (gamma F), F1 the complex step's absolute floor.

    The complex step has a truncation term of order h^2 in each output, which reaches an entry
    through the same |W| products as the rounding; and it loses Im C below the smallest normal
    number, an absolute error of about tiny / h in each dC_x/dz^l_ix whatever the weights.
    F1 = h^2 F(K^L = 1) + (tiny / h) (sum_x |a^{l-1}_jx|, or m for a bias) covers both.
    """
    s_L = net.sigmas[-1].prime_scale(f.z[-1], f.a[-1])
    F = _entry_scales(net, f, term_scales(net, f, np.abs(D_L) + (np.abs(f.a[-1]) + np.abs(y)) * s_L))
    truncation = _entry_scales(net, f, term_scales(net, f, np.ones_like(D_L)))
    underflow = _entry_scales(net, f, [None] + [np.ones_like(z) for z in f.z[1:]])
    F1 = {name: 16 * COMPLEX_STEP**2 * truncation[name] + (len(net.layers) + 4) * TINY / COMPLEX_STEP
          * underflow[name] for name in F}
    return F, F1


def numeric_gradient(net, x, y, method="complex_step", progress=None, forward=None):
    """The numerical gradient of C(theta) over the batch (x, y) with its error bounds.

    ``forward``: ``net.forward(x)`` when the caller already has it (it is only reused, never
    trusted for anything but the base point).
    """
    s = scheme(method)
    f = net.forward(x) if forward is None else forward
    y = _columns_y(net, y)
    m = f.a[0].shape[1]
    D_L = unit_derivatives(net, f, y, net.L)
    F, F1 = error_scales(net, f, y, D_L)
    g = gamma(net, m)
    total = sum(net.layers[1:])
    if s.complex:
        D = [None] * net.L + [D_L]
        done = net.layers[-1]
        for l in range(net.L - 1, 0, -1):
            D[l] = unit_derivatives(net, f, y, l)
            done += net.layers[l]
            if progress:
                progress(done, total)
        grad, skipped = {}, {}
        for l in range(1, net.L + 1):
            grad[f"W{l}"] = net.from_columns(D[l] @ f.a[l - 1].T)
            if net.bias:
                grad[f"b{l}"] = net.from_columns(D[l].sum(axis=1, keepdims=True))
        bound = {name: g * F[name] + F1[name] for name in grad}
        skipped = {name: np.zeros(v.shape, dtype=bool) for name, v in grad.items()}
        return NumericGradient(grad, bound, F, skipped, total, s.name, D)
    # C is computed from terms of size |C_x| and, through a^L, dC/dz^L times |z^L|: its rounding
    K_L = np.abs(D_L) + (np.abs(f.a[-1]) + np.abs(y))
    magnitude = (net.layers[-1] + 1) * (np.abs(net.loss.per_example(
        f.z[-1], f.a[-1], y, net.sigmas[-1])).sum() + (K_L * (np.abs(f.z[-1]) + 1)).sum())
    return _finite_differences(net, f, y, s, F, g, magnitude, progress)


def _finite_differences(net, f, y, s, F, g, magnitude, progress):
    W, b = net.columns()
    m = f.a[0].shape[1]
    base = net.loss.per_example(f.z[-1], f.a[-1], y, net.sigmas[-1])
    grad, bound, skipped = {}, {}, {}
    evaluations = entries_done = 0
    n_params = net.theta.size
    for l in range(1, net.L + 1):
        for kind, value in (("W", W[l]), ("b", b[l] if net.bias else None)):
            if value is None:
                continue
            units, sources = np.divmod(np.arange(value.size), value.shape[1])
            h = s.step(value.ravel())
            est = np.empty(value.size)
            err = np.empty(value.size)
            skip = np.zeros(value.size, dtype=bool)
            size = _chunk(value.size, max(net.layers[l:]) * m)
            for start in range(0, value.size, size):
                sl = slice(start, min(value.size, start + size))
                moved = f.a[l - 1][sources[sl]] if kind == "W" else np.ones((sl.stop - start, m))
                values = []
                for c in s.offsets:
                    if c == 0:
                        values.append(np.full(sl.stop - start, base.sum()))
                        continue
                    C, crossed = _shifted_losses(net, f, W, b, y, l, units[sl],
                                                 c * h[sl, None] * moved)
                    values.append(C.sum(axis=-1))
                    skip[sl] |= crossed
                # rounding is eps times the size of the values differenced, not only of C(theta):
                # at a minimum of C, C(theta +- h) can be far larger than C(theta)
                sizes = np.maximum(magnitude, (net.layers[-1] + 1) * np.max(np.abs(values), axis=0))
                est[sl], err[sl] = s.combine(values, h[sl], sizes)
                evaluations += (sl.stop - start) * sum(1 for c in s.offsets if c != 0)
                entries_done += sl.stop - start
                if progress:
                    progress(entries_done, n_params)
            name = f"{kind}{l}"
            grad[name] = net.from_columns(est.reshape(value.shape))
            bound[name] = net.from_columns(err.reshape(value.shape)) + g * F[name]
            skipped[name] = net.from_columns(skip.reshape(value.shape))
    return NumericGradient(grad, bound, F, skipped, evaluations, s.name)


def directional(net, x, y, method="complex_step", seed=0, exclude=None, forward=None):
    """The directional derivative of C along one random unit direction per parameter array.

    ``exclude``: {name: bool mask} of entries the directions must not move (gradients undefined
    there, at a ReLU kink); ``forward``: ``net.forward(x)`` if the caller has it.
    """
    s = scheme(method)
    rng = np.random.default_rng(seed)
    f = net.forward(x) if forward is None else forward
    y = _columns_y(net, y)
    m = f.a[0].shape[1]
    F, F1 = error_scales(net, f, y, unit_derivatives(net, f, y, net.L))
    W, b = net.columns()
    directions, estimate, bound, scale = {}, {}, {}, {}
    evaluations = 0
    for name in net.names:
        l = int(name[1:])
        V = rng.standard_normal(net.shapes[name])
        if exclude is not None:
            V[exclude[name]] = 0.0
        norm = np.linalg.norm(V)
        V = V / norm if norm > 0 else V
        Vc = net.from_columns(V)  # the columns view of a layout array is its from_columns
        theta = (W if name[0] == "W" else b)[l]
        h = float(s.step(np.max(np.abs(theta)))) if not s.complex else COMPLEX_STEP
        values = []
        for c in s.offsets:
            if c == 0:
                values.append(np.float64(net.loss.value(f.z[-1], f.a[-1], y, net.sigmas[-1])))
                continue
            dz = c * h * (Vc @ f.a[l - 1] if name[0] == "W" else np.broadcast_to(Vc, f.z[l].shape))
            Z = f.z[l] + dz
            A = None  # a^{k-1}, set by the first pass of the loop
            for k in range(l, net.L + 1):
                if k > l:
                    Z = W[k] @ A + b[k]
                    if s.complex:  # pinned real parts, as in _shifted_losses
                        Z = f.z[k] + 1j * Z.imag
                A = net.sigmas[k - 1](Z)
            values.append(net.loss.value(Z, A, y, net.sigmas[-1]))
            evaluations += 1
        magnitude = np.abs(net.loss.per_example(f.z[-1], f.a[-1], y, net.sigmas[-1])).sum()
        est, err = s.combine(values, h, magnitude * (net.layers[-1] + 1))
        directions[name] = V
        estimate[name] = float(est)
        scale[name] = float(np.sum(F[name] * np.abs(V)))
        floor = float(np.sum(F1[name] * np.abs(V))) if s.complex else 0.0
        bound[name] = float(err) + gamma(net, m) * scale[name] + floor
    return Directional(directions, estimate, bound, scale, evaluations, s.name)
