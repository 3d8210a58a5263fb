"""Checking any hand-written gradient: a function of parameter arrays, or a CS231n-style layer.

``check_function(f, params)`` checks ``f() -> (loss, grads)`` (or ``loss()`` with ``grad()``),
where f reads the arrays in ``params``; ``check_layer(forward, backward, *inputs)`` checks a
layer's backward pass against its own forward, with a random upstream gradient dout:
L = sum(out * dout), so dL/d(input) is what ``backward(dout, cache)`` returns.  The numeric side
runs the user's own code (``checks.blackbox``); the comparison and the report are every check's
(``checks.verdict``).

Error model.  For the numeric side, the scheme's own bound.  For the code under test there is no
graph to bound from, so the model is stated: each gradient entry is a sum of at most K terms
(K = the number of elements of every input and of the output together), none larger than the
largest entry of its array or of the true gradient S; any order of summation is then accurate to
gamma(K) S, and a correct elementwise function to a few units of its value.  An entry passes when
|analytic - numeric| <= numeric bound + 2 gamma(K) S + 8 u |numeric|, u the unit of the precision
the gradient came back in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..backprop import Parameter
from .blackbox import Target, _nudge, complex_safe, directional, numeric
from .compare import KINK, NOISY, REASONS, SWAMPED, compare_directional, undecided
from .differentiate import EPS
from .heap import keep_freed_memory
from .layers import Grouping, InProcessLayer, moved_values
from .nearby import Nearby, looked_again
from .readers import singletons_apart
from .rounding import FLOAT64, PRECISIONS, gamma
from .sources import float32_valued, precision_of
from .usercode import Target as UserCallable
from .report import ParameterCheck, Report
from .verdict import Undecidable, precision_notes, verdict

__all__ = ["check_function", "check_layer", "check_layer_code", "METHODS", "MODES"]

METHODS = ("auto", "complex_step", "richardson", "central")
MODES = ("full", "fast")
#: random directions per array in the fast mode
FAST_DIRECTIONS = 2


def _validate_method(method, mode="full"):
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {', '.join(MODES)}; got {mode!r}")


def _validate_array(name, value):
    a = np.asarray(value)
    if a.dtype.kind != "f":
        raise TypeError(f"`{name}` must be an array of floats; got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"`{name}` contains NaN or inf")
    return a


def _scalar(value, what):
    try:
        v = np.asarray(value)
    except Exception:
        raise TypeError(f"{what} must return a number; got {type(value).__name__}") from None
    if v.size != 1:
        raise TypeError(f"{what} must return a single number (the loss); got shape {v.shape}")
    return v.reshape(())[()]


@dataclass(frozen=True)
class Sizes:
    """What the tolerance model reads beyond the gradients: ``loss``, the size of the terms L
    sums; ``scales``, each array's size (root-mean-square); ``noise``, how far the code's
    gradient moves under ``jiggle`` (``rounding_noise``); ``products``, for a layer, the largest
    term a backward can build from dout and another input (``products``)."""

    loss: float
    scales: dict
    noise: dict
    products: dict = field(default_factory=dict)

    def share(self, p):
        """The loss's share per entry of ``p``: size / (scale n)."""
        return self.loss / (self.scales[p.name] * max(p.size, 1))


def products(douts, base, names):
    """name -> max |dout| times the largest entry of any other input (at least 1): the size of
    a backward's terms.  A layer's backward multiplies dout by local derivatives and by the other
    inputs (dW = x^T delta, dx = delta W^T, an LSTM's gates by its cell), and a saturating unit's
    local derivative, 1 - tanh^2 or s (1 - s) computed from its output, is at most 1 and keeps
    only an absolute accuracy of a few units of 1: its rounding reaches the gradient at that
    size, however small the gradient itself (a gate at a pre-activation of 1e3 gives a gradient
    of 1e-13 with an error of 20%)."""
    top = max((float(np.max(np.abs(d), initial=0.0)) for d in douts), default=0.0)
    largest = {n: float(np.max(np.abs(base[n]), initial=0.0)) for n in names}
    return {n: top * max([1.0] + [v for m, v in largest.items() if m != n]) for n in names}


