"""Where the gradient under test comes from.

Every source answers the same request, a ``Problem`` (a network and the batch it is checked on),
with an ``AnalyticGradient``:

- ``Catalogue``: a backward pass of the catalogue (``backprop.variants``);
- ``InProcess``: the user's own callable, read as written (``checks.adapt``) in this process:
  the Python API;
- ``InChild`` (``checks.runner``): the user's ``FILE.py:TARGET``, read the same way in a child
  process: the command.

The user's code only ever gives back arrays (``adapt.Answer``); ``gradient_from`` turns them into
the gradient under test here, in the parent: the recovery of a step, the combination of one call
per example, the precision (from the arrays' dtypes), and the tolerance a step's recovery adds.
The check (``checks.check``) only calls ``source.gradient(problem)``.
"""

from __future__ import annotations

import numpy as np

from ..backprop import VARIANTS, BackwardPass
from ..backprop.registry import lookup
from .adapt import CodeReader
from .analytic import IMPL_KINDS, AnalyticGradient
from .diagnose import matching_reduction, name_constant
from .rounding import FLOAT64, Precision

__all__ = ["Catalogue", "InProcess", "source_for", "gradient_from", "combine_examples"]


class Catalogue:
    """A backward pass from the catalogue, by name."""

    def __init__(self, variant="correct", field="variant"):
        self.variant = lookup(VARIANTS, variant, field, kind=BackwardPass)
        self.name = f"variant '{self.variant.name}'"

    def gradient(self, problem):
        v, net = self.variant, problem.net
        try:
            # a wrong variant may overflow (code (2) divides by a (1 - a)): its NaN is a mismatch
            with np.errstate(all="ignore") if v.name != "correct" else np.errstate(under="ignore"):
                nabla_w, nabla_b = v(net, problem.x, problem.y)
        except ValueError as e:  # a shape-changing bug on layers where its shapes cannot fit
            raise ValueError(f"variant '{v.name}' cannot run on layers {list(net.layers)}: "
                             f"{v.summary} ({str(e).splitlines()[0]})") from None
        grads = net.named(nabla_w, nabla_b)
        for p in net.params:
            if grads[p.name].shape != p.shape:
                raise ValueError(f"variant '{v.name}' gives {p.name} the shape "
                                 f"{grads[p.name].shape}; the network needs {p.shape}")
        return AnalyticGradient(grads, target=self.name)

    def close(self):
        """Nothing to end (a source run elsewhere ends its process here)."""


class InProcess:
    """The user's callable, read as written (``checks.adapt``), in this process."""

    def __init__(self, fn, kind=None, spec=None):
        if not callable(fn):
            raise TypeError(f"`impl` must be a function; got {fn!r}")
        if kind is not None:
            lookup({k: k for k in IMPL_KINDS}, kind, "impl_kind")
        self.reader = CodeReader(fn, kind, spec)

    @property
    def name(self):
        return self.reader.name

    def gradient(self, problem):
        answer = self.reader.answer(problem.net, problem.x, problem.y, problem.step_lr)
        return gradient_from(problem, answer, f"{self.name} ({answer.kind})")

    def close(self):
        """Nothing to end."""


def source_for(variant="correct", impl=None, impl_kind=None, impl_spec=None):
    """The source the Python API's arguments name: the user's callable, else a variant."""
    if impl is None:
        if impl_kind is not None or impl_spec is not None:
            raise TypeError("`impl_kind` and `impl_spec` describe `impl`, which is not given")
        return Catalogue(variant)
    return InProcess(impl, impl_kind, impl_spec)


# -- from the code's arrays to the gradient under test ----------------------------------------------
def combine_examples(net, total, m):
    """One example per call: each call's gradient is that of the config's C for a batch of one,
    r(1) grad C_x + 2 l2 W.  The batch's C combines the examples as its reduction says:
    r(m) sum_x grad C_x + 2 l2 W, so the L2 term of the m calls counts once and the rest is
    scaled by r(m) / r(1) (1 for "sum", 1/m for "batch_mean" and "mean")."""
    ratio = net.scale(m) / net.scale(1)
    weights = dict(zip([p.name for p in net.params if p.kind == "weight"], net.weights))
    out = {}
    for name, g in total.items():
        penalty = 2 * net.l2 * weights[name] if net.l2 and name in weights else 0.0
        out[name] = ratio * (g - m * penalty) + penalty
    return out


def precision_of(arrays, storage=()):
    """The narrowest floating-point precision among the arrays' dtypes and the dtypes the code
    keeps its parameters in: the code computed in it (at least in part)."""
    dtypes = [a.dtype for a in arrays if a.dtype.kind == "f"] + [np.dtype(d) for d in storage]
    narrow = [d for d in dtypes if d.kind == "f" and d.itemsize < 8]
    return Precision.of(min(narrow, key=lambda d: d.itemsize)) if narrow else FLOAT64


