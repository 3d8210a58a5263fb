"""The numerical gradient of a network's cost.  It never calls a backward pass.

Structure, not approximation, makes it fast.  A perturbation of W^l_ij (or b^l_i) moves only
z^l_i, by a^{l-1}_j (or 1) times the step, so the layers below l are never recomputed and layer
l+1 takes a rank-one update.

- ``complex_step`` (the default).  With the real parts pinned to the base forward pass, a complex
  step i h in z^l_i travels up the network as i h T, where T is the forward tangent: the real
  parts never change, so every branch (a ReLU's) is taken on exactly the z the backward pass
  sees, and only the first-order term Im = h f' moves.  So each layer's complex-step slope
  s^k = Im sigma(z^k + i h) / h is taken once, and T travels as real matrix products:
  T^{l+1} = W^{l+1}[:, i] s^l_i (rank one), T^k = W^k (s^{k-1} * T^{k-1}) above, for a chunk of
  units and every example at once.  At the output, the complex step of each C_x in each output
  unit gives D^L = dC_x/dz^L, and D^l_ix = dC_x/dz^l_ix = sum_j D^L_jx T^L_jx.  That equals the
  complex step of z^l_i to rounding, as Im is exactly linear in the step (h = 1e-20).  Every
  entry follows: dC/dW^l_ij = r(m) sum_x D^l_ix a^{l-1}_jx; n_1 + ... + n_L units in all, not one
  evaluation per parameter.  The L2 term's derivative is its own complex step.
- ``forward``, ``central``, ``richardson``: finite differences are not linear in the step, so
  every entry is perturbed on its own (still only the layers above it are recomputed), with the
  step h = eps^k max(1, |w|) scaled to each parameter.  An entry whose steps carry a unit with a
  kink, or a break in its second derivative, across z = 0 is skipped rather than compared.
  On a smooth network, central differences take their truncation h^2 |f'''| / 6 from one third
  derivative per unit and example (``third_derivatives``: every entry of a layer moves the same
  z^l_i, by a different a^{l-1}_jx), so each entry needs its two steps +-h and not the second
  pair at +-2h that estimated it before: half the evaluations.

The directional mode checks one random direction V per parameter array: d/dt C(theta + t V).
Error bounds: ``checks.rounding`` for the rounding of the chain, plus each scheme's own terms.
Chunks are sized in bytes to stay in cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .compare import KINK, no_reasons
from .differentiate import COMPLEX_STEP, EPS, TINY, scheme

__all__ = ["NumericGradient", "Directional", "Workspace", "numeric_gradient", "directional",
           "CHUNK_BYTES"]

#: the working set of one chunk of perturbations: about the size of a core's L2 cache
CHUNK_BYTES = 2 << 20


def _chunk(n_items, bytes_per_item):
    return int(max(1, min(n_items, CHUNK_BYTES // max(1, bytes_per_item))))


class Workspace:
    """Scratch arrays reused across chunks and layers.  A fresh temporary of a megabyte is
    freshly mapped memory, and on a ten-layer net its page faults cost more than the matrix
    products themselves; one buffer per role, grown when needed, faults once per check."""

    def __init__(self):
        self._flat = {}

    def array(self, role, shape):
        """An uninitialised float64 array of ``shape``, C-contiguous, for ``role``."""
        size = math.prod(shape)
        flat = self._flat.get(role)
        if flat is None or flat.size < size:
            flat = self._flat[role] = np.empty(size)
        return flat[:size].reshape(shape)


def output_derivatives(net, f, y):
    """D^L: dC_x / dz^L_jx for every output unit j and example x by the complex step."""
    sigma = net.sigmas[-1]
    if not sigma.elementwise:
        return output_derivatives_per_unit(net, f, y)
    # C_x is a sum over the output units of terms in that unit alone (``backprop.losses``), so
    # every unit takes its step at once: with the units moved to axis -3 the loss sums over a
    # lone unit (axis -2 of length one) and returns each unit's own term.
    Z = (f.z[-1] + 1j * COMPLEX_STEP)[:, None, :]
    return net.loss.per_example(Z, sigma(Z), y[:, None, :], sigma).imag / COMPLEX_STEP


def output_derivatives_per_unit(net, f, y):
    """D^L with one complex step per output unit, for a softmax, which couples the units."""
    n, m = f.z[-1].shape
    D = np.empty((n, m))
    size = _chunk(n, 16 * 4 * n * m)
    for start in range(0, n, size):
        units = np.arange(start, min(n, start + size))
        Z = np.repeat(f.z[-1][None], len(units), axis=0).astype(complex)
        Z[np.arange(len(units)), units] += 1j * COMPLEX_STEP
        C = net.loss.per_example(Z, net.sigmas[-1](Z), y, net.sigmas[-1])
        D[units] = C.imag / COMPLEX_STEP
    return D


def slopes(net, f):
    """s^l = Im sigma(z^l + i h) / h for the hidden layers l = 1 ... L-1 (index 0 and L unused).
    Layers with the same elementwise activation take their complex step in one call."""
    s = [None] * (net.L + 1)
    groups = {}
    for l in range(1, net.L):
        sigma = net.sigmas[l - 1]
        groups.setdefault(id(sigma) if sigma.elementwise else ("layer", l), []).append(l)
    for layers in groups.values():
        z = np.concatenate([f.z[l] for l in layers]) if len(layers) > 1 else f.z[layers[0]]
        slope = net.sigmas[layers[0] - 1](z + 1j * COMPLEX_STEP).imag / COMPLEX_STEP
        for l, part in zip(layers, np.split(slope, np.cumsum([net.layers[l] for l in layers])[:-1])):
            s[l] = part
    return s


def unit_derivatives(problem, l):
    """D^l: dC_x / dz^l_ix for every unit i of layer l and example x (see the module docstring);
    ``Problem.unit_derivative`` keeps them."""
    net = problem.net
    if l == net.L:
        return problem.D_L
    W, _ = net.columns()
    s, work = problem.slopes, problem.workspace
    n, m = problem.forward.z[l].shape
    D = np.empty((n, m))
    size = _chunk(n, 8 * 2 * max(net.layers[l + 1:]) * m)
    for start in range(0, n, size):
        units = slice(start, min(n, start + size))
        P = units.stop - start
        # The step into the layer above is rank one, W^{l+1}[:, i] s^l_ix; its scalar s^l_ix is
        # taken out and applied to D^l at the end, so the tangent starts as the column
        # W^{l+1}[:, i] for every example.  Tangents are kept C-contiguous as (n_k, m, P), the
        # chunk's units innermost, so each layer above is one matrix product for the whole
        # chunk and each slope one broadcast multiply, written into two buffers in turn.
        T = W[l + 1][:, None, units]
        for k in range(l + 2, net.L + 1):
            # T^k = W^k (s^{k-1} * T^{k-1})
            X = work.array("X", (net.layers[k - 1], m, P))
            np.multiply(s[k - 1][:, :, None], T, out=X)
            T = work.array("T", (net.layers[k], m, P))
            np.matmul(W[k], X.reshape(net.layers[k - 1], m * P), out=T.reshape(net.layers[k], m * P))
        if T.shape[1] != m:  # a net with no layer above l + 1: the column, for every example
            T = np.broadcast_to(T, (net.layers[l + 1], m, P))
        D[units] = np.einsum("jx,jxp->px", problem.D_L, T) * s[l][units]
    return D


def penalty_gradient(net, W_l):
    """d/dW of l2 ||W||^2 by its own complex step.  The penalty is quadratic, so Im l2 (W + i h)^2 / h
    = 2 l2 W has no truncation at any h: h = 1 keeps Im clear of underflow (at h = 1e-20, a W of
    1e-294 would put 2 W h among the subnormals)."""
    return (net.l2 * (W_l + 1j) ** 2).imag


@dataclass(frozen=True)
class NumericGradient:
    """The numeric gradient, per parameter array in the network's layout."""

    gradient: dict            # name -> estimate
    error_bound: dict         # name -> bound on |estimate - exact| per entry
    reasons: dict             # name -> why each entry is not decided (compare.KINK), 0: it is
    evaluations: int          # evaluations of the layers above a perturbed unit or entry
    method: str