def _tolerance(params, analytic, numeric_side, K, precision, sizes):
    """The stated model (see the module docstring): each entry a sum of at most K terms, none
    larger than S, the largest entry of its array or of the true gradient, the loss's share per
    input, size / (scale n) (a correct backward may cancel terms that large: a batch norm over
    two examples), or, for a layer, the terms dout makes with the other inputs
    (``products``: a saturated gate's 1 - tanh^2).  Plus 8 times the code's own rounding
    noise as measured (``noise``, see ``rounding_noise``), up to sqrt(u) of the loss's share
    per input."""
    u = precision.eps
    tol = {}
    for p in params:
        share = sizes.share(p)
        S = max(float(np.max(np.abs(numeric_side.gradient[p.name]), initial=0.0)),
                float(np.nanmax(np.abs(np.where(np.isfinite(analytic[p.name]),
                                                analytic[p.name], 0)), initial=0.0)),
                share, sizes.products.get(p.name, 0.0))
        tol[p.name] = (numeric_side.error_bound[p.name] + 2 * gamma(K, u) * S
                       + 8 * u * np.abs(numeric_side.gradient[p.name])
                       + 2 * gamma(K, EPS) * S  # the numeric side's own sums
                       + min(8 * sizes.noise.get(p.name, 0.0), np.sqrt(u) * share))
    return tol


def jiggle(arrays, seed):
    """A move of every entry by a few units in its last place (its own dtype's): nothing a
    smooth gradient notices beyond a few units of rounding, but every rounding in the code
    changes."""
    rng = np.random.default_rng([seed, 0x6A6967])
    move = {}
    for n, a in arrays.items():
        k = rng.integers(1, 4, size=a.size) * (2.0 * rng.integers(0, 2, size=a.size) - 1)
        move[n] = (np.arange(a.size), (np.spacing(np.abs(a)).ravel() * k).astype(a.dtype))
    return move


def rounding_noise(grads, again):
    """How far the code's gradient moves when its inputs move by a few units in their last
    place (``jiggle``): the size of its own rounding, cancellation included, per array."""
    out = {}
    for n, g in grads.items():
        moved = np.abs(np.asarray(again[n], dtype=float) - np.asarray(g, dtype=float))
        out[n] = float(np.max(np.where(np.isfinite(moved), moved, 0.0), initial=0.0))
    return out


def uninformative(params, analytic, numeric_side, narrow=True):
    """The numeric side's reasons, and, where the code's evaluations or gradient are narrower
    than float64 (``narrow``), SWAMPED where the numeric side's own error bound reaches the size
    of the gradient (the largest |entry| of the array, numeric or analytic): a finite difference
    of a float32 loss that moves less than a unit of its rounding says the gradient is 0 +- the
    bound, which no code can be held to.  In float64 a bound that large meets a gradient that is
    zero to rounding, and a code value within it agrees with it as far as anything can (a note
    says the check says little there)."""
    out = {}
    for p in params:
        num, an = numeric_side.gradient[p.name], np.asarray(analytic[p.name], dtype=float)
        top = max(float(np.max(np.abs(num), initial=0.0)),
                  float(np.max(np.abs(an), initial=0.0, where=np.isfinite(an))))
        why = numeric_side.reasons[p.name].copy()
        if narrow and top > 0:
            why[(why == 0) & (numeric_side.error_bound[p.name] >= top)] = SWAMPED
        out[p.name] = why
    return out


