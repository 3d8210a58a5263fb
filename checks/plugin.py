"""Users' own backward passes: loading ``FILE.py:FUNC`` and turning its output into a gradient.

Loading a plug-in runs the user's Python file, exactly as ``python FILE.py`` would: only check
code you trust.  Whatever the plug-in does wrong (cannot be imported, raises, returns None, the
wrong number of arrays, wrong shapes, NaN) becomes a ``PluginError`` with one line naming it.

Two kinds (shared/CONTRACT.md section 2):

- ``gradient``: ``FUNC(weights, biases, x, y) -> (nabla_w, nabla_b)``, the gradient of C summed
  over the batch, in the network's layout.
- ``step``: ``FUNC(weights, biases, x, y, lr)`` takes one gradient-descent step, in place or by
  returning ``(weights, biases)``.  The gradient is recovered as (before - after) / lr, whatever
  sign convention the code writes.  lr is a power of two chosen from a first probe step so that
  lr |g| >= |w| in every array: then before - after loses nothing to rounding beyond
  eps max(|w|, lr |g|), and dividing by a power of two is exact.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .rounding import FLOAT64, PRECISIONS, Precision

__all__ = ["PluginError", "load_plugin", "impl_gradient", "IMPL_KINDS", "AnalyticGradient",
           "detect_precision"]

IMPL_KINDS = ("gradient", "step")


@dataclass(frozen=True)
class AnalyticGradient:
    """The gradient under test: arrays by name (float64, layout shapes), what produced it, the
    precision it was computed in, and any extra tolerance (the rounding of a step's recovery)."""

    gradient: dict
    target: str
    precision: Precision = FLOAT64
    inputs_rounded: bool = False
    extra: dict = field(default_factory=dict)
    notes: tuple = ()


def detect_precision(arrays):
    """The precision the arrays were computed in: their dtype when narrower than float64, else
    the narrowest precision that holds every value exactly (float32 arithmetic returned as
    float64), judged only when at least two values are not whole numbers."""
    arrays = [np.asarray(a) for a in arrays]
    narrow = [a.dtype for a in arrays if a.dtype.kind == "f" and a.dtype.itemsize < 8]
    if narrow:
        return Precision.of(min(narrow, key=lambda d: d.itemsize))
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    if np.count_nonzero(values != np.round(values)) < 2:
        return FLOAT64
    for name in ("float16", "float32"):
        with np.errstate(over="ignore"):
            if np.array_equal(values.astype(name).astype(float), values):
                return PRECISIONS[name]
    return FLOAT64


class PluginError(ValueError):
    """A user's plug-in that cannot be used; the message names the problem."""


def load_plugin(spec):
    """The function named by ``"path/to/file.py:FUNC"``.  This runs the file."""
    if not isinstance(spec, str) or ":" not in spec:
        raise PluginError(f"--impl must be FILE.py:FUNC; got {spec!r}")
    file, _, func = spec.rpartition(":")
    path = Path(file)
    if not path.is_file():
        raise PluginError(f"plug-in file {file!r} does not exist")
    if not func.isidentifier():
        raise PluginError(f"plug-in function name {func!r} is not a Python identifier")
    module_name = f"gradcheck_plugin_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None:
            raise PluginError(f"plug-in file {file!r} is not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        with contextlib.redirect_stdout(sys.stderr):
            module_spec.loader.exec_module(module)
    except PluginError:
        raise
    except BaseException as e:  # SyntaxError, ImportError, SystemExit, anything the file raises
        raise PluginError(f"cannot import plug-in {file!r}: {_describe(e, path)}") from None
    if not hasattr(module, func):
        names = [n for n in vars(module) if callable(getattr(module, n)) and not n.startswith("_")]
        raise PluginError(f"plug-in {file!r} has no function {func!r} (it defines "
                          f"{', '.join(names) or 'none'})")
    fn = getattr(module, func)
    if not callable(fn):
        raise PluginError(f"plug-in {file}:{func} is not callable")
    fn.__gradcheck_name__ = f"{file}:{func}"
    return fn


def _describe(e, path=None):
    where = ""
    frames = traceback.extract_tb(e.__traceback__)
    if path is not None:
        frames = [fr for fr in frames if Path(fr.filename).resolve() == Path(path).resolve()] or frames
    if frames:
        where = f" (at {Path(frames[-1].filename).name} line {frames[-1].lineno})"
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}{': ' + text if text else ''}{where}"


def _name(fn):
    return getattr(fn, "__gradcheck_name__", getattr(fn, "__name__", repr(fn)))


def _call(fn, *args):
    """fn(*args), with whatever it prints sent to stderr (stdout may be carrying --json)."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return fn(*args)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        code = getattr(fn, "__code__", None)
        raise PluginError(f"{_name(fn)} raised {_describe(e, code.co_filename if code else None)}") from None


def _arrays(fn, value, what, expected, layout):
    """A list of arrays with the expected shapes, or a PluginError naming what is off."""
    if not isinstance(value, (list, tuple)):
        raise PluginError(f"{_name(fn)} returned {what} as {type(value).__name__}; expected a list "
                          f"of {len(expected)} arrays")
    if len(value) != len(expected):
        raise PluginError(f"{_name(fn)} returned {len(value)} arrays for {what}; the network has "
                          f"{len(expected)} ({', '.join(expected)})")
    out = []
    for (name, shape), array in zip(expected.items(), value):
        try:
            a = np.asarray(array)
        except Exception:
            raise PluginError(f"{_name(fn)} returned {name} that is not an array") from None
        if a.dtype.kind not in "biuf":
            raise PluginError(f"{_name(fn)} returned {name} with dtype {a.dtype}; expected real numbers")
        if a.shape != shape:
            hint = ""
            if a.shape == shape[::-1]:
                other = "rows" if layout == "columns" else "columns"
                hint = f" (its transpose: is the code written for the {other} layout?)"
            elif a.size == int(np.prod(shape)):
                hint = f" (same size, different shape: reshape it to {shape})"
            raise PluginError(f"{_name(fn)} returned {name} with shape {a.shape}; the {layout} "
                              f"layout needs {shape}{hint}")
        if not np.all(np.isfinite(a)):
            raise PluginError(f"{_name(fn)} returned {name} containing "
                              f"{'NaN' if np.isnan(a).any() else 'inf'}")
        out.append(a)
    return out


def _expected(net, kind):
    return {f"{kind}{l}": net.shapes[f"{kind}{l}"] for l in range(1, net.L + 1)}


def _copies(net):
    return ([w.copy() for w in net.weights],
            None if not net.bias else [b.copy() for b in net.biases])


def _gradient(net, x, y, fn):
    result = _call(fn, *_copies(net), x.copy(), y.copy())
    if result is None:
        raise PluginError(f"{_name(fn)} returned None; a gradient plug-in returns (nabla_w, nabla_b)")
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise PluginError(f"{_name(fn)} returned {type(result).__name__}"
                          f"{' of length ' + str(len(result)) if isinstance(result, (list, tuple)) else ''}"
                          "; a gradient plug-in returns the pair (nabla_w, nabla_b)")
    nabla_w, nabla_b = result
    ws = _expected(net, "W")
    bs = _expected(net, "b") if net.bias else {}
    if net.bias and isinstance(nabla_w, (list, tuple)) and len(nabla_w) == net.L and all(
            np.shape(a) == s for a, s in zip(nabla_w, bs.values())) and list(bs.values()) != list(
            ws.values()):
        raise PluginError(f"{_name(fn)} returned (nabla_b, nabla_w), Nielsen's order; the contract's "
                          "order is (nabla_w, nabla_b)")
    grads = dict(zip(ws, _arrays(fn, nabla_w, "nabla_w", ws, net.layout)))
    if net.bias:
        if nabla_b is None:
            raise PluginError(f"{_name(fn)} returned nabla_b = None, but the network has biases")
        grads.update(zip(bs, _arrays(fn, nabla_b, "nabla_b", bs, net.layout)))
    return grads


def _step(net, x, y, fn, lr):
    """(after, dtype arrays) of one step from the network's parameters."""
    weights, biases = _copies(net)
    result = _call(fn, weights, biases, x.copy(), y.copy(), lr)
    if result is not None:
        if not isinstance(result, (list, tuple)) or len(result) != 2:
            raise PluginError(f"{_name(fn)} returned {type(result).__name__}; a step plug-in updates "
                              "the arrays in place (returning None) or returns (weights, biases)")
        weights, biases = result
    after = dict(zip(_expected(net, "W"), _arrays(fn, weights, "weights", _expected(net, "W"),
                                                   net.layout)))
    if net.bias:
        if biases is None:
            raise PluginError(f"{_name(fn)} returned biases = None, but the network has biases")
        after.update(zip(_expected(net, "b"), _arrays(fn, biases, "biases", _expected(net, "b"),
                                                       net.layout)))
    return after


def recover_step(before, after, lr, precision):
    """(gradient, rounding) from a step: (before - after) / lr.

    before - after is exact to u max(|w|, |w'|) (Sterbenz where they are close, one rounding
    otherwise) and dividing by the power of two lr is exact; the step itself was rounded once more
    when it was written into w'.
    """
    grads, rounding = {}, {}
    for name in before:
        b = np.asarray(before[name], dtype=float)
        a = np.asarray(after[name], dtype=float)
        grads[name] = (b - a) / lr
        rounding[name] = 2 * precision.eps * np.maximum(np.abs(b), np.abs(a)) / lr
    return grads, rounding


def choose_lr(net, probe):
    """A power of two with lr |g| >= |w| in every array, from a probe's gradient: then the step's
    recovery loses nothing beyond u |g| (see ``recover_step``)."""
    params = net.parameters()
    ratios = [np.max(np.abs(params[n])) / np.max(np.abs(g))
              for n, g in probe.items() if np.max(np.abs(g)) > 0]
    return 2.0 ** int(np.clip(np.ceil(np.log2(max(ratios))), -30, 60)) if ratios else 1.0


def impl_gradient(net, x, y, fn, kind="gradient"):
    """The ``AnalyticGradient`` of a user's function: name -> array, layout shapes."""
    if kind not in IMPL_KINDS:
        raise ValueError(f"`impl_kind` must be 'gradient' or 'step'; got {kind!r}")
    if not callable(fn):
        raise TypeError(f"`impl` must be a function; got {fn!r}")
    target = f"{_name(fn)} ({kind})"
    if kind == "gradient":
        grads = _gradient(net, x, y, fn)
        precision = detect_precision(grads.values())
        return AnalyticGradient({n: np.asarray(g, dtype=float) for n, g in grads.items()}, target,
                                precision, precision is not FLOAT64)
    before = net.parameters()
    after = _step(net, x, y, fn, 1.0)
    probe, _ = recover_step(before, after, 1.0, FLOAT64)
    lr = choose_lr(net, probe)
    after = _step(net, x, y, fn, lr)
    grads, _ = recover_step(before, after, lr, FLOAT64)
    precision = min(detect_precision(after.values()), detect_precision(grads.values()),
                    key=lambda p: p.eps * -1)
    grads, rounding = recover_step(before, after, lr, precision)
    notes = (f"step plug-in run with lr = 2^{int(np.log2(lr))} = {lr:g} (chosen so the gradient "
             "is recovered exactly to rounding)",)
    return AnalyticGradient(grads, target, precision, precision is not FLOAT64, rounding, notes)