def complex_step_floor(net, f, m, absW):
    """The complex step's own error, beyond rounding: its h^2 truncation, and the underflow of
    Im below the smallest normal number (tiny / h in every D^L and slope).  Both reach an entry
    through |W| products of ones, which are the same for every example: K^L = 1,
    K^l = |W^{l+1}|^T K^{l+1} + 1 as vectors, and the entry's scale is K^l sum_x |a^{l-1}_x|."""
    per_unit = net.scale(m) * (16 * COMPLEX_STEP ** 2 + (net.L + 4) * TINY / COMPLEX_STEP)
    out = {}
    K = np.ones(net.layers[-1])
    for l in range(net.L, 0, -1):
        if l < net.L:
            K = absW[l + 1].T @ K + 1
        # one pass: the outer product written straight into the array that is returned
        out[f"W{l}"] = net.from_columns(np.multiply.outer(per_unit * K, np.abs(f.a[l - 1]).sum(axis=1)))
        if net.bias:
            out[f"b{l}"] = net.from_columns(per_unit * m * K[:, None])
    return out


def numeric_gradient(problem, method="complex_step", progress=None):
    """The numerical gradient of C(theta) on a ``Problem`` with its error bounds: the float64
    rounding of the chain (``checks.rounding``) plus the scheme's own.  ``progress(done, total)``
    is called as the work proceeds."""
    s = scheme(method)
    net = problem.net
    if not s.complex:
        return _finite_differences(problem, s, progress)
    f, m = problem.forward, problem.m
    W, _ = net.columns()
    D = [None] * (net.L + 1)
    total, done = sum(net.layers[1:]), 0
    for l in range(net.L, 0, -1):
        D[l] = problem.unit_derivative(l)
        done += net.layers[l]
        if progress:
            progress(done, total)
    r = net.scale(m)
    grad = {}
    for l in range(1, net.L + 1):
        rD = r * D[l]  # the reduction's factor taken on D^l (n_l x m), not on the n_l x n_{l-1} product
        gw = rD @ f.a[l - 1].T
        if net.l2:
            gw += penalty_gradient(net, W[l])
        grad[f"W{l}"] = net.from_columns(gw)
        if net.bias:
            grad[f"b{l}"] = net.from_columns(rD.sum(axis=1, keepdims=True))
    structural, floor = problem.rounding(), problem.complex_step_floor
    bound = {name: np.add(structural[name], floor[name]) for name in grad}
    reasons = {name: no_reasons(v.shape) for name, v in grad.items()}
    return NumericGradient(grad, bound, reasons, total, s.name)