def _report(name, params, analytic, numeric_side, K, evidence, sizes, notes=(), nearby=None):
    # the gradient is judged at the narrowest of the precisions its dtypes show and the one its
    # code's evaluations round at (float32 inputs make float64 code compute in float32)
    precision = max(precision_of(list(analytic.values())), numeric_side.precision,
                    key=lambda p: p.eps)
    analytic = {n: np.asarray(a, dtype=float) for n, a in analytic.items()}
    tol = _tolerance(params, analytic, numeric_side, K, precision, sizes)
    narrow = precision is not FLOAT64
    reasons = {n: undecided(numeric_side.gradient[n], tol[n], r, narrow, analytic[n])
               for n, r in uninformative(params, analytic, numeric_side, narrow).items()}
    looked = 0
    if nearby is not None:  # a disagreement must stand at nearby points too (checks.nearby)
        reasons, looked = looked_again(nearby, analytic, numeric_side.gradient, tol, reasons)
    notes = list(notes)
    kinks = sum(int(np.count_nonzero(r == KINK)) for r in numeric_side.reasons.values())
    if kinks:
        notes.append(f"{kinks} entries not compared: a kink (max, abs, a comparison) or a jump in "
                     "a derivative lies within their finite-difference steps, where the "
                     "scheme's error estimate does not hold")
    notes += precision_notes(params, numeric_side.gradient, tol, precision)
    zero = [p.name for p in params if np.all(np.abs(numeric_side.gradient[p.name])
                                             <= numeric_side.error_bound[p.name])]
    if zero and precision is FLOAT64:
        notes.append(f"the true gradient of {', '.join(zero)} is zero to rounding on these inputs, "
                     "so the check says little about them: try other inputs")
    noisy = sum(int(np.count_nonzero(r == NOISY)) for r in reasons.values())
    if noisy:
        notes.append(f"{noisy} entries not decided: they disagree by less than the rounding "
                     "measured at nearby points, where the code (or its forward, which the "
                     "numeric side runs) amplifies its own rounding; a wrong gradient stays wrong "
                     "from point to point, and none of these did")
    return verdict(params, analytic, numeric_side.gradient, tol, reasons,
                   notes=notes, evidence=evidence, target=name,
                   method=numeric_side.method, mode="full",
                   evaluations=numeric_side.evaluations + looked,
                   network=", ".join(f"{p.name} {p.shape}" for p in params),
                   precision=precision.name)


def _fast_report(name, params, analytic, side, K, sizes, notes=()):
    """The fast mode's ``Report``: each array's gradient along FAST_DIRECTIONS random unit
    directions v against the numeric d/dt L(x + t v).

    Error model: <analytic, v> may differ from the numeric derivative by its bound plus
    sum_k |v_k| tol_k, tol_k the full check's tolerance for entry k with the code's own gradient
    standing in for the true one's size.  An error e in an array is caught when |<e, v>| exceeds
    that for some direction; a single wrong entry of n, off by E, is missed by one direction with
    probability about 0.8 sqrt(n) tol / E (v_k is about N(0, 1/n)), by all of them with that
    probability to the power FAST_DIRECTIONS.  A passing fast check says the gradient is right
    along the directions drawn; the full check says it entry by entry."""
    precision = max(precision_of(list(analytic.values())), side.precision, key=lambda p: p.eps)
    analytic = {n: np.asarray(a, dtype=float) for n, a in analytic.items()}
    stand_in = _StandIn({n: np.where(np.isfinite(a), a, 0.0) for n, a in analytic.items()})
    tol = _tolerance(params, analytic, stand_in, K, precision, sizes)
    checks = [_fast_check(p, analytic, side, tol) for p in params]
    if not any(c.checked for c in checks):
        raise Undecidable("nothing could be decided (every direction's steps cross a kink): no "
                          "verdict is possible on this input")
    failing = [c.name for c in checks if not c.passed]
    notes = list(notes) + [
        f"fast mode: each array checked along {FAST_DIRECTIONS} random directions, not entry by "
        "entry; a wrong array is missed only where every direction is nearly orthogonal to its "
        "error (see check_layer's mode)"]
    diagnosis = "" if not failing else (
        f"{', '.join(failing)} disagree with the numeric derivative along a random direction; "
        "run the full check (mode='full') for the entries and a diagnosis.")
    return Report(passed=not failing, max_relative_error=max(c.max_relative_error for c in checks),
                  parameters=tuple(checks), mode="fast", evaluations=side.evaluations,
                  diagnosis=diagnosis, notes=tuple(notes), target=name, method=side.method,
                  network=", ".join(f"{p.name} {p.shape}" for p in params),
                  precision=precision.name)


