"""``gradcheck``: the gradient under test against the numeric one, for a network and a batch.

``gradcheck`` validates its arguments once, builds the ``Problem`` (the network and the batch,
with everything derived from them) and the gradient's source, and hands both to ``check``, which
the command calls too.  ``check`` never asks where the gradient comes from: every source answers
``source.gradient(problem)`` (``checks.sources``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..backprop import VARIANTS
from ..backprop.mistakes import placed_mistakes
from ..backprop.registry import lookup
from .compare import ESTIMATE, KINK, UNDEFINED, compare_directional
from .differentiate import scheme
from .kinks import find_kinks
from .lines import first_line, returned_line
from .numeric import directional, numeric_gradient
from .problem import Problem
from .report import Report
from .rounding import FLOAT64, PRECISIONS
from .sources import combine_examples, source_for
from .verdict import precision_notes, verdict

__all__ = ["gradcheck", "check", "MODES", "describe_network"]

FLOAT32 = PRECISIONS["float32"]
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

    >>> from gradcheck.backprop import Network
    >>> net = Network([2, 3, 1], seed=0)
    >>> x, y = np.ones((2, 4)), np.zeros((1, 4))
    >>> gradcheck(net, x, y).passed, gradcheck(net, x, y, variant="code2").passed
    (True, False)
    """
    problem = Problem.checked(net, x, y)
    source = source_for(variant, impl, impl_kind, impl_spec)
    lookup(MODES, mode, "mode")
    return check(problem, source, scheme(method), mode, seed, progress)


def check(problem, source, method, mode="full", seed=0, progress=None):
    """The ``Report`` of ``source``'s gradient on ``problem`` against the numeric gradient by the
    scheme ``method`` (a ``Scheme``), in ``mode`` ("full" or "directional").

    The gradient is judged at the precision its arrays' dtypes show; where that fails at float64,
    and the code is seen to ignore what float32 cannot hold (``computes_in_float32``), it is
    judged again at float32's rounding, and the report says so."""
    if not problem.finite_loss:
        raise ValueError(f"the loss {problem.net.loss.name} is not finite on this batch (an output "
                         "at 0 or 1 exactly?): its gradient is not defined there")
    analytic = source.gradient(problem)
    report = judge(problem, source, analytic, method, mode, seed, progress)
    if not report.passed and analytic.precision is FLOAT64 and computes_in_float32(
            problem, source, analytic):
        float32 = replace(analytic, precision=FLOAT32, inputs_rounded=True, notes=analytic.notes + (
            "the code's gradient does not move when its inputs move within float32's rounding: "
            "it computes in float32, and was judged so",))
        report = judge(problem, source, float32, method, mode, seed, progress)
    return report


def computes_in_float32(problem, source, analytic):
    """Whether the code's gradient ignores what float32 cannot hold: moved within their float32
    rounding (``Problem.nudged``), its parameters, inputs and targets move the true gradient (by
    about 2^-25 of itself), while the code's gradient stays put (moves less than 1/64 as much:
    code that rounds its inputs to float32 computes the very same numbers, up to the rounding of
    a step's recovery).  Code that computes in float64, even on copies of its parameters of its
    own, moves with the inputs it does use.  Judged array by array: every array whose true
    gradient moves must stay put, and at least one must move.  Where nothing can move (every
    value zero or one), the same is asked on the network with generic weights and inputs
    (``Problem.generic``).  This is evidence about the code, not about its values: round
    numbers that float32 holds exactly prove nothing."""
    seen = _stays_put(problem, source, analytic)
    if not seen:
        generic = problem.generic()
        seen = _stays_put(generic, source, _gradient_or_none(source, generic))
    return seen == {True}


def _gradient_or_none(source, problem):
    try:
        return source.gradient(problem)
    except (ValueError, TypeError):
        return None