def float32_valued(arrays, enough=1):
    """Whether float64 values are all float32 numbers, with at least ``enough`` of them
    non-integers (0, 1 or 3.0 are float32 numbers by nature).  Float64 code gives a float32
    number by chance with probability 2^-29 per value, but round inputs give it float32 numbers
    too: evidence only together with a probe of the code (``functions._evaluated_at``)."""
    values = [np.ravel(a) for a in arrays if a.dtype.kind == "f" and a.dtype.itemsize == 8]
    if not values:
        return False
    v = np.concatenate(values)
    v = v[np.isfinite(v)]
    with np.errstate(over="ignore"):
        same = v.astype(np.float32).astype(np.float64) == v
    return bool(np.count_nonzero(v != np.round(v)) >= enough and np.all(same))


def _per_call(answer, names):
    """Each call's gradient as float64 and, for a step, the size its recovery is rounded at:
    (before - after) / lr is exact to u max(|w|, |w'|) / lr (lr a power of two)."""
    parts, sizes = [], []
    before = {n: np.asarray(answer.written[n], dtype=float) for n in names}
    for call in answer.calls:
        arrays = {n: np.asarray(call[n], dtype=float) for n in names}
        if answer.kind == "step":
            parts.append({n: (before[n] - arrays[n]) / answer.lr for n in names})
            sizes.append({n: np.maximum(np.abs(before[n]), np.abs(arrays[n])) / answer.lr
                          for n in names})
        else:
            parts.append(arrays)
    return parts, sizes


def gradient_from(problem, answer, target):
    """The ``AnalyticGradient`` of an ``Answer``: each call's gradient (for a step,
    (before - after) / lr), summed over the calls and, one example per call, combined as the
    reduction combines examples; judged at the precision its dtypes show."""
    net, m = problem.net, problem.m
    precision = precision_of([a for c in answer.calls for a in c.values()], answer.storage)
    parts, sizes = _per_call(answer, net.names)
    total = {n: sum(p[n] for p in parts) for n in net.names}
    rounding = {n: sum(z[n] for z in sizes) for n in net.names} if sizes else {}
    if answer.per_example and m > 1:
        total = combine_examples(net, total, m)
        rounding = {n: net.scale(m) / net.scale(1) * r for n, r in rounding.items()}
    extra = {n: 2 * precision.eps * r for n, r in rounding.items()}
    step = {"lr": answer.lr, "per_example": answer.per_example} if answer.kind == "step" else None
    return AnalyticGradient(total, target, precision, precision is not FLOAT64, extra,
                            tuple(_notes(problem, answer, total)), step,
                            getattr(answer, "trace", None), bool(answer.per_example))


def _notes(problem, answer, total):
    net = problem.net
    notes = []
    if answer.kind == "step" and not answer.watched:
        notes.append(f"step run with lr = 2^{int(np.log2(answer.lr))} = {answer.lr:g} (chosen so "
                     "the gradient is recovered exactly to rounding)")
    if answer.per_example:
        notes.append(f"called once per example ({answer.form}), each from the same parameters, "
                     f"and combined as the reduction \"{net.reduction}\" combines examples")
    bad = [n for n, g in total.items() if not np.all(np.isfinite(g))]
    if bad:
        notes.append(f"the code's {', '.join(bad)} hold NaN or inf (overflow?): those entries fail")
    if answer.loss is not None:
        notes.extend(loss_notes(problem, answer.loss))
    return notes + list(answer.notes)


def loss_notes(problem, loss):
    """Compare the loss the code returned with the config's C; say how they differ."""
    net = problem.net
    want = float(net.cost(problem.x, problem.y))
    if not np.isfinite(loss):
        return [f"the code's loss is {loss}"]
    if abs(loss - want) <= 1e-8 * max(abs(want), 1e-300) + 1e-300:
        return []
    m, n = problem.m, net.layers[-1]
    data = want - net.penalty()
    if abs(loss - data) <= 1e-8 * max(abs(data), 1e-300) and net.l2:
        return [f"the code's loss {loss:.6g} is the config's C without its L2 term"]
    k = (loss - net.penalty()) / data if data else float("nan")
    named = name_constant(k, m, n) if np.isfinite(k) and k else None
    text = f"the code's loss {loss:.6g} differs from the config's C = {want:.6g}"
    if named:
        text += f" (its data term is {named} times the config's"
        r = matching_reduction(net, k, m)
        if r is not None:
            text += f": the code's reduction looks like \"{r}\""
        text += ")"
    return [text]