class _StandIn:
    """The numeric side's fields the tolerance model reads, for a check with no numeric entries:
    the code's own gradient stands in for the true one's size, with no error bound."""

    def __init__(self, gradient):
        self.gradient = gradient
        self.error_bound = {n: np.zeros_like(g) for n, g in gradient.items()}


class _OneDirection:
    """One direction of one array, as ``compare.compare_directional`` reads it."""

    def __init__(self, name, v, estimate, bound):
        self.directions, self.estimate, self.error_bound = {name: v}, {name: estimate}, {name: bound}


def _fast_check(p, analytic, side, tol):
    """The array's ``ParameterCheck``: its worst decided direction (by error over tolerance)."""
    worst, checked = None, 0
    for v, est, bound, ok in zip(side.directions[p.name], side.estimates[p.name],
                                 side.bounds[p.name], side.decided[p.name]):
        if not ok:
            continue
        checked += 1
        along = float(np.sum(np.abs(v) * tol[p.name]))
        check, = compare_directional((p,), analytic, _OneDirection(p.name, v, est, bound),
                                     {p.name: along})
        entry = check.worst[0]
        ratio = entry.error / entry.tolerance if entry.tolerance > 0 else float("inf")
        if worst is None or not ratio <= worst[0]:
            worst = (ratio, check)
    skipped = len(side.directions[p.name]) - checked
    if worst is None:
        return ParameterCheck(name=p.name, connects=p.connects, shape=p.shape, passed=True,
                              max_relative_error=0.0, checked=0, mismatches=0, skipped=skipped,
                              undecided={REASONS[KINK]: skipped})
    check = worst[1]
    return ParameterCheck(name=p.name, connects=p.connects, shape=p.shape, passed=check.passed,
                          max_relative_error=check.max_relative_error, checked=checked,
                          mismatches=check.mismatches, skipped=skipped, worst=check.worst,
                          undecided={REASONS[KINK]: skipped} if skipped else {})