def _stays_put(problem, source, analytic):
    """{True} where the code's gradient stays put in every array the nudge moves the true
    gradient of, {False} where it moves too in some, set() where nothing could be seen.  An
    array moves visibly when the true gradient's move exceeds its rounding and, for a step,
    64 times the resolution of the step's recovery."""
    if analytic is None:
        return set()
    near = problem.nudged()
    moved = _gradient_or_none(source, near)
    if moved is None:
        return set()
    seen = set()
    for n in problem.net.names:
        true_move = _largest(near.true_gradient[n] - problem.true_gradient[n])
        floor = max(1024 * FLOAT64.eps * _largest(problem.true_gradient[n]),
                    64 * _largest(analytic.extra.get(n, 0.0)), 64 * _largest(moved.extra.get(n, 0.0)))
        if not true_move > floor:
            continue  # this array hardly moves: no evidence either way
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: it moved, as far as we know
            code_move = _largest(np.asarray(moved.gradient[n], dtype=float) - analytic.gradient[n])
        seen.add(code_move <= true_move / 64)
    return seen


def _largest(a):
    """The largest |entry|: a norm with no squares to underflow."""
    return float(np.max(np.abs(a), initial=0.0))


def judge(problem, source, analytic, method, mode, seed, progress):
    """The report of ``analytic`` at the precision it carries."""
    problem, analytic, undefined, notes = gradient_under_test(problem, source, analytic)
    net = problem.net
    bounds = analytic_bounds(problem, analytic)
    facts = dict(target=analytic.target, method=method.name, network=describe_network(net, problem.m),
                 precision=analytic.precision.name)
    if mode == "directional":
        d = directional(problem, bounds, method, seed=seed, exclude=undefined)
        checks = compare_directional(net.params, analytic.gradient, d)
        failing = [p.name for p in checks if not p.passed]
        diagnosis = "" if not failing else (
            f"{', '.join(failing)} disagree with the numeric derivative along a random direction; "
            "run the full check for the entries and a diagnosis.")
        return Report(passed=not failing, max_relative_error=max(p.max_relative_error for p in checks),
                      parameters=checks, mode=mode, evaluations=d.evaluations,
                      diagnosis=diagnosis, notes=tuple(notes), **facts)
    numeric = numeric_gradient(problem, method, progress=progress)
    reasons = numeric.reasons
    if undefined is not None:
        reasons = {n: np.where(undefined[n] & (reasons[n] == 0), UNDEFINED, reasons[n])
                   for n in net.names}
    tolerance = {n: bounds[n] + numeric.error_bound[n] for n in net.names}
    if not method.complex:
        reasons = confirmed_by_complex_step(problem, analytic, numeric, tolerance, bounds, reasons)
    notes += numeric_notes(net, numeric, reasons, tolerance, analytic.precision, notes)
    evidence = dict(net=net, m=problem.m, per_example=per_example_gradients(problem),
                    catalogue=catalogue(problem), mistakes=mistakes(problem, analytic),
                    lines=CodeLines(problem, analytic) if analytic.trace is not None else None)
    return verdict(net.params, analytic.gradient, numeric.gradient, tolerance, reasons,
                   notes=notes, evidence=evidence, mode=mode, evaluations=numeric.evaluations,
                   **facts)


def confirmed_by_complex_step(problem, analytic, numeric, tolerance, bounds, reasons):
    """A finite difference's truncation comes from an estimate (a second step, a third
    derivative), not a bound, so an entry it finds wrong is held to the exact complex step as
    well: where the complex step agrees with the code within its rounding, the entry is left
    undecided (the estimate did not hold) instead of wrong."""
    out = {}
    for n in problem.net.names:
        a = np.asarray(analytic.gradient[n], dtype=float)
        with np.errstate(invalid="ignore"):
            wrong = ~(np.abs(a - numeric.gradient[n]) <= tolerance[n]) & (reasons[n] == 0)
            if wrong.any():
                exact_tol = bounds[n] + problem.rounding()[n] + problem.complex_step_floor[n]
                agrees = np.abs(a - problem.true_gradient[n]) <= exact_tol
                out[n] = np.where(wrong & agrees, ESTIMATE, reasons[n]).astype(np.uint8)
            else:
                out[n] = reasons[n]
    return out


