"""What is wrong, in plain words: findings fitted from the numbers, not looked up.

The diagnosis is a list of small rules.  Each per-array rule looks at one failing array and says,
when the numbers fit, how it is wrong: exactly k times the truth (naming k when it is a
meaningful constant), zero, transposed, off by the L2 term, one example's gradient alone, signs
flipped in some rows, or a single entry, row or column wrong.  Whole-check rules then say what
the arrays show together: one factor for all (a cost convention: the config key that describes
the code), where the error starts in backward order and whether the arrays below inherit it, and
an exact match with the catalogue.  A finding is made only when the fit holds within the same
tolerances the check used, so code (2) is named only when the catalogue's ``code2`` matches.

The per-example gradients come from the complex step whatever ``--method`` was, so the diagnosis
is the same under every method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..backprop import REDUCTIONS

__all__ = ["Finding", "Evidence", "diagnose", "ARRAY_RULES"]


@dataclass(frozen=True)
class Finding:
    """One thing the diagnosis found: about ``array`` (None: the whole check), of ``kind``, with
    the ``constant`` it names (``"2"``, ``"1/m"``), and the sentence a user reads."""

    array: str | None
    kind: str
    text: str
    constant: str | None = None
    where: object = None      # the ``checks.lines.Line`` of the user's file that computed it

    def to_dict(self):
        return {"array": self.array, "kind": self.kind, "constant": self.constant,
                "text": self.text, "where": None if self.where is None else self.where.to_dict()}


@dataclass
class Evidence:
    """What the rules look at.  ``net`` is None for a function or a layer (no network facts)."""

    params: tuple
    analytic: dict
    numeric: dict
    tolerance: dict
    skipped: dict
    net: object = None
    m: int | None = None
    per_example: object = None   # k -> {name: gradient of example k's own term}, or None
    catalogue: object = None     # () -> (variant, gradients) pairs to match, or None
    inputs: dict = None          # a layer's inputs by gradient name ("dx" -> x), or None
    mistakes: object = None      # () -> (placed mistake, gradients) pairs to match, or None
    lines: object = None         # where in the user's file (check.CodeLines), or None
    findings: list = field(default_factory=list)

    def __post_init__(self):
        self.analytic = {n: np.asarray(a, dtype=float) for n, a in self.analytic.items()}
        self.bad = {}
        for p in self.params:
            with np.errstate(invalid="ignore"):
                self.bad[p.name] = ~(np.abs(self.analytic[p.name] - self.numeric[p.name])
                                     <= self.tolerance[p.name]) & ~self.skipped[p.name]
        self.failing = [p for p in self.params if self.bad[p.name].any()]

    def fits(self, name, candidate, slack=1.0):
        """The analytic array equals ``candidate`` within the check's tolerance (times slack)."""
        an, tol, skip = self.analytic[name], self.tolerance[name], self.skipped[name]
        candidate = np.asarray(candidate, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.abs(an - candidate) <= slack * tol + 1e-9 * np.abs(candidate)
            same = (an == candidate) | (np.isnan(an) & np.isnan(candidate))  # the same inf or NaN
        return bool(np.all(close | same | skip))


# -- constants ----------------------------------------------------------------------------------
def constants(m, n_out):
    """Meaningful factors and how to say them: -1, 2, 1/2, 4, 1/4, m, 1/m, n_L, 1/(m n_L), ..."""
    named = {-1.0: "-1", 2.0: "2", 0.5: "1/2", 4.0: "4", 0.25: "1/4", 3.0: "3", 1 / 3: "1/3"}
    if m and m > 1:
        named.update({float(m): f"m = {m}", 1.0 / m: f"1/m = 1/{m}", -1.0 / m: f"-1/m = -1/{m}"})
    if n_out and n_out > 1:
        named.setdefault(float(n_out), f"n_L = {n_out}")
        named.setdefault(1.0 / n_out, f"1/n_L = 1/{n_out}")
        if m and m > 1:
            named.setdefault(1.0 / (m * n_out), f"1/(m n_L) = 1/{m * n_out}")
            named.setdefault(float(m * n_out), f"m n_L = {m * n_out}")
    return named


def name_constant(k, m=None, n_out=None):
    """``"2"``, ``"1/m = 1/10"``; a small fraction; or None for an arbitrary number."""
    if k is None or not np.isfinite(k):
        return None
    for value, text in constants(m, n_out).items():
        if abs(k - value) <= 1e-6 * abs(value):
            return text
    frac = Fraction(k).limit_denominator(16)
    if frac != 0 and abs(float(frac) - k) <= 1e-9 * abs(k):
        return str(frac)
    return None


def fit_factor(an, num):
    """k minimising ||an - k num||, or None where num is zero or an is not finite."""
    norm = float(np.vdot(num, num))
    if not norm > 0 or not np.all(np.isfinite(an)):
        return None
    return float(np.vdot(an, num)) / norm


# -- per-array rules: (evidence, record) -> Finding or None ---------------------------------------
def rule_zero(ev, p):
    an = ev.analytic[p.name]
    if np.all(an == 0) and np.any(np.abs(ev.numeric[p.name]) > ev.tolerance[p.name]):
        return Finding(p.name, "zero", f"{p.name} is zero: its gradient is never written (or "
                       "written to a copy), while the true one is not", "0")
    return None


def rule_factor(ev, p):
    k = fit_factor(ev.analytic[p.name], ev.numeric[p.name])
    if k is None or abs(k - 1) < 1e-9 or k == 0:
        return None
    slack = max(1.0, abs(k))
    if not ev.fits(p.name, k * ev.numeric[p.name], slack):
        return None
    n_out = ev.net.layers[-1] if ev.net is not None else None
    named = name_constant(k, ev.m, n_out)
    if named is None and np.count_nonzero(ev.numeric[p.name]) < 3:
        return None  # any k fits one or two entries: only a meaningful constant says something
    if named == "-1":
        return Finding(p.name, "factor", f"{p.name} is the true gradient with its sign flipped "
                       "(the ascent direction: y - a where a - y is meant)", "-1")
    what = f"exactly {named} times" if named else f"{digits(k)} times"
    return Finding(p.name, "factor", f"{p.name} is {what} the true gradient", named or digits(k))


def digits(k):
    """k to 6 significant digits, or as many more as it takes to tell it from the round number
    those show: a gradient 1.0000001 times the truth is not "1 times" it."""
    rough = float(f"{k:.2g}")
    for d in (6, 9, 12, 17):
        text = f"{k:.{d}g}"
        if abs(float(text) - k) <= 0.1 * abs(k - rough):
            return text
    return text


def _l2_term(ev, p):
    """The L2 term of a weight array's true gradient, 2 l2 W (0 elsewhere)."""
    if ev.net is None or not ev.net.l2 or p.kind != "weight":
        return 0.0
    return 2 * ev.net.l2 * ev.net.parameters()[p.name]


def rule_data_factor(ev, p):
    """A weight array whose data term (the gradient less its L2 term) is k times the truth
    while its L2 term is right: the reduction applied to the loss's gradient but not ... or the
    other way round (CS231n's dscores not divided by N)."""
    reg = _l2_term(ev, p)
    if np.isscalar(reg):
        return None
    data = ev.numeric[p.name] - reg
    k = fit_factor(ev.analytic[p.name] - reg, data)
    if k is None or abs(k - 1) < 1e-9 or k == 0 or not ev.fits(p.name, k * data + reg,
                                                               max(1.0, abs(k))):
        return None
    named = name_constant(k, ev.m, ev.net.layers[-1])
    if named is None:
        return None
    return Finding(p.name, "data_factor", f"{p.name}'s data term is exactly {named} times the "
                   "true one, its L2 term 2 l2 W right", named)


def _value(ev, p):
    """The array itself (a network's parameter, a function's or layer's input), or None."""
    if ev.net is not None:
        return ev.net.parameters().get(p.name)
    if ev.inputs is not None and p.name in ev.inputs:
        return np.asarray(ev.inputs[p.name], dtype=float)
    return None


def rule_l2(ev, p):
    W = _value(ev, p)
    if W is None or W.shape != ev.analytic[p.name].shape or (
            ev.net is not None and p.kind not in ("weight", "bias")):
        return None
    if ev.net is None:
        return _extra_multiple(ev, p, W) or _scaled_data_term(ev, p, W)
    if p.kind == "bias":
        return _l2_on_bias(ev, p, W)
    return _l2_on_weight(ev, p, W)


def _l2_on_bias(ev, p, W):
    """A bias whose gradient carries c times itself: weight decay applied to the biases too."""
    diff = ev.analytic[p.name] - ev.numeric[p.name]
    c = fit_factor(diff, W)
    if c is None or abs(c) < 1e-12 or np.count_nonzero(W) < 2 or not ev.fits(
            p.name, ev.numeric[p.name] + c * W, 2.0):
        return None
    also = (f" (c = {c / (2 * ev.net.l2):.6g} times 2 l2)" if ev.net.l2 else "")
    return Finding(p.name, "l2_bias", f"{p.name} carries an extra {c:.6g} times itself{also}: a "
                   "weight decay applied to the biases too, where the L2 term covers the "
                   "weights only", f"{c:.6g}")


def _l2_on_weight(ev, p, W):
    """A weight whose gradient carries c W: the L2 term missing, with the wrong factor, or one
    the config does not declare."""
    diff = ev.analytic[p.name] - ev.numeric[p.name]
    c = fit_factor(diff, W)
    if c is None or abs(c) < 1e-12 or not ev.fits(p.name, ev.numeric[p.name] + c * W, 2.0):
        return None
    l2 = ev.net.l2
    if not l2 and np.count_nonzero(W) < 3:
        return None  # any c fits one or two entries
    with np.errstate(over="ignore", divide="ignore"):
        ratio = c / (2 * l2) if l2 else np.nan
    if not np.isfinite(ratio):
        return Finding(p.name, "l2", f"{p.name} carries an extra {c:.6g} W: an L2 term with "
                       f"l2 = {c / 2:.6g} that the config does not declare (set l2 = {c / 2:.6g} "
                       "if the code's cost has it)", f"{c:.6g}")
    if abs(ratio + 1) < 1e-6:
        return Finding(p.name, "l2", f"{p.name} misses the L2 term 2 l2 W exactly: the code's "
                       "cost has no L2 term (set l2 = 0 to check it as written) or it forgot "
                       "to add 2 * l2 * W to the gradient", "-1")
    named = name_constant(ratio + 1) or f"{ratio + 1:.6g}"
    return Finding(p.name, "l2", f"{p.name} carries the L2 term {named} times over (its "
                   f"derivative is 2 l2 W = {2 * l2:g} W): check the factor of l2 in the "
                   "gradient and in the config", named)


def _extra_multiple(ev, p, W):
    """A function's array whose gradient carries an extra c times the array: an L2 term's
    derivative with the wrong factor (2 reg W for reg ||W||^2 written reg W, or 0.5 reg ...)."""
    diff = ev.analytic[p.name] - ev.numeric[p.name]
    c = fit_factor(diff, W)
    if c is None or abs(c) < 1e-12 or np.count_nonzero(W) < 3 or not ev.fits(
            p.name, ev.numeric[p.name] + c * W, 2.0):
        return None
    return Finding(p.name, "l2", f"{p.name}'s gradient carries an extra {c:.6g} times {p.name} "
                   "itself: the derivative of a regularization term with the wrong factor (of "
                   "reg ||W||^2 it is 2 reg W) or one the loss does not have", f"{c:.6g}")


def _scaled_data_term(ev, p, W):
    """A function's array whose gradient is k times the true one plus c times the array: with
    a regularization term reg ||W||^2 in the loss, the true gradient is d + 2 reg W, and code
    whose data term d is k times over (CS231n's dscores not divided by N) while its
    regularization term is right gives k (d + 2 reg W) + (1 - k) 2 reg W.  Fitted by least
    squares on [numeric, W]; said where k is a round number other than 1 and it fits."""
    num = ev.numeric[p.name]
    if np.count_nonzero(W) < 3 or np.count_nonzero(num) < 3:
        return None
    A = np.stack([num.ravel(), W.ravel()], axis=1)
    if not np.all(np.isfinite(A)) or not np.all(np.isfinite(ev.analytic[p.name])):
        return None
    (k, c), *_ = np.linalg.lstsq(A, ev.analytic[p.name].ravel(), rcond=None)
    named = name_constant(k)
    if named is None or named in ("1", "-1") or abs(c) < 1e-12 or not ev.fits(
            p.name, k * num + c * W, 2.0):
        return None
    reg = c / (2 * (1 - k))
    return Finding(p.name, "data_factor", f"{p.name}'s data term is exactly {named} times the "
                   f"true one, while its regularization term (2 reg {p.name}, reg = {reg:.6g}) is "
                   "right: a data gradient scaled twice or not at all (dscores not divided by "
                   "N?)", named)


def rule_transposed(ev, p):
    an, num = ev.analytic[p.name], ev.numeric[p.name]
    if an.ndim != 2 or an.shape[0] != an.shape[1] or an.shape[0] < 2:
        return None
    if ev.fits(p.name, num.T):
        return Finding(p.name, "transposed", f"{p.name} is the true gradient transposed: "
                       "delta @ a.T written as a @ delta.T, or the other layout's array")
    return None


def rule_one_example(ev, p):
    if ev.per_example is None or not ev.m or ev.m < 2:
        return None
    scale = ev.net.scale(ev.m) if ev.net is not None else 1.0
    middle = list(range(1, ev.m - 1)) if ev.net is not None else []  # cheap for networks only
    for k in sorted({0, ev.m - 1}) + middle:
        single = ev.per_example(k)[p.name]
        for factor in {1.0, scale}:
            if ev.fits(p.name, factor * single):
                which = ("the first example's" if k == 0 else "the last example's"
                         if k == ev.m - 1 else f"example {k}'s")
                return Finding(p.name, "one_example", f"{p.name} is {which} gradient alone, not "
                               "the sum over the batch (a loop that assigns instead of adding, "
                               "or one column taken)", str(k))
    return None


def rule_rows_flipped(ev, p):
    an, num = ev.analytic[p.name], ev.numeric[p.name]
    if an.ndim != 2 or an.shape[0] < 2:
        return None
    tol = ev.tolerance[p.name]
    same = np.all(np.abs(an - num) <= tol, axis=1)
    flipped = np.all(np.abs(an + num) <= tol, axis=1) & np.any(np.abs(num) > tol, axis=1)
    if flipped.any() and np.all(same | flipped) and not flipped.all():
        rows = ", ".join(map(str, np.flatnonzero(flipped & ~same)))
        return Finding(p.name, "rows_flipped", f"{p.name} has its signs flipped in row(s) {rows} "
                       "and is right elsewhere")
    return None


def rule_few_entries(ev, p):
    bad = ev.bad[p.name]
    count = int(bad.sum())
    if count == 0 or bad.size < 2:
        return None
    if count == 1:
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Finding(p.name, "entry", f"only {p.name}[{', '.join(map(str, index))}] is wrong; "
                       "every other entry matches (an index slip: the wrong input or unit used "
                       "for this one entry?)", None)
    if bad.ndim == 2 and bad.shape[0] > 1 and bad.shape[1] > 1:
        rows, cols = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
        if len(rows) == 1:
            return Finding(p.name, "row", f"only row {rows[0]} of {p.name} is wrong "
                           f"({count} of {bad.shape[1]} entries); the other rows match")
        if len(cols) == 1:
            return Finding(p.name, "column", f"only column {cols[0]} of {p.name} is wrong "
                           f"({count} of {bad.shape[0]} entries); the other columns match")
    return None


def rule_constant_along_batch(ev, p):
    """A layer input whose error is the same for every example: a term through a batch sum."""
    if ev.net is not None or p.kind != "input":
        return None
    diff = ev.analytic[p.name] - ev.numeric[p.name]
    if diff.ndim < 2 or diff.shape[0] < 2:
        return None
    spread = np.abs(diff - diff.mean(axis=0, keepdims=True))
    if np.all(spread <= ev.tolerance[p.name]):
        return Finding(p.name, "batch_term", f"{p.name} is off by the same amount for every "
                       "example: it misses a term that reaches every example through a sum over "
                       "the batch (a batch mean or variance)")
    return None


def rule_masked(ev, p):
    """Wrong exactly where the code's gradient is zero (or the true one is): a wrong mask."""
    bad = ev.bad[p.name]
    if bad.sum() < 2 or bad.all():
        return None
    an, num = ev.analytic[p.name], ev.numeric[p.name]
    if np.all(an[bad] == 0):
        return Finding(p.name, "masked", f"{p.name} is zero in {int(bad.sum())} of {bad.size} "
                       "entries where the true gradient is not, and right elsewhere: a mask taken "
                       "from the wrong array (ReLU's backward masks with its input, x > 0)")
    zeroed = bad & (an == 0)
    passed = bad & (np.abs(num) <= ev.tolerance[p.name])
    if np.all((zeroed | passed)[bad]):
        if not zeroed.any():
            return Finding(p.name, "masked", f"{p.name} is nonzero in {int(bad.sum())} of "
                           f"{bad.size} entries where the true gradient is zero, and right "
                           "elsewhere: a mask missing or taken from the wrong array")
        return Finding(p.name, "masked", f"{p.name} has the wrong mask: zero in "
                       f"{int(zeroed.sum())} entries where the true gradient is not, nonzero in "
                       f"{int(passed.sum())} where it is zero, right elsewhere (a mask taken from "
                       "the wrong array: ReLU's backward masks with its input, x > 0)")
    return None


def rule_batch_statistics(ev, p):
    """A layer input whose error, feature by feature, is a + b x: the terms through the batch
    mean and variance (batchnorm's backward with the statistics treated as constants)."""
    if ev.inputs is None or p.name not in ev.inputs:
        return None
    x = np.asarray(ev.inputs[p.name], dtype=float)
    diff = ev.analytic[p.name] - ev.numeric[p.name]
    if x.shape != diff.shape or x.ndim < 2 or x.shape[0] < 3:
        return None
    X, D = x.reshape(x.shape[0], -1), diff.reshape(x.shape[0], -1)
    T = ev.tolerance[p.name].reshape(D.shape)
    for j in range(X.shape[1]):
        A = np.stack([np.ones(X.shape[0]), X[:, j]], axis=1)
        coef, *_ = np.linalg.lstsq(A, D[:, j], rcond=None)
        if np.any(np.abs(A @ coef - D[:, j]) > 2 * T[:, j]):
            return None
    constant = np.all(np.abs(D - D.mean(axis=0)) <= T)
    what = "the batch mean" if constant else "the batch mean and variance"
    return Finding(p.name, "batch_statistics", f"{p.name} misses the terms through {what}: its "
                   "error, feature by feature, is " + ("the same for every example" if constant
                                                       else "a + b x") +
                   ", as when the backward pass treats the batch statistics as constants")


def rule_shifted(ev, p):
    """The true gradient moved by one place along an axis: an off-by-one window or index."""
    an, num, tol = ev.analytic[p.name], ev.numeric[p.name], ev.tolerance[p.name]
    for axis in range(an.ndim):
        if an.shape[axis] < 3:
            continue
        for step in (1, -1):
            moved = np.zeros_like(num)
            src = [slice(None)] * num.ndim
            dst = [slice(None)] * num.ndim
            src[axis] = slice(0, -1) if step == 1 else slice(1, None)
            dst[axis] = slice(1, None) if step == 1 else slice(0, -1)
            moved[tuple(dst)] = num[tuple(src)]
            if ev.fits(p.name, moved, 2.0) and not ev.fits(p.name, num):
                way = "forward" if step == 1 else "back"
                return Finding(p.name, "shifted", f"{p.name} is the true gradient moved one "
                               f"place {way} along axis {axis}: an off-by-one window or index "
                               "(i + 1 where i is meant, or a window that starts one late)",
                               str(axis))
    return None


def rule_axis_factor(ev, p):
    """The true gradient times a factor that depends on the index along one axis only (per
    feature, per channel): a scale of that axis missing or doubled (gamma, 1/std, a count)."""
    an, num, tol = ev.analytic[p.name], ev.numeric[p.name], ev.tolerance[p.name]
    if an.ndim < 2:
        return None
    for axis in range(an.ndim):
        n = an.shape[axis]
        if n < 2 or an.size // n < 2:
            continue
        A, N = np.moveaxis(an, axis, 0).reshape(n, -1), np.moveaxis(num, axis, 0).reshape(n, -1)
        c = np.array([fit_factor(A[j], N[j]) if np.any(N[j]) else 1.0 for j in range(n)])
        if np.any([v is None for v in c]) or np.allclose(c, c[0], rtol=1e-6):
            continue
        c = c.astype(float)
        if not ev.fits(p.name, np.moveaxis((c[:, None] * N).reshape(np.moveaxis(num, axis, 0)
                                                                    .shape), 0, axis), 2.0):
            continue
        return Finding(p.name, "axis_factor", f"{p.name} is the true gradient times a factor "
                       f"that changes only along axis {axis} ({_range(c)}): a per-"
                       f"{'feature' if axis == an.ndim - 1 else 'index'} scale missing, doubled "
                       "or inverted" + _which_input(ev, p, c), str(axis))
    return None


def _range(c):
    return f"from {np.min(c):.3g} to {np.max(c):.3g}"


def _which_input(ev, p, c):
    """", exactly 1/gamma": when the factor along the axis is an input array or its reciprocal."""
    for name, v in (ev.inputs or {}).items():
        v = np.asarray(v, dtype=float).ravel()
        if name == p.name or v.shape != c.shape:
            continue
        for how, cand in ((f"{name}: a factor {name} too many", v),
                          (f"1/{name}: the factor {name} is missing",
                           1 / np.where(v == 0, np.nan, v))):
            if np.allclose(c, cand, rtol=1e-6, equal_nan=False):
                return f", exactly {how}"
    return ""


def rule_magnitude(ev, p):
    """What is left, said as it is: the wrong entries' sign and size against the truth (for a
    function or layer; a network's is located by layer instead)."""
    if ev.net is not None:
        return None
    bad = ev.bad[p.name]
    an, num = ev.analytic[p.name][bad], ev.numeric[p.name][bad]
    if an.size < 2 or not np.all(np.isfinite(an)) or not np.all(num != 0):
        return None
    ratio = an / num
    flipped = int(np.count_nonzero(ratio < 0))
    where = f"{an.size} of {bad.size} entries wrong"
    if np.allclose(ratio, ratio[0], rtol=1e-6):
        k = name_constant(float(ratio[0]), ev.m) or f"{ratio[0]:.6g}"
        return Finding(p.name, "magnitude", f"{an.size} of the {bad.size} entries of {p.name} are "
                       f"each exactly {k} times their true value, the others right: a term or "
                       "factor that only those entries take (a count, a margin, a special case)",
                       k)
    if flipped == 0:
        return Finding(p.name, "magnitude", f"{p.name} has the right sign in every entry but the "
                       f"wrong size ({where}, {_range(ratio)} times the true value, no single "
                       "factor): a derivative written wrong, or a factor that varies per entry")
    return Finding(p.name, "magnitude", f"{p.name} has the wrong sign in {flipped} of its "
                   f"{an.size} wrong entries ({where}, {_range(ratio)} times the true value): a "
                   "term with the wrong sign, or one missing")


def rule_marginal(ev, p):
    """Off by no more than a few times the tolerance: at the level of the rounding bound itself,
    where no pattern means anything (the rules below would fit rounding noise)."""
    bad = ev.bad[p.name]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(ev.analytic[p.name] - ev.numeric[p.name])[bad] / ev.tolerance[p.name][bad]
    if not ratio.size or not np.all(np.isfinite(ratio)) or ratio.max() > MARGINAL:
        return None
    return Finding(p.name, "marginal", f"{p.name} is off by at most {ratio.max():.2g} times its "
                   f"tolerance, in {ratio.size} of {bad.size} entries: at the level of the rounding "
                   "bound itself, which may be rounding the error model did not foresee (a "
                   "saturated unit, terms that cancel) rather than a mistake; try other inputs, "
                   "or float64", f"{ratio.max():.2g}")


#: an error within this many times the tolerance is "marginal": no pattern is read into it
MARGINAL = 4.0


#: The per-array rules, most specific first; the first that fits an array names its error.
ARRAY_RULES = (rule_marginal, rule_zero, rule_factor, rule_data_factor, rule_l2, rule_transposed, rule_one_example,
               rule_rows_flipped, rule_batch_statistics, rule_constant_along_batch, rule_masked,
               rule_shifted, rule_axis_factor, rule_few_entries, rule_magnitude)


# -- whole-check rules -------------------------------------------------------------------------
def matching_reduction(net, k, m):
    """The reduction whose factor r(m) is k times the config's, or None: code whose arrays are
    all k times the truth has that cost convention."""
    n = net.layers[-1]
    want = k * net.reduction.factor(m, n)
    return next((r for r in REDUCTIONS.values()
                 if abs(want - r.factor(m, n)) <= 1e-6 * r.factor(m, n)), None)


def cost_convention(ev, k):
    """The config's reduction that would make the code right, when every array is k times off."""
    if ev.net is None or not ev.m:
        return ""
    r = matching_reduction(ev.net, k, ev.m)
    if r is None or r == ev.net.reduction:
        return ""
    return (f" The code's cost {r.words}, so it is right for reduction = \"{r}\": set that in "
            f"the config (now \"{ev.net.reduction}\") to check it as written.")


def whole_factor(ev, per_array):
    """Every array (the failing ones, with no other finding) off by one and the same factor (of
    the data term alone where the L2 term is right)."""
    factors = [f for f in per_array.values() if f is not None and f.kind in ("factor",
                                                                           "data_factor")]
    if len(factors) != len(ev.params) or len({f.constant for f in factors}) != 1:
        return None
    first = factors[0]
    reg = {p.name: _l2_term(ev, p) for p in ev.params}
    k = fit_factor(np.concatenate([(ev.analytic[p.name] - reg[p.name]).ravel() for p in ev.params]),
                   np.concatenate([(ev.numeric[p.name] - reg[p.name]).ravel() for p in ev.params]))
    hint = cost_convention(ev, k) if k is not None else ""
    if any(f.kind == "data_factor" for f in factors):
        return Finding(None, "factor", f"Every array's data term is exactly {first.constant} "
                       "times the true gradient, while the L2 term 2 l2 W is right: the "
                       "reduction is applied to the L2 term but not to the loss's gradient (or "
                       "the other way round)." + hint, first.constant)
    if first.constant == "-1":
        text = ("Every array is the true gradient with its sign flipped: the code returns the "
                "ascent direction (y - a where a - y is meant); a step with += would be right, a "
                "gradient is not.")
    else:
        text = f"Every array is exactly {first.constant} times the true gradient." + hint
        if not hint and first.constant == "2":
            text += (" The output error of C = sum (a - y)^2, 2 (a - y), used with the loss "
                     "1/2 sum (a - y)^2? (drop the 2, or use the loss squared_error)")
        elif not hint and first.constant == "1/2":
            text += (" The output error a - y used with the loss sum (a - y)^2, whose derivative "
                     "is 2 (a - y)?")
    return Finding(None, "factor", text, first.constant)


def _step(ev, layer, wrong):
    """What the wrong arrays of the first wrong layer say about which equation is at fault."""
    kinds = {p.kind for p in ev.params if p.name in wrong and p.layer == layer}
    has_bias = any(p.kind == "bias" and p.layer == layer for p in ev.params)
    if kinds == {"bias"}:
        return (f"only b{layer} is wrong there: BP3, dC/db^{layer} is delta^{layer} summed over the "
                "batch")
    if kinds == {"weight"} and has_bias:
        return (f"b{layer} is right, so delta^{layer} is right: BP4, dC/dW^{layer} = delta^{layer} "
                f"(a^{layer - 1})^T, has the wrong a^{layer - 1} or the wrong product")
    if layer == ev.net.L:
        return "delta^L itself is wrong: BP1, delta^L = dC/dz^L"
    return (f"delta^{layer} is wrong while delta^{layer + 1} is right: the step of the recurrence "
            f"into layer {layer}, BP2: delta^{layer} = ((W^{layer + 1})^T delta^{layer + 1}) * "
            f"sigma'(z^{layer})")


BP1_TEXT = ("Every array is wrong, the output layer's too: look at BP1, the output error "
            "delta^L = dC/dz^L (a - y for cross-entropy with its softmax or sigmoid output, "
            "(a - y) * sigma'(z^L) for 1/2 sum (a - y)^2).")


def _below(ev, first, layers, wrong):
    """What the layers below the first wrong one show: the error inherited, independent errors
    in some arrays, or nothing wrong."""
    below = [l for l in layers if l < first]
    wrong_below = [l for l in below if wrong[l]]
    whole = all(len(wrong[l]) == sum(p.layer == l for p in ev.params) for l in below)
    if below and len(wrong_below) == len(below) and whole:
        return " Every layer below it is wrong too: inherited through the recurrence (BP2)."
    if wrong_below:
        names = ", ".join(n for l in wrong_below for n in wrong[l])
        return f" {names} below it are wrong too, but not every array below: independent errors."
    return " Every layer below it is right." if below else ""


def _first_wrong(ev):
    """(the first wrong layer in backward order, failing arrays by layer, layers high to low)."""
    failing = {p.name for p in ev.failing}
    layers = sorted({p.layer for p in ev.params}, reverse=True)
    wrong = {l: [p.name for p in ev.params if p.layer == l and p.name in failing] for l in layers}
    return next(l for l in layers if wrong[l]), wrong, layers


def _where(ev, first, wrong):
    above = [p.name for p in ev.params if p.layer > first]
    text = f"The first wrong layer in backward order is layer {first} ({', '.join(wrong[first])})"
    return text + (f", with the layers above right ({', '.join(above)})" if above else "")


def localize(ev, short=False):
    """The first wrong layer in backward order, the equation it points to, and whether the layers
    below inherit its error (``short``: the first wrong layer alone, beside a named mistake)."""
    if ev.net is None or not ev.failing:
        return None
    first, wrong, layers = _first_wrong(ev)
    if short:
        return Finding(None, "localization", _where(ev, first, wrong), str(first))
    if first == ev.net.L and all(p.name in wrong[first] or p.layer != first for p in ev.params) \
            and sum(map(len, wrong.values())) == len(ev.params):
        return Finding(None, "localization", BP1_TEXT, str(first))
    text = _where(ev, first, wrong) + f": {_step(ev, first, {p.name for p in ev.failing})}."
    return Finding(None, "localization", text + _below(ev, first, layers, wrong), str(first))


def named_mistake(ev):
    """The placed mistake (``backprop.mistakes``: this step, into this layer, written this way)
    whose gradient the code's matches in every array; the first in the list's order."""
    if ev.mistakes is None or not ev.failing:
        return None
    for mistake, grads in ev.mistakes():
        if all(np.shape(grads[p.name]) == ev.analytic[p.name].shape for p in ev.params) and all(
                ev.fits(p.name, grads[p.name]) for p in ev.params):
            line = ev.lines.of_mistake(mistake) if ev.lines is not None else None
            words = mistake.words(ev.net)
            text = f"{line}: {_with_this(words)}" if line else _capital(words)
            return Finding(None, "mistake", text, mistake.key, line)
    return None


def _with_this(words):
    """The mistake's words after the line that makes it: "delta^2 lacks ..." reads as it is."""
    return words


def _capital(text):
    """The sentence with a capital, unless it starts with a symbol (dC/dW, delta^2, sigma')."""
    first = text.split(" ", 1)[0]
    return text if any(c in first for c in "^/'") else text[:1].upper() + text[1:]


def factor_below(ev, per_array):
    """The arrays of layer l and every layer below it off by one and the same factor, the
    layers above right: a factor entered the recurrence at delta^l."""
    if ev.net is None:
        return None
    failing = {p.name for p in ev.failing}
    first = max(p.layer for p in ev.failing)
    below = {p.name for p in ev.params if p.layer <= first}
    found = [per_array.get(n) for n in below]
    if failing != below or first == ev.net.L or any(f is None or f.kind != "factor" for f in found):
        return None
    if len({f.constant for f in found}) != 1:
        return None
    k = found[0].constant
    return Finding(None, "factor", f"delta^{first} is exactly {k} times the true one, and every "
                   f"layer below inherits it (the layers above are right): a factor {k} enters "
                   f"the step of the recurrence into layer {first} (BP2)", k)


def catalogue_match(ev):
    if ev.catalogue is None:
        return None
    for variant, grads in ev.catalogue():
        if all(np.shape(grads[p.name]) == ev.analytic[p.name].shape for p in ev.params) and all(
                ev.fits(p.name, grads[p.name]) for p in ev.params):
            return Finding(None, "catalogue", f"It matches the catalogue's `{variant.name}` exactly "
                           f"(the line `{variant.line}`): {variant.summary}", variant.name)
    return None


def computed_at(ev):
    """Where the first wrong array (in backward order, for a network) was computed in the
    user's file, when no finding names a line of its own."""
    if ev.lines is None or not ev.failing:
        return None
    first = max(ev.failing, key=lambda p: p.layer or 0) if ev.net is not None else ev.failing[0]
    line = ev.lines.of_array(first.name, ev.analytic[first.name])
    if line is None:
        return None
    return Finding(first.name, "line", f"{first.name} is computed at {line}", None, line)


def _grouped(findings):
    """One sentence for arrays with the same finding: "W1, b1 are each ..." or "b1, b2: each
    carries ..." (a per-array text starts with the array's name)."""
    groups = {}
    for f in findings:
        rest = f.text[len(f.array):] if f.array and f.text.startswith(f.array) else None
        groups.setdefault((f.kind, f.constant, rest), []).append(f)
    out = []
    for (kind, constant, rest), members in groups.items():
        if len(members) == 1 or rest is None:
            out.extend(members)
            continue
        names = ", ".join(f.array for f in members)
        text = f"{names} are each {rest[4:]}" if rest.startswith(" is ") else f"{names}: each{rest}"
        out.append(Finding(names, kind, text, constant))
    return out


def whole_pattern(ev, per_array):
    """Every array with the same non-factor finding (one example's gradient, say)."""
    found = [per_array.get(p.name) for p in ev.params]
    if any(f is None for f in found) or len({(f.kind, f.constant) for f in found}) != 1:
        return None
    first = found[0]
    if first.kind == "one_example":
        which = first.text[len(first.array) + 4:].split(" gradient alone")[0]
        return Finding(None, "one_example", f"Every array is {which} gradient alone: the "
                       "per-example loop overwrites nabla_w and nabla_b instead of adding to them "
                       "(nabla += delta_nabla).", first.constant)
    return None


def _whole(ev, per_array):
    """A finding about the arrays together, or None."""
    whole = named_mistake(ev)
    if whole is None and len(ev.failing) == len(ev.params) > 1:
        whole = whole_factor(ev, per_array) or whole_pattern(ev, per_array)
    return whole or factor_below(ev, per_array)


def diagnose(ev):
    """(text, findings) for a failed check; ("", ()) when nothing failed."""
    if not ev.failing:
        return "", ()
    per_array = {p.name: next((f for rule in ARRAY_RULES if (f := rule(ev, p)) is not None), None)
                 for p in ev.failing}
    whole = _whole(ev, per_array)
    findings = [whole] if whole else _grouped([f for f in per_array.values() if f is not None])
    findings += _localization(ev, whole, per_array)
    if not any(f.where for f in findings):
        findings += [f for f in (computed_at(ev),) if f]
    findings += [f for f in (catalogue_match(ev),) if f]
    findings = findings or [_unknown(ev)]
    text = " ".join(f.text if f.text.endswith((".", "?")) else f.text + "." for f in findings)
    return text, tuple(findings)


def _localization(ev, whole, per_array):
    """The localization that goes with the findings: in full where some array has no finding,
    short beside a named mistake, none otherwise."""
    if whole is None and any(f is None for f in per_array.values()):
        return [f for f in (localize(ev),) if f]
    if whole is not None and whole.kind == "mistake":
        return [f for f in (localize(ev, short=True),) if f]
    return []


def _unknown(ev):
    names = ", ".join(p.name for p in ev.failing)
    verb = "differs" if len(ev.failing) == 1 else "differ"
    return Finding(None, "unknown", f"{names} {verb} from the numeric gradient in no pattern the "
                   "diagnosis knows; compare the worst entries above.")