def cost_rounding(problem, values_size):
    """A bound on the rounding of a computed C: its forward pass's error reaching C through D^L
    (``Problem.forward_rounding``), the loss's own rounding (n_L + 4 units of the largest value)
    and the reduction's sum."""
    own = (problem.net.layers[-1] + problem.m + 4) * EPS * values_size
    return 2 * (problem.forward_rounding + own)


def _shifted_costs(problem, l, units, dz, per_example=False):
    """C (P,) with z^l[units[p], :] shifted by the real dz[p], and whether each shift carried a
    unit that is not smooth at 0 across it (P,).  Layers below l are reused from the base; each
    layer above is one matrix product for the whole chunk, on C-contiguous arrays (n_k, P m)
    whose columns are the chunk's entries, each with every example.  ``per_example``: C's terms
    r C_x (P, m) instead of their sum."""
    net, f = problem.net, problem.forward
    W, b = net.columns()
    L, P = net.L, len(units)
    m = dz.shape[-1]
    crossed = np.zeros(P, dtype=bool)
    if l == L:
        Z = np.repeat(f.z[L][:, None, :], P, axis=1)
        Z[units, np.arange(P)] += dz
        k = L
    else:
        zu = f.z[l][units] + dz
        if not net.sigmas[l - 1].smooth:
            crossed |= ((zu > 0) != (f.z[l][units] > 0)).any(axis=-1)
        dA = net.sigmas[l - 1](zu) - f.a[l][units]
        # a^l moved in one row only: z^{l+1} = z^{l+1} + W^{l+1}[:, i] (a'^l_i - a^l_i)
        Z = np.empty((net.layers[l + 1], P, m))
        np.multiply(W[l + 1][:, units][:, :, None], dA[None, :, :], out=Z)
        Z += f.z[l + 1][:, None, :]
        k = l + 1
    Z = Z.reshape(net.layers[k], P * m)
    while True:
        if not net.sigmas[k - 1].smooth:
            crossed |= ((Z.reshape(-1, P, m) > 0) != (f.z[k][:, None, :] > 0)).any(axis=(0, 2))
        A = net.sigmas[k - 1](Z)  # a softmax normalises over axis 0, the units
        if k == L:
            break
        k += 1
        Z = W[k] @ A
        if net.bias:
            Z += b[k]
    y = problem.targets_tiled(P)[:, :P * m]
    C = net.loss.per_example(Z, A, y, net.sigmas[-1]).reshape(P, m)
    return net.scale(problem.m) * (C if per_example else C.sum(axis=-1)), crossed