def gradient_under_test(problem, source, analytic):
    """(problem, gradient, undefined entries, notes): examples that put a ReLU unit at its kink,
    for the precision the gradient is judged at, are dropped when others remain (and the
    gradient taken again without them); when every example does, the entries through such a
    unit are left out (``undefined``, else None)."""
    kinks = find_kinks(problem, analytic.precision, analytic.inputs_rounded)
    notes, undefined = [], None
    if kinks.some:
        notes.append(f"example(s) {', '.join(map(str, np.flatnonzero(kinks.examples)))} put a ReLU "
                     "unit at its kink, where the gradient is not defined: checked on the others")
        problem = problem.subset(~kinks.examples)
        again = source.gradient(problem)
        if again.precision.eps < analytic.precision.eps:  # keep the precision it is judged at
            again = replace(again, precision=analytic.precision,
                            inputs_rounded=analytic.inputs_rounded, notes=analytic.notes)
        analytic = again
    elif kinks.every:
        undefined = kinks.undefined(problem)
        count = sum(int(u.sum()) for u in undefined.values())
        notes.append(f"every example puts a ReLU unit at its kink: the {count} entries whose "
                     "gradient passes through one are not defined there and were not compared")
    return problem, analytic, undefined, notes + list(analytic.notes)


def analytic_bounds(problem, analytic):
    """How far a correct gradient computed as the code did can be from the exact one: the
    rounding bound at its precision, plus a step's recovery."""
    bounds = problem.rounding(analytic.precision, analytic.inputs_rounded)
    if analytic.extra:
        bounds = {n: e + analytic.extra.get(n, 0.0) for n, e in bounds.items()}
    return bounds


def numeric_notes(net, numeric, reasons, tolerance, precision, notes):
    """What a reader of the report should know about what was compared."""
    out = []
    count = sum(int(np.count_nonzero(r == KINK)) for r in reasons.values())
    if count and not any("kink: the" in n for n in notes):
        out.append(f"{count} entries skipped: their finite-difference steps carry a unit across "
                   "a kink (the complex step never does)")
    out += precision_notes(net.params, numeric.gradient, tolerance, precision)
    zero = [p.name for p in net.params if not np.any(numeric.gradient[p.name])]
    if zero:
        out.append(f"the true gradient of {', '.join(zero)} is zero on this batch (inactive "
                   "units?), so the check says little about them: try another seed or batch")
    return out


# -- what the diagnosis may use ----------------------------------------------------------------
def per_example_gradients(problem):
    """k -> the gradient of example k's own loss term C_k (unreduced), by the complex step."""
    net = problem.net

    def gradient(k):
        f, out = problem.forward, {}
        for l in range(1, net.L + 1):
            d = problem.unit_derivative(l)[:, k:k + 1]
            out[f"W{l}"] = net.from_columns(d @ f.a[l - 1][:, k:k + 1].T)
            if net.bias:
                out[f"b{l}"] = net.from_columns(d)
        return out
    return gradient


def catalogue(problem):
    """() -> the catalogue's wrong variants that really differ from the correct pass on this
    network (code (2) on one weight layer is the correct pass, and may never be named)."""
    net, x, y = problem.net, problem.x, problem.y

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


#: the mistakes that compute a sigma' of their own, wrong: its line is the wrong one
PRIME_SLIPS = ("prime_of_a", "a_form_on_z", "tanh_one_minus_a", "mask_inverted")