def _named(params, what="params"):
    """(names, arrays) from a dict or a list of arrays."""
    if isinstance(params, dict):
        if not params:
            raise ValueError(f"`{what}` is empty")
        return tuple(map(str, params)), {str(k): _validate_array(f"{what}[{k!r}]", v)
                                          for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError(f"`{what}` is empty")
        return (tuple(f"{what}[{i}]" for i in range(len(params))),
                {f"{what}[{i}]": _validate_array(f"{what}[{i}]", v) for i, v in enumerate(params)})
    if isinstance(params, np.ndarray):
        return ("param",), {"param": _validate_array("param", params)}
    raise TypeError(f"`{what}` must be a dict or a list of arrays; got {type(params).__name__}")


def _grads_like(names, params, grads, what):
    """The gradient as a dict keyed like params (a single array where params holds one)."""
    if len(names) == 1 and isinstance(grads, np.ndarray):
        return {names[0]: grads}
    if isinstance(params, dict):
        if not isinstance(grads, dict):
            raise TypeError(f"{what} must be a dict with the keys of params; got "
                            f"{type(grads).__name__}")
        missing = [k for k in params if k not in grads]
        if missing:
            raise ValueError(f"{what} has no gradient for {', '.join(map(str, missing))}")
        return {str(k): grads[k] for k in params}
    if not isinstance(grads, (list, tuple)) or len(grads) != len(names):
        raise TypeError(f"{what} must be a list of {len(names)} arrays in the order of params")
    return dict(zip(names, grads))


def _check_shapes(params, grads, what, notes=None):
    """The gradients, each of its array's shape: one that differs only by axes of length 1
    (keepdims) is compared by value, with a note in ``notes``; any other shape is refused."""
    out = {}
    for p in params:
        g = np.asarray(grads[p.name])
        if g.dtype.kind not in "biuf":
            raise TypeError(f"{what} gives {p.name} with dtype {g.dtype}")
        if g.shape != p.shape and singletons_apart(g.shape, p.shape):
            if notes is not None:
                notes.append(f"{p.name}: the gradient came back with shape {g.shape}, which "
                             f"differs from {p.shape} only by axes of length 1 (keepdims): "
                             "compared by value")
            g = g.reshape(p.shape)
        if g.shape != p.shape:
            hint = " (its transpose)" if g.shape == p.shape[::-1] else ""
            raise ValueError(f"{what} gives {p.name} the shape {g.shape}; it needs {p.shape}{hint}")
        out[p.name] = g
    return out


class _LiveParams:
    """The arrays ``f`` reads, perturbed in place for each evaluation and always restored."""

    def __init__(self, params, names):
        self.params, self.names = params, names
        self.keys = list(params) if isinstance(params, dict) else list(range(len(names)))
        self.live = ({names[0]: params} if isinstance(params, np.ndarray)
                     else {n: params[k] for n, k in zip(names, self.keys)})
        self.saved = {n: np.array(a, copy=True) for n, a in self.live.items()}
        self.complex = None     # name -> the base as complex (complex64 for float32), when needed
        self.moved = set()      # the arrays whose real parts the last move changed
        self.lent = False       # whether the container holds complex arrays

    def put(self, move):
        """Base values plus the move: real parts in place (f may close over them); a complex
        move also replaces every container entry by a complex array (f may read through params,
        which can carry it; ``layers.moved_values``).  Only what the last move changed is put
        back first."""
        for n in self.moved:
            self.live[n][...] = self.saved[n]
        self.moved = set()
        complex_ = any(np.iscomplexobj(d) for _, d in move.values())
        for n, (index, delta) in move.items():
            real = np.real(delta)
            if np.any(real):
                self.live[n].reshape(-1)[index] += real.astype(self.live[n].dtype)
                self.moved.add(n)
        if isinstance(self.params, np.ndarray) or not (complex_ or self.lent):
            return
        if complex_ and self.complex is None:
            self.complex = {n: a.astype(np.result_type(a, np.complex64)) for n, a in self.saved.items()}
        for n, k in zip(self.names, self.keys):
            if not complex_:
                self.params[k] = self.live[n]
                continue
            value = self.complex[n].copy()
            if n in move:
                value.reshape(-1)[move[n][0]] += move[n][1]
            self.params[k] = value
        self.lent = complex_

    def restore(self):
        """Every array and container entry back to the base, exactly."""
        for n, k in zip(self.names, self.keys):
            self.live[n][...] = self.saved[n]
            if not isinstance(self.params, np.ndarray):
                self.params[k] = self.live[n]
        self.moved, self.lent = set(), False


def check_function(f, params, grad=None, *, method="auto", sample=None, seed=0, mode="full"):
    """Check the gradient of a scalar function of the arrays in ``params``.

    f: ``f() -> (loss, grads)``, or, with ``grad``, ``f() -> loss`` and ``grad() -> grads``.
    params: a dict name -> float array, or a list of float arrays, that f reads.  The checker
      perturbs them in place and always restores them exactly, even on error.
    grads: the same keys (or order) as params; a single array where params holds one.
    method: "auto" (complex step where f is complex-safe, else Richardson), "complex_step",
      "richardson" or "central".  sample: check this many random entries per array.
    mode: "full" (every entry) or "fast" (each array along a few random directions, for property
      tests: see ``_fast_report`` for what it can miss).

    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> report = check_function(lambda: ((W ** 2).sum(), {"W": 2 * W}), {"W": W})
    >>> report.passed, report.method, report.parameters[0].name
    (True, 'richardson', 'W')
    """
    if not callable(f):
        raise TypeError(f"`f` must be callable; got {f!r}")
    if grad is not None and not callable(grad):
        raise TypeError(f"`grad` must be callable; got {grad!r}")
    _validate_method(method, mode)
    f, grad = _each_call_kept(f), grad if grad is None else _each_call_kept(grad)
    names, _ = _named(params)
    live = _LiveParams(params, names)
    keep_freed_memory()
    records = tuple(Parameter(n, "input", None, live.saved[n].shape) for n in names)

    def losses(moves):
        out = []
        for move in moves:
            live.put(move)
            value = _scalar(f() if grad is not None else _first(f()), "f")
            out.append((value, abs(float(np.real(value)))))
        return out

    with np.errstate(all="ignore"), _state_kept():
        try:
            result = f()
            if grad is None:
                if not (isinstance(result, (tuple, list)) and len(result) == 2):
                    raise TypeError("f must return (loss, grads), or pass grad= for the gradient")
                analytic = result[1]
            else:
                analytic = grad()
            analytic = {n: np.array(g, copy=True) for n, g in
                        _grads_like(names, params, analytic, "the gradient").items()}
            shape_notes = []
            analytic = _check_shapes(records, analytic, "the gradient", shape_notes)
            loss0 = _scalar(_loss_of(result, grad), "f")
            target = Target(names, live.saved, losses, sum(a.size for a in live.saved.values()),
                            _evaluated_at([np.asarray(loss0, dtype=float)] + list(analytic.values()),
                                          list(live.saved.values()),
                                          lambda: losses([_nudged(live.saved)])[0][0] == loss0))
            rng = np.random.default_rng(seed)
            if method == "complex_step" and not complex_safe(target, rng):
                raise ValueError("f is not complex-safe (a complex step through it does not give "
                                 "its derivative): use method='auto' or 'richardson'")
            numeric_side = (numeric(target, method, sample, rng) if mode == "full" else
                            directional(target, method, rng, FAST_DIRECTIONS))
            live.put(jiggle(live.saved, seed))
            again = f()[1] if grad is None else grad()
            noise = rounding_noise(analytic, _check_shapes(
                records, _grads_like(names, params, again, "the gradient"), "the gradient"))
        finally:
            live.restore()
    scales = {n: target.scale(n) for n in names}
    if mode == "fast":
        size = abs(float(np.real(_scalar(_loss_of(result, grad), "f"))))
        return _fast_report(getattr(f, "__name__", "f"), records, analytic, numeric_side,
                            target.terms, Sizes(size, scales, noise), shape_notes)
    return _report(getattr(f, "__name__", "f"), records, analytic, numeric_side, target.terms,
                   dict(inputs=live.saved), Sizes(numeric_side.size, scales, noise), shape_notes,
                   _nearby_function(target, live, f, grad, records, params, numeric_side, seed))


def _nearby_function(target, live, f, grad, records, params, numeric_side, seed):
    """``check_function``'s ``Nearby``: f's loss and gradient at moved arrays, each call under
    the check's guards and followed by the arrays' exact restoration."""
    names = tuple(p.name for p in records)

    def restored(fn):
        def call(*args):
            with np.errstate(all="ignore"), _state_kept():
                try:
                    return fn(*args)
                finally:
                    live.restore()
        return call

    def gradient_at(move):
        live.put(move)
        g = f()[1] if grad is None else grad()
        return _check_shapes(records, _grads_like(names, params, g, "the gradient"),
                             "the gradient")

    return Nearby(dataclasses.replace(target, losses=restored(target.losses)),
                  restored(gradient_at), numeric_side, seed)


def _each_call_kept(fn):
    """fn, each call under the warnings filters of the check's start: what one call of the
    user's function changes (``simplefilter("error")``) does not reach the next."""
    def call():
        with warnings.catch_warnings():
            return fn()
    call.__name__ = getattr(fn, "__name__", "f")
    return call


@contextlib.contextmanager
def _state_kept():
    """numpy's print options and the warnings filters as they were before the check, whatever
    f changes while it runs (``np.errstate`` already restores numpy's error state)."""
    printoptions = np.get_printoptions()
    with warnings.catch_warnings():
        try:
            yield
        finally:
            np.set_printoptions(**printoptions)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _loss_of(result, grad):
    """The loss f returned (its dtype says what f computes in)."""
    return result if grad is not None else _first(result)


def check_layer(forward, backward, *inputs, method="auto", sample=None, seed=0, mode="full"):
    """Check a layer's backward pass against its forward (CS231n style).

    forward(*inputs) -> out or (out, cache); backward(dout, cache) -> one gradient per float-array
    input, in order (a tuple, or the array alone where there is one).  A forward with several
    outputs, (out1, out2, cache), gets backward(dout1, dout2, cache).  Other inputs (dicts such
    as bn_param or conv_param, ints) are passed through, copied for each call, and not
    differentiated.  dout is drawn at random (``seed``) with out's shape.  mode: "full" (every
    entry) or "fast" (each input along a few random directions, for property tests: see
    ``_fast_report`` for its error model and what it can miss).

    >>> def affine_forward(x, w, b):
    ...     return x @ w + b, (x, w)
    >>> def affine_backward(dout, cache):
    ...     x, w = cache
    ...     return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    >>> rng = np.random.default_rng(0)
    >>> x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    >>> report = check_layer(affine_forward, affine_backward, x, w, b)
    >>> report.passed, report.method, [p.name for p in report.parameters]
    (True, 'complex_step', ['x', 'w', 'b'])
    """
    if not callable(forward) or not callable(backward):
        raise TypeError("`forward` and `backward` must be callables")
    _validate_method(method, mode)
    forward, backward = (fn.fn if isinstance(fn, UserCallable) else fn for fn in (forward, backward))
    name = f"{getattr(forward, '__name__', 'forward')} / {getattr(backward, '__name__', 'backward')}"
    with np.errstate(all="ignore"):
        return check_layer_code(InProcessLayer(forward, backward, inputs), name, method=method,
                                sample=sample, seed=seed, mode=mode)


def check_layer_code(code, name, *, method="auto", sample=None, seed=0, mode="full"):
    """``check_layer`` on a layer's code wherever it runs (``checks.layers``): in this process, or
    in the command's child process."""
    _validate_method(method, mode)
    keep_freed_memory()
    outs = _deterministic_outputs(code)
    # one upstream gradient per output, with a stream of its own: drawn from ``seed`` alone it
    # would equal an input a user drew from the same seed, and a mask taken from dout would then
    # look right
    draw = np.random.default_rng([seed, 0x646F7574])
    douts = [draw.standard_normal(o.shape) for o in outs]
    grads = code.backward(douts)
    positions = code.positions
    if not isinstance(grads, (tuple, list)) or len(grads) != len(positions):
        raise ValueError(f"backward must return {len(positions)} gradient(s), one per float-array "
                         f"input ({', '.join(code.names)}); got "
                         f"{len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__}")
    records = tuple(Parameter(n, "input", None, code.base[n].shape,
                              f"gradient of input {code.arg_names[i]}")
                    for n, i in zip(code.names, positions))
    shape_notes = []
    analytic = _check_shapes(records, {n: np.asarray(g) for n, g in zip(code.names, grads)},
                             "backward", shape_notes)
    again = code.backward(douts, jiggle(code.base, seed))
    noise = rounding_noise(analytic, _check_shapes(
        records, {n: np.asarray(g) for n, g in zip(code.names, again)}, "backward"))
    K = sum(a.size for a in code.base.values()) + sum(o.size for o in outs)
    m = _batch(outs)
    target = Target(code.names, code.base, lambda moves: code.losses(moves, douts), K,
                    _evaluated_at(outs, list(code.base.values()),
                                  lambda: _outputs_unmoved(code, douts, sum(o.size for o in outs))),
                    grouped=lambda moves, grouping: code.losses(moves, douts, grouping),
                    outputs=sum(o.size for o in outs), examples=_examples(outs) if m else None)
    rng = np.random.default_rng(seed)
    sizes = Sizes(float(sum(np.sum(np.abs(o * d)) for o, d in zip(outs, douts))),
                  {n: target.scale(n) for n in code.names}, noise,
                  products(douts, code.base, code.names))
    if mode == "fast":
        return _fast_report(name, records, analytic, directional(target, method, rng,
                                                                 FAST_DIRECTIONS),
                            K, sizes, shape_notes)
    numeric_side = numeric(target, method, sample, rng)
    per_example = _per_example(code, douts, numeric_side, sample, seed, K) if m and m > 1 else None

    def gradient_at(move):
        return _check_shapes(records, dict(zip(code.names, code.backward(douts, move))),
                             "backward")

    return _report(name, records, analytic, numeric_side, K,
                   dict(m=m, per_example=per_example, inputs=code.base), sizes, shape_notes,
                   Nearby(target, gradient_at, numeric_side, seed))


def _evaluated_at(values, inputs, unmoved):
    """The precision the code's evaluations round at: what the dtypes show, or float32 where
    the float64 values it returned (outputs, or loss and gradient) are all float32 numbers and
    moving every input within its float32 rounding leaves them where they were (``unmoved()``,
    evaluated only then): code that casts to float32 inside and hands back float64.  The values
    alone decide nothing (round inputs give float32 numbers in float64 code too), and neither
    does the move alone (a layer saturated everywhere does not move in float64 either); together
    they do: float64 code that a move that small cannot change is saturated everywhere, and its
    non-integer values, exp(-71) say, then carry float64's bits (a float32 number by chance with
    probability 2^-29 each)."""
    shown = precision_of(values + inputs)
    if shown is FLOAT64 and float32_valued(values) and unmoved():
        return PRECISIONS["float32"]
    return shown


def _nudged(arrays):
    """The move of every entry within its float32 rounding (``blackbox._nudge``)."""
    return {n: (np.arange(a.size), (_nudge(a) - np.asarray(a, dtype=float)).ravel())
            for n, a in arrays.items()}


def _outputs_unmoved(code, douts, outputs):
    """Whether the nudge (``_nudged``) leaves every output of the layer bitwise where it was."""
    one = Grouping(np.arange(outputs, dtype=np.int64)[None, :], np.zeros(1, dtype=np.int64),
                   outputs)
    _, sizes = code.losses([_nudged(code.base)], douts, one)
    return not np.any(sizes)


def _batch(outs):
    """The batch size, where every output has the same first axis (None where not)."""
    first = outs[0].shape[0] if outs[0].ndim >= 1 else None
    return first if all(o.ndim >= 1 and o.shape[0] == first for o in outs) else None


def _examples(outs):
    """The example (index along the first axis) of every entry of the outputs, flattened in order."""
    return np.concatenate([np.repeat(np.arange(o.shape[0]), o.size // max(o.shape[0], 1))
                           for o in outs]).astype(np.int64)


def _per_example(code, douts, numeric_side, sample, seed, K):
    """k -> the gradient of example k's own outputs (the batch on the outputs' first axis): read
    from the check's own evaluations where they were split by example, else computed when the
    diagnosis asks."""
    if numeric_side.per_example is not None:
        kept = numeric_side.per_example
        return lambda k: {n: g[k] for n, g in kept.items()}
    cache = {}

    def gradient(k):
        if k not in cache:
            masked = []
            for d in douts:
                mask = np.zeros_like(d)
                mask[k] = d[k]
                masked.append(mask)
            single = Target(code.names, code.base, lambda moves: code.losses(moves, masked), K,
                            numeric_side.precision)
            cache[k] = numeric(single, numeric_side.method, sample,
                               np.random.default_rng(seed)).gradient
        return cache[k]
    return gradient


def _deterministic_outputs(code):
    """The outputs of one call, after checking a second call gives the same and that they are
    finite (the gradient of a NaN is not defined)."""
    outs, again = code.base_outputs(), code.base_outputs()
    if len(again) != len(outs) or not all(a.shape == o.shape and np.array_equal(a, o, equal_nan=True)
                                          for a, o in zip(again, outs)):
        raise ValueError("forward gives a different output each call on the same inputs (a random "
                         "mask without a fixed seed?): fix its seed, e.g. dropout_param['seed']")
    bad = [k for k, o in enumerate(outs) if not np.all(np.isfinite(o))]
    if bad:
        raise ValueError(f"forward's output {bad[0]} holds NaN or inf at these inputs (a variance "
                         "of 0 with eps = 0? an overflow?): its gradient is not defined there")
    return outs