def third_derivatives(problem, l):
    """G^l >= |d^3 (r C_x) / d(z^l_ix)^3| for every unit i of layer l and example x.

    A parameter theta of layer l moves z^l_ix by t a_x (a = a^{l-1}_j for W^l_ij, 1 for b^l_i),
    so C(theta + t) = r sum_x C_x(z^l_ix + t a_x) and f''' = r sum_x a_x^3 g'''_ix, with
    g_ix(s) = C_x(z^l_ix + s): one third derivative per unit and example serves every entry of
    the layer.  It comes from the third difference of g at s = +-eta, +-2eta
    (eta = eps^(1/5) max(1, |z|), a power of two), whose rounding, 3 e / eta^3 for values
    rounded by at most e, is added; its truncation, eta^2 g^(5) / 4, is what the doubling of
    the scheme's truncation term covers, as the difference at 2h did."""
    net, f, m = problem.net, problem.forward, problem.m
    n = net.layers[l]
    eta = 2.0 ** np.round(np.log2(EPS ** 0.2 * np.maximum(1.0, np.abs(f.z[l]))))
    G = np.empty((n, m))
    size = _chunk(n, 8 * 2 * max(net.layers[l:]) * m)
    for start in range(0, n, size):
        units = np.arange(start, min(n, start + size))
        g = {c: _shifted_costs(problem, l, units, c * eta[units], per_example=True)[0]
             for c in (2, 1, -1, -2)}
        third = (g[2] - 2 * g[1] + 2 * g[-1] - g[-2]) / (2 * eta[units] ** 3)
        e = cost_rounding(problem, np.max([np.abs(v) for v in g.values()], axis=0))
        G[units] = np.abs(third) + 3 * e / eta[units] ** 3
    return G


def _finite_differences(problem, s, progress):
    net, f, m = problem.net, problem.forward, problem.m
    W, b = net.columns()
    C0, structural = problem.cost, problem.rounding()
    grad, bound, reasons = {}, {}, {}
    evaluations = done = 0
    # A smooth network bounds each entry's |f'''| from one third derivative per unit (see
    # ``third_derivatives``), so a scheme that has the form needs no second step per entry.
    # Kinked or piecewise activations keep the second step: it also detects kinks crossed.
    by_structure = s.structural_offsets is not None and all(a.smooth for a in net.sigmas)
    offsets = s.structural_offsets if by_structure else s.offsets
    steps = sum(1 for c in offsets if c != 0)  # evaluations per entry
    G = {}
    for p in net.params:
        l = p.layer
        if by_structure and l not in G:
            G[l] = third_derivatives(problem, l)
            evaluations += 4 * net.layers[l]
        value = W[l] if p.kind == "weight" else b[l]
        units, sources = np.divmod(np.arange(value.size), value.shape[1])
        h = s.step(value.ravel())
        est, err = np.empty(value.size), np.empty(value.size)
        skip = np.zeros(value.size, dtype=bool)
        size = _chunk(value.size, 8 * 2 * max(net.layers[l:]) * m)
        for start in range(0, value.size, size):
            sl = slice(start, min(value.size, start + size))
            moved = f.a[l - 1][sources[sl]] if p.kind == "weight" else np.ones((sl.stop - start, m))
            values = []
            for c in offsets:
                if c == 0:
                    values.append(np.full(sl.stop - start, C0))
                    continue
                C, crossed = _shifted_costs(problem, l, units[sl], c * h[sl, None] * moved)
                if net.l2 and p.kind == "weight":
                    w = value.ravel()[sl]
                    C = C + net.l2 * ((w + c * h[sl]) ** 2 - w ** 2)  # the L2 term's change
                values.append(C)
                skip[sl] |= crossed
            # rounding is that of the values differenced, not only of C(theta): at a minimum of C,
            # C(theta +- h) can be far larger than C(theta)
            rounding = cost_rounding(problem, np.max(np.abs(values), axis=0))
            if by_structure:
                third = (G[l][units[sl]] * np.abs(moved) ** 3).sum(axis=1)
                est[sl], err[sl] = s.combine_structural(values, h[sl], rounding, third)
            else:
                est[sl], err[sl] = s.combine(values, h[sl], rounding)
            evaluations += (sl.stop - start) * steps
            done += sl.stop - start
            if progress:
                progress(done, net.theta.size)
        grad[p.name] = net.from_columns(est.reshape(value.shape))
        bound[p.name] = net.from_columns(err.reshape(value.shape)) + structural[p.name]
        reasons[p.name] = net.from_columns(np.where(skip, KINK, 0).astype(np.uint8).reshape(value.shape))
    return NumericGradient(grad, bound, reasons, evaluations, s.name)


@dataclass(frozen=True)
class Directional:
    """d/dt C(theta + t V_P) for one random unit direction V_P per parameter array P."""

    directions: dict          # name -> V_P (layout shape, unit Frobenius norm)
    estimate: dict            # name -> numeric directional derivative
    error_bound: dict         # name -> its bound
    evaluations: int
    method: str


def directional(problem, bounds, method="complex_step", seed=0, exclude=None):
    """The directional derivative of C along one random unit direction per parameter array.

    ``bounds``: {name: per-entry bound} of the rounding to weigh by |V|.  ``exclude``: {name:
    bool mask} of entries the directions must not move (gradients undefined there, at a kink),
    or None.
    """
    s = scheme(method)
    rng = np.random.default_rng(seed)
    net, f, m = problem.net, problem.forward, problem.m
    floor = problem.complex_step_floor if s.complex else {}
    W, b = net.columns()
    slope = problem.slopes if s.complex else None
    directions, estimate, bound = {}, {}, {}
    evaluations = 0
    for p in net.params:
        l = p.layer
        V = rng.standard_normal(p.shape)
        if exclude is not None:
            V[exclude[p.name]] = 0.0
        norm = np.linalg.norm(V)
        V = V / norm if norm > 0 else V
        Vc = net.from_columns(V)  # the columns view of a layout array is its from_columns
        theta = W[l] if p.kind == "weight" else b[l]
        h = COMPLEX_STEP if s.complex else float(s.step(np.max(np.abs(theta))))
        C0 = problem.cost
        dz = Vc @ f.a[l - 1] if p.kind == "weight" else np.broadcast_to(Vc, f.z[l].shape)
        if s.complex:
            # the complex step's imaginary part, carried as a real tangent (see unit_derivatives)
            T = dz
            for k in range(l + 1, net.L + 1):
                T = W[k] @ (slope[k - 1] * T)
            value = net.scale(m) * float(np.sum(problem.D_L * T))
            if net.l2 and p.kind == "weight":
                value += float(np.sum(penalty_gradient(net, theta) * Vc))
            evaluations += 1
            est, err = value, 4 * EPS * (abs(value) + abs(C0)) + TINY / COMPLEX_STEP
        else:
            values = []
            for c in s.offsets:
                if c == 0:
                    values.append(np.float64(C0))
                    continue
                Z = f.z[l] + c * h * dz
                A = net.sigmas[l - 1](Z)
                for k in range(l + 1, net.L + 1):
                    Z = W[k] @ A + b[k]
                    A = net.sigmas[k - 1](Z)
                C = net.scale(m) * net.loss.per_example(Z, A, problem.y_cols, net.sigmas[-1]).sum()
                if net.l2 and p.kind == "weight":
                    C = C + net.l2 * (((theta + c * h * Vc) ** 2).sum() - (theta ** 2).sum())
                values.append(C)
                evaluations += 1
            rounding = cost_rounding(problem, float(np.max(np.abs(values))))
            est, err = s.combine(values, h, rounding)
        directions[p.name] = V
        estimate[p.name] = float(est)
        extra = float(np.sum(floor[p.name] * np.abs(V))) if s.complex else 0.0
        bound[p.name] = float(err) + float(np.sum(bounds[p.name] * np.abs(V))) + extra
    return Directional(directions, estimate, bound, evaluations, s.name)