class CodeLines:
    """Where in the user's file the wrong quantity was computed (``checks.lines``), from the
    trace of the code's first call: the data that call saw (the first example, for code called
    once per example; else the batch), the passes run on it the way the code ran them."""

    def __init__(self, problem, analytic):
        net = self.net = problem.net
        self.trace = analytic.trace
        one = analytic.per_example or bool(analytic.step and analytic.step["per_example"])
        xc, yc = net.to_columns(problem.x), net.to_columns(problem.y)
        if one:
            xc, yc = xc[:, :1], yc[:, :1]
        self.x, self.y = net.from_columns(xc), net.from_columns(yc)
        # a delta kept summed or already reduced, and written a - y or y - a (the ascent
        # direction, for code that updates with +=)
        self.scales = sorted({k * s for s in (1.0, float(net.scale(xc.shape[1]))) for k in (1, -1)})
        self.rtol = 1e-6 if analytic.precision is FLOAT64 else 1e-3

    def _quantities(self, backward_pass, l):
        """(delta^l, the vector carried into layer l before sigma', dC/dW^l) as this pass
        computes them, each at every scale the code may keep it at, and the sigma' it took."""
        carried = {}
        with np.errstate(all="ignore"):
            nabla_w, _, deltas = backward_pass.run(self.net, self.x, self.y, carried)
        scaled = [s * deltas[l - 1] for s in self.scales]
        into = [s * carried[l] for s in self.scales] if l in carried else []
        prime = [carried["prime", l]] if ("prime", l) in carried else []
        return scaled, into, prime, nabla_w[l - 1]

    def of_mistake(self, mistake):
        """The ``Line`` that computed the first quantity ``mistake`` makes wrong: a delta or
        carried vector of its first layer, or its dC/dW for a slip in BP4; or None.  A value
        the correct pass computes as a delta or a gradient there is never the wrong line (the
        correct pass's carried vector may be: it is what code without sigma' keeps as delta)."""
        l = mistake.first_layer(self.net)
        try:
            delta, into, prime, dW = self._quantities(mistake.backward_pass(), l)
            right_delta, right_into, right_prime, right_dW = self._quantities(
                VARIANTS["correct"], l)
        except Exception:  # noqa: BLE001 - a pass that cannot run here names no line
            return None
        written = prime if mistake.kind in PRIME_SLIPS else []   # a sigma' written wrong
        wanted = [dW] if mistake.equation == "BP4" else written + delta + into
        unwanted = right_delta + right_prime + [right_dW] + (
            [] if mistake.kind == "no_prime" else right_into)
        return first_line(self.trace, wanted, unwanted, self.rtol)

    def of_array(self, name, value):
        """The ``Line`` that computed the array the code gave as ``name``, or None."""
        return returned_line(self.trace, name, np.shape(value), None, self.rtol)


def mistakes(problem, analytic):
    """() -> (mistake, gradient) for every placed mistake (``backprop.mistakes``) whose gradient
    differs from the true one on this batch, computed the way the code computes: for step code
    within each call (one example, or the batch), with the step's own learning rate for stale
    weights."""
    net = problem.net
    step = analytic.step

    def gradient_of(backward_pass):
        if step is None or not step["per_example"]:
            return net.named(*backward_pass(net, problem.x, problem.y))
        xc, yc = net.to_columns(problem.x), net.to_columns(problem.y)
        total = None
        for k in range(problem.m):
            g = net.named(*backward_pass(net, net.from_columns(xc[:, k:k + 1]),
                                         net.from_columns(yc[:, k:k + 1])))
            total = g if total is None else {n: total[n] + g[n] for n in g}
        return combine_examples(net, total, problem.m)

    def candidates():
        right = problem.true_gradient  # asked for here: only a diagnosis needs it
        for mistake in placed_mistakes(net, None if step is None else step["lr"]):
            try:
                with np.errstate(all="ignore"):
                    grads = gradient_of(mistake.backward_pass())
            except Exception:  # noqa: BLE001 - a mistake that cannot be written here
                continue
            with np.errstate(invalid="ignore"):
                same = all(np.allclose(grads[n], right[n], rtol=1e-9, atol=0) for n in net.names)
            if not same:
                yield mistake, grads
    return candidates