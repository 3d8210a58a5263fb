"""Checking any hand-written gradient: a function of parameter arrays, or a CS231n-style layer.

``check_function(f, params)`` checks ``f() -> (loss, grads)`` (or ``loss()`` with ``grad()``),
where f reads the arrays in ``params``; ``check_layer(forward, backward, *inputs)`` checks a
layer's backward pass against its own forward, with a random upstream gradient dout:
L = sum(out * dout), so dL/d(input) is what ``backward(dout, cache)`` returns.

The numeric side runs the user's own forward:

- **complex step** where the code is complex-safe.  A probe decides: a complex evaluation must
  reproduce the real one, raise no ComplexWarning (an in-place float buffer drops the imaginary
  part), and its derivative along a random direction must agree with a central difference
  (``np.abs``, ``np.sign``, comparisons and ``np.maximum`` on complex values break that).
- **Richardson extrapolation** of central differences otherwise, with its error estimate.

A kink in the user's code (a ReLU at 0, a max-pool tie, ``np.abs`` at 0) shows in the finite
differences as a jump in the first derivative that does not shrink with the step; an entry whose
steps cross one is left out and reported, never failed.

Error model.  For the numeric side, the scheme's own bound.  For the code under test there is no
graph to bound from, so the model is stated: each gradient entry is a sum of at most K terms
(K = the number of elements of every input and of the output together), none larger than the
largest entry of its array or of the true gradient S; any order of summation is then accurate to
gamma(K) S, and a correct elementwise function to a few units of its value.  An entry passes when
|analytic - numeric| <= numeric bound + 2 gamma(K) S + 8 u |numeric|, u the unit of the precision
the gradient came back in.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from ..backprop import Parameter

from .differentiate import COMPLEX_STEP, EPS, scheme
from .heap import keep_freed_memory
from .plugin import FLOAT64, Target, detect_precision
from .rounding import gamma
from .verdict import verdict

__all__ = ["check_function", "check_layer"]

METHODS = ("auto", "complex_step", "richardson", "central")


@dataclass(frozen=True)
class _Target:
    """What the numeric side differentiates: loss(arrays) for a dict of named float arrays, and
    the size of the terms the loss is summed from (its rounding is a few eps times that)."""

    names: tuple
    arrays: dict              # name -> the base array (never modified)
    loss: object              # dict name -> array (float or complex) -> scalar
    magnitude: object = None  # dict name -> array -> sum of |terms| of the loss (None: |loss|)
    terms: int = 1            # how many terms the loss sums


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


# -- probing complex safety -----------------------------------------------------------------------
def _complex_safe(target, rng):
    """Whether a complex evaluation reproduces the real one and its directional derivative."""
    base = {n: np.array(a, dtype=float) for n, a in target.arrays.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            real = complex(target.loss(base))
            zero = complex(target.loss({n: a.astype(complex) for n, a in base.items()}))
            direction = {n: rng.standard_normal(a.shape) for n, a in base.items()}
            h = COMPLEX_STEP
            stepped = complex(target.loss({n: a + 1j * h * direction[n] for n, a in base.items()}))
    except Exception:  # a TypeError from float(), a ComplexWarning, anything: not complex-safe
        return False
    if real.imag != 0 or abs(zero.real - real.real) > 64 * EPS * max(abs(real.real), 1e-300):
        return False
    cs = stepped.imag / h
    if cs == 0 and all(not np.any(d) for d in direction.values()):
        return True
    fd = scheme("richardson")
    t = 2.0 ** np.round(np.log2(EPS ** 0.2))
    values = [float(np.real(target.loss({n: a + c * t * direction[n] for n, a in base.items()})))
              for c in fd.offsets]
    est, err = fd.combine(values, t, 64 * EPS * max(abs(v) for v in values))
    return abs(cs - est) <= 10 * err + 1e-8 * max(abs(cs), abs(est))


# -- the numeric gradient ---------------------------------------------------------------------------
def _numeric(target, method, sample, rng):
    """(gradient, bound, skipped, evaluations, method used) per array."""
    grads, bounds, skipped = {}, {}, {}
    used = method
    if method == "auto":
        used = "complex_step" if _complex_safe(target, rng) else "richardson"
    s = scheme(used)
    evaluations = 0
    base = {n: np.array(a, dtype=complex if s.complex else float) for n, a in target.arrays.items()}
    f0 = float(np.real(target.loss({n: np.real(a).copy() for n, a in base.items()})))
    real_base = {n: np.real(a).copy() for n, a in base.items()}
    size = abs(f0) if target.magnitude is None else float(target.magnitude(real_base))
    for name in target.names:
        a0 = base[name]
        est = np.zeros(a0.shape)
        err = np.zeros(a0.shape)
        skip = np.zeros(a0.shape, dtype=bool)
        entries = np.arange(a0.size)
        if sample is not None and sample < a0.size:
            entries = np.sort(rng.choice(a0.size, size=sample, replace=False))
            skip[...] = True
            skip.flat[entries] = False
        for k in entries:
            h = float(s.step(np.array(abs(a0.flat[k].real))))
            values = []
            for c in s.offsets:
                if c == 0:
                    values.append(f0)
                    continue
                moved = dict(base)
                moved[name] = a0.copy()
                moved[name].flat[k] += c * h
                value = target.loss(moved)
                values.append(value if s.complex else float(np.real(value)))
                evaluations += 1
            rounding = 2 * gamma(target.terms + 8, EPS) * max(
                size, max(abs(np.real(v)) for v in values))
            e, b = s.combine(values, h, rounding)
            est.flat[k], err.flat[k] = float(np.real(e)), float(b)
            if not s.complex and _kinked(values, f0, h, s, rounding):
                skip.flat[k] = True
        grads[name], bounds[name], skipped[name] = est, err, skip
    return grads, bounds, skipped, evaluations, used


def _kinked(values, f0, h, s, rounding):
    """A jump in the first derivative within the steps.  The gap between the one-sided
    differences at step t, D+(t) - D-(t), is t f'' for a smooth function, growing with t; across
    a kink it is the jump itself, the same at every t past the kink.  So compare each step's gap
    with twice the previous one's (offsets +-h, +-2h, +-4h, ...)."""
    gaps = []
    for k in range(len(values) // 2):
        t = 2 ** k * h
        gaps.append((values[2 * k] - f0) / t - (f0 - values[2 * k + 1]) / t)
    for k in range(1, len(gaps)):
        noise = 8 * rounding / (2 ** (k - 1) * h)
        if abs(gaps[k] - 2 * gaps[k - 1]) > noise + 0.25 * (abs(gaps[k]) + 2 * abs(gaps[k - 1])):
            return True
    return False


# -- the analytic side -------------------------------------------------------------------------------
def _tolerance(params, analytic, numeric, bounds, K, precision):
    u = precision.eps
    tol = {}
    for p in params:
        S = max(float(np.max(np.abs(numeric[p.name]), initial=0.0)),
                float(np.nanmax(np.abs(np.where(np.isfinite(analytic[p.name]),
                                                analytic[p.name], 0)), initial=0.0)))
        tol[p.name] = bounds[p.name] + 2 * gamma(K, u) * S + 8 * u * np.abs(numeric[p.name])
        tol[p.name] = tol[p.name] + 2 * gamma(K, EPS) * S  # the numeric side's own sums
    return tol


def _report(target_name, params, analytic, numeric, bounds, skipped, evaluations, method, K,
            m=None, per_example=None, inputs=None):
    precision = detect_precision(analytic.values())
    analytic = {n: np.asarray(a, dtype=float) for n, a in analytic.items()}
    tol = _tolerance(params, analytic, numeric, bounds, K, precision)
    notes = []
    skipped_count = sum(int(s.sum()) for s in skipped.values())
    if skipped_count and method != "complex_step":
        notes.append(f"{skipped_count} entries not compared: a kink (max, abs, a comparison) lies "
                     "within their finite-difference steps, where the gradient is not defined")
    if precision is not FLOAT64:
        notes.append(f"the gradient came back in {precision} and was judged at its rounding")
    return verdict(params, analytic, numeric, tol, skipped, notes=notes,
                   evidence=dict(m=m, per_example=per_example, inputs=inputs),
                   target=target_name, method=method, mode="full", evaluations=evaluations,
                   network=", ".join(f"{p.name} {p.shape}" for p in params),
                   precision=precision.name)


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
    if isinstance(params, dict):
        if not isinstance(grads, dict):
            if len(names) == 1 and isinstance(grads, np.ndarray):
                return {names[0]: grads}
            raise TypeError(f"{what} must be a dict with the keys of params; got "
                            f"{type(grads).__name__}")
        missing = [k for k in params if k not in grads]
        if missing:
            raise ValueError(f"{what} has no gradient for {', '.join(map(str, missing))}")
        return {str(k): grads[k] for k in params}
    if isinstance(grads, np.ndarray) and len(names) == 1:
        return {names[0]: grads}
    if not isinstance(grads, (list, tuple)) or len(grads) != len(names):
        raise TypeError(f"{what} must be a list of {len(names)} arrays in the order of params")
    return dict(zip(names, grads))


def _check_shapes(params, grads, what):
    out = {}
    for p in params:
        g = np.asarray(grads[p.name])
        if g.dtype.kind not in "biuf":
            raise TypeError(f"{what} gives {p.name} with dtype {g.dtype}")
        if g.shape != p.shape:
            hint = " (its transpose)" if g.shape == p.shape[::-1] else ""
            raise ValueError(f"{what} gives {p.name} the shape {g.shape}; it needs {p.shape}{hint}")
        out[p.name] = g
    return out


def check_function(f, params, grad=None, *, method="auto", sample=None, seed=0):
    """Check the gradient of a scalar function of the arrays in ``params``.

    f: ``f() -> (loss, grads)``, or, with ``grad``, ``f() -> loss`` and ``grad() -> grads``.
    params: a dict name -> float array, or a list of float arrays, that f reads.  The checker
      perturbs them in place and always restores them exactly, even on error.
    grads: the same keys (or order) as params; a single array where params holds one.
    method: "auto" (complex step where f is complex-safe, else Richardson), "complex_step",
      "richardson" or "central".  sample: check this many random entries per array.

    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> report = check_function(lambda: ((W ** 2).sum(), {"W": 2 * W}), {"W": W})
    >>> report.passed, report.method, report.parameters[0].name
    (True, 'richardson', 'W')
    """
    if not callable(f):
        raise TypeError(f"`f` must be callable; got {f!r}")
    if grad is not None and not callable(grad):
        raise TypeError(f"`grad` must be callable; got {grad!r}")
    names, arrays = _named(params)
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
    keys = list(params) if isinstance(params, dict) else list(range(len(names)))
    live = {n: params[k] for n, k in zip(names, keys)} if not isinstance(params, np.ndarray) \
        else {names[0]: params}
    saved = {n: np.array(a, copy=True) for n, a in live.items()}
    keep_freed_memory()
    records = tuple(Parameter(n, "input", None, saved[n].shape) for n in names)

    def put(values):
        """Set the arrays: real parts in place (f may close over them); a complex value also
        replaces the container's entry (f may read through params, which can carry it)."""
        for n, k in zip(names, keys):
            live[n][...] = np.real(values[n])
            if not isinstance(params, np.ndarray):
                params[k] = values[n] if np.iscomplexobj(values[n]) else live[n]

    def loss_at(values):
        put(values)
        return _scalar(f() if grad is not None else _first(f()), "f")

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
        analytic = _check_shapes(records, analytic, "the gradient")
        target = _Target(names, saved, loss_at, None, sum(a.size for a in saved.values()))
        rng = np.random.default_rng(seed)
        if method == "complex_step" and not _complex_safe(target, rng):
            raise ValueError("f is not complex-safe (a complex step through it does not give its "
                             "derivative): use method='auto' or 'richardson'")
        numeric, bounds, skipped, evaluations, used = _numeric(target, method, sample, rng)
    finally:
        for n, k in zip(names, keys):
            live[n][...] = saved[n]
            if not isinstance(params, np.ndarray):
                params[k] = live[n]
    return _report(getattr(f, "__name__", "f"), records, analytic, numeric, bounds, skipped,
                   evaluations, used, target.terms)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def check_layer(forward, backward, *inputs, method="auto", sample=None, seed=0):
    """Check a layer's backward pass against its forward (CS231n style).

    forward(*inputs) -> out or (out, cache); backward(dout, cache) -> one gradient per float-array
    input, in order (a tuple, or the array alone where there is one).  A forward with several
    outputs, (out1, out2, cache), gets backward(dout1, dout2, cache).  Other inputs (dicts such
    as bn_param or conv_param, ints) are passed through, copied for each call, and not
    differentiated.  dout is drawn at random (``seed``) with out's shape.

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
    forward, backward = (getattr(fn, "fn", fn) if isinstance(fn, Target) else fn
                         for fn in (forward, backward))
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
    arg_names, positions, base, names, run = _layer_call(forward, inputs)
    outs, cache = _deterministic_output(run, {n: base[i] for n, i in zip(names, positions)})
    # one upstream gradient per output, with a stream of its own: drawn from ``seed`` alone it
    # would equal an input a user drew from the same seed, and a mask taken from dout would then
    # look right
    rng = np.random.default_rng(seed)
    draw = np.random.default_rng([seed, 0x646F7574])
    douts = [draw.standard_normal(o.shape) for o in outs]
    grads = backward(*[d.copy() for d in douts], cache)
    if isinstance(grads, np.ndarray):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(positions):
        raise ValueError(f"backward must return {len(positions)} gradient(s), one per float-array "
                         f"input ({', '.join(names)}); got "
                         f"{len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__}")
    records = tuple(Parameter(n, "input", None, base[i].shape, f"gradient of input {arg_names[i]}")
                    for n, i in zip(names, positions))
    analytic = _check_shapes(records, {n: np.asarray(g) for n, g in zip(names, grads)},
                             "backward")

    def loss(values, weights=douts):
        return sum(np.sum(o * w) for o, w in zip(_outputs(run(values))[0], weights))

    def magnitude(values):
        return sum(np.sum(np.abs(o * w)) for o, w in zip(_outputs(run(values))[0], douts))

    arrays = {n: base[i] for n, i in zip(names, positions)}
    K = sum(a.size for a in arrays.values()) + sum(o.size for o in outs)
    target = _Target(names, arrays, loss, magnitude, K)
    numeric, bounds, skipped, evaluations, used = _numeric(target, method, sample, rng)
    m = outs[0].shape[0] if outs[0].ndim >= 1 and all(
        o.ndim >= 1 and o.shape[0] == outs[0].shape[0] for o in outs) else None
    cache_k = {}

    def per_example(k):
        """The gradient of example k's own outputs (the batch on the outputs' first axis)."""
        if k not in cache_k:
            masked = []
            for d in douts:
                mask = np.zeros_like(d)
                mask[k] = d[k]
                masked.append(mask)
            single = _Target(names, arrays, lambda values: loss(values, masked), magnitude, K)
            cache_k[k] = _numeric(single, used, sample, np.random.default_rng(seed))[0]
        return cache_k[k]

    return _report(f"{getattr(forward, '__name__', 'forward')} / "
                   f"{getattr(backward, '__name__', 'backward')}", records, analytic, numeric,
                   bounds, skipped, evaluations, used, K, m=m,
                   per_example=per_example if m and m > 1 else None, inputs=arrays)


def _layer_call(forward, inputs):
    """(argument names, positions of the float arrays, copies of the inputs, their names, run):
    run(values) calls forward with fresh copies, the float arrays taken from ``values``."""
    arg_names = _argument_names(forward, len(inputs))
    positions = [i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if not positions:
        raise ValueError("check_layer needs at least one float-array input to differentiate")
    for i in positions:
        _validate_array(arg_names[i], inputs[i])
    base = [np.array(v, copy=True) if i in positions else v for i, v in enumerate(inputs)]
    names = tuple(arg_names[i] for i in positions)

    def run(values):
        args = [values[names[positions.index(i)]].copy() if i in positions else copy.deepcopy(v)
                for i, v in enumerate(base)]
        return forward(*args)
    return arg_names, positions, base, names, run


def _outputs(result):
    """(outputs, cache) from what forward returned: ``out``, ``(out, cache)``, or several outputs
    and a cache, ``(next_h, next_c, cache)`` as an LSTM step gives (backward then takes
    ``(dnext_h, dnext_c, cache)``)."""
    if isinstance(result, tuple) and len(result) >= 2:
        *outs, cache = result
        if all(isinstance(o, np.ndarray) or np.isscalar(o) for o in outs):
            return [np.asarray(o) for o in outs], cache
    return [np.asarray(result)], None


def _deterministic_output(run, values):
    """(outputs, cache) of one call, after checking a second call gives the same outputs."""
    outs, cache = _outputs(run(values))
    again, _ = _outputs(run(values))
    if len(again) != len(outs) or not all(a.shape == o.shape and np.array_equal(a, o)
                                          for a, o in zip(again, outs)):
        raise ValueError("forward gives a different output each call on the same inputs (a random "
                         "mask without a fixed seed?): fix its seed, e.g. dropout_param['seed']")
    return outs, cache


def _argument_names(forward, count):
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(count)]
