"""The numeric side for code gradcheck can only evaluate: a function of arrays, or a layer.

A ``Target`` is the scalar the check differentiates, L(arrays), evaluated at sparse
perturbations of its base arrays, ``{name: (flat indices, values)}``, many at a time (so a
child process answers a batch of points in one request).  Each evaluation also gives the size
of the terms L is summed from, whose rounding bounds the evaluation's.  A layer's target can also
split each evaluation by a grouping of its outputs (``grouped``), which is what lets one
evaluation serve many entries.

- **The evaluation's precision.**  Code that computes in float32 rounds every evaluation at
  float32's unit: the dtypes say so (float32 outputs or inputs), or a probe does (moved within
  float32's rounding, the inputs leave L exactly where it was).  Steps and rounding bounds are
  taken at that unit.
- **The steps** are eps^k times each entry's size, or its array's (root-mean-square) size where
  the entry is smaller: an input of scale 1e-3 is stepped by 1e-3 of itself, not by 1e-3.
- **Complex step** where the code is complex-safe.  A probe decides: a complex evaluation must
  reproduce the real one, raise no ComplexWarning (an in-place float buffer drops the imaginary
  part), and its derivative along a random direction must agree closely with a Richardson
  estimate that is itself reliable (``np.abs``, ``np.var``, ``np.sign`` and comparisons on
  complex values break the first; a reference that crosses a kink decides nothing, and the
  code is then not taken as complex-safe).
- **Richardson extrapolation** of central differences otherwise, with its error estimate.
- **Many entries per evaluation** on a layer (``checks.structure``): entries whose outputs do not
  overlap (one example's rows, a weight's output columns, a convolution's distant pixels) move
  together and each is read from the outputs it reaches, L restricted to them.  For each entry
  that is the very function a step of its own evaluates: L_k(t) = sum over its outputs of
  (out(x + t e_k) - out0) dout, the other outputs being unmoved.  The structure is found by
  probes and checked twice: in every grouped evaluation no output outside the members' own may
  change, and the directional derivative along a random direction (the complex probe's) must
  equal the sum of the entries read times the direction.  An input that fails either is
  evaluated again one entry at a time.  The same evaluations, split by example too, give each
  example's own gradient, which a failing check's diagnosis asks for.

Finite differences assume smoothness the code may not have.  An entry whose steps cross a kink
(a ReLU at 0, a max-pool tie, ``np.abs`` at 0: a jump in the first derivative) or a jump in the
second derivative (a Huber loss at |r| = 1) is left undecided, never failed: the second
differences S(t) = (f(t) + f(-t) - 2 f(0)) / t^2 of a smooth function change by a factor 4 from
one step to the next (S(t) = f'' + t^2 f''''/12 + ...); across either jump they do not.  The
tests run on all entries at once (arrays of values), after the evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compare import KINK, NOT_SAMPLED
from .differentiate import COMPLEX_STEP, EPS, TINY, scheme
from .layers import Grouping
from .rounding import FLOAT64, PRECISIONS, gamma
from .structure import decode, probe_count, probes_for

__all__ = ["Target", "numeric", "complex_safe", "NumericResult", "evaluation_precision",
           "reference", "smooth_across", "directional", "Directions"]

#: points per batch of evaluations
BATCH = 256
FLOAT32 = PRECISIONS["float32"]
#: times an entry whose steps are not smooth across is tried again with steps 8 times smaller
RETRIES = 2
#: times an entry whose bound is mostly rounding is tried again with steps 8 times larger
GROWTHS = 2
#: a bound over this fraction of its estimate is loose enough to try other steps (code that
#: computes in float32; in float64)
LOOSE = 1e-3
LOOSE_FLOAT64 = 1e-7
#: the smoothness tests' relative slack: how far, as a fraction of the quantities compared, the
#: higher-order terms of a smooth function may take a step's differences from the pattern the
#: tests expect (a flagged entry is tried again at steps 8 times smaller, where those terms
#: shrink 64-fold, before it is left undecided)
SLACK = 0.05
#: a real probe moves each entry by this many times its scheme's step (Richardson's widest
#: offset is 4), times a random factor in [1, 2)
PROBE_REACH = 4
#: per-example gradients are kept from the evaluations while entries x examples stay below this
PER_EXAMPLE_LIMIT = 1 << 22
#: the directional check of a grouping: the sum of the entries read may differ from the
#: directional derivative by this much of either's size, beyond their error bounds
AGREEMENT = 1e-9


@dataclass(frozen=True)
class Target:
    """What the numeric side differentiates: L at the base arrays moved by sparse
    perturbations.  ``losses(moves)`` -> [(L, size of its terms)] for each move; ``terms``: how
    many terms L sums (K of the error model); ``precision``: what the code's dtypes show it
    computes in (its outputs', its inputs').  A layer also gives ``grouped(moves, grouping)`` ->
    (differences, sizes) per bin (``layers.Grouping``), ``outputs``, the number of its outputs'
    entries, and ``examples``, the example (batch index) of each, or None."""

    names: tuple
    arrays: dict              # name -> the base array (never modified)
    losses: object
    terms: int = 1
    precision: object = FLOAT64
    grouped: object = None
    outputs: int = 0
    examples: object = None

    def at(self, moves):
        """[(L, size)] for the moves, in batches."""
        out = []
        for start in range(0, len(moves), BATCH):
            out.extend(self.losses(moves[start:start + BATCH]))
        return out

    def split(self, moves, labelings, which, bins):
        """(differences, sizes), (moves, bins) each: move k summed by ``labelings[which[k]]``."""
        diffs, sizes = [], []
        for start in range(0, len(moves), BATCH):
            part = which[start:start + BATCH]
            used, local = np.unique(part, return_inverse=True)
            d, z = self.grouped(moves[start:start + BATCH],
                                Grouping(labelings[used], local.astype(np.int64), bins))
            diffs.append(d)
            sizes.append(z)
        if not diffs:
            return np.zeros((0, bins)), np.zeros((0, bins))
        return np.concatenate(diffs), np.concatenate(sizes)

    def scale(self, name):
        """The size of the array's entries: their root-mean-square, 1 where all are zero."""
        a = np.asarray(self.arrays[name], dtype=float)
        rms = float(np.sqrt(np.mean(np.square(a)))) if a.size else 0.0
        return rms if rms > 0 and np.isfinite(rms) else 1.0

    @property
    def examples_count(self):
        if self.examples is None or not np.size(self.examples):
            return 0
        return int(np.max(self.examples)) + 1


@dataclass(frozen=True)
class NumericResult:
    gradient: dict
    error_bound: dict
    reasons: dict             # name -> why each entry is not decided (compare's codes)
    evaluations: int
    method: str
    precision: object = FLOAT64
    size: float = 0.0         # the size of the terms L sums at the base point
    per_example: dict = None  # name -> (m,) + shape: each example's own gradient, or None
    classes: dict = field(default_factory=dict)  # name -> evaluations per offset it took
    steps: dict = field(default_factory=dict)    # name -> each entry's step, flat (0: not taken)


def _nudge(a):
    """Every nonzero entry moved within its float32 rounding interval (see Problem.nudged)."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore"):
        rounded = a.astype(np.float32).astype(float)
    quarter = np.spacing(np.abs(rounded).astype(np.float32)).astype(float) / 4
    inside = np.isfinite(rounded) & (a != 0)
    return np.where(inside & (rounded != a), (a + rounded) / 2, np.where(inside, a + quarter, a))


def evaluation_precision(target):
    """The precision the code's evaluations round at: the dtypes' (``target.precision``), or
    float32 where moving every input within its float32 rounding leaves L exactly where it was
    while a move of a few float32 units changes it (code that converts its inputs to float32
    cannot see the first; code in float64 moves by about 2^-25 of L's gradient).  Where neither
    move changes L (every unit saturated, a loss at a flat spot) the probe says nothing and the
    evaluations are taken as float64's: the dtypes decide."""
    return _precision(target)[0]


def _seen(a, units):
    """Every nonzero entry moved by ``units`` of float32 in its last place: a move float32 code
    sees once it is large enough against its outputs' rounding."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore"):
        step = np.spacing(np.abs(a).astype(np.float32)).astype(float) * units
    return np.where(np.isfinite(step) & (a != 0), a + step, a)


#: the moves, in float32 units in the last place, that show whether L can see a move at all
SEEN_UNITS = (8, 128, 2048)


def _precision(target):
    """(the precision, the evaluations it took, (L, size) at the base where it was evaluated)."""
    if target.precision is not FLOAT64:
        return target.precision, 0, None
    # every array at once (the moves are entrywise): one flat vector, split back per array
    names = list(target.arrays)
    flat = np.concatenate([np.asarray(target.arrays[n], dtype=float).ravel() for n in names])
    ends = np.cumsum([target.arrays[n].size for n in names]).tolist()
    every = [np.arange(target.arrays[n].size) for n in names]

    def move(moved):
        return {n: (i, d) for n, i, d in zip(names, every, np.split(moved - flat, ends[:-1]))}

    inside = move(_nudge(flat))
    if not any(np.any(d) for _, d in inside.values()):
        return FLOAT64, 0, None
    seen = [move(_seen(flat, k)) for k in SEEN_UNITS]
    base, (moved, _), *visible = target.at([{}, inside, *seen])
    blind = base[0] == moved and np.isfinite(base[0]) and _float64_would_see(base, visible)
    return (FLOAT32 if blind else FLOAT64), 2 + len(seen), base


def _float64_would_see(base, visible):
    """Whether code in float64 would have moved L under the move within float32's rounding
    (a quarter to a half of a float32 unit per entry): the smallest visible move of k units,
    scaled down to it, stands well above float64's rounding of L.  Where L barely moves at all
    (saturated units, a gradient small against L), its staying put says nothing."""
    (f0, size0) = base
    sizes = [float(size0)] + [float(z) for _, z in visible]  # a layer's L is a difference: 0
    floor = 64 * FLOAT64.eps * max(abs(float(np.real(f0))), *sizes)
    for k, (value, _) in zip(SEEN_UNITS, visible):
        if value != f0:
            return abs(float(np.real(value - f0))) / k / 4 > floor
    return False


def _dense(target, direction, scale):
    """The move ``scale`` times ``direction`` (name -> array, some of the target's arrays)."""
    return {n: (np.arange(d.size), scale * d.ravel()) for n, d in direction.items()}


@dataclass(frozen=True)
class Reference:
    """What the complex probe learned along one random direction: whether the code is
    complex-safe, its complex-step derivative there (``cs``, None where it could not be taken),
    a Richardson estimate with its bound and whether it was smooth across, the base value and
    size, and the evaluations it took."""

    safe: bool
    direction: dict
    cs: object
    fd: object                # (estimate, bound, smooth) or None
    f0: float
    size0: float
    evaluations: int


def reference(target, rng, eps=EPS, base=None):
    """The complex probe (see ``complex_safe``) with everything it measured; ``base``: L and its
    size at the base point where already known."""
    arrays = target.arrays
    direction = {n: rng.standard_normal(a.shape) * target.scale(n) for n, a in arrays.items()}
    t = _richardson_step(eps)
    fd_moves = [_dense(target, direction, c * t) for c in RICHARDSON.offsets]
    first = [] if base is not None else [{}]
    try:
        got = target.at(first + [
            {n: (np.arange(a.size), np.zeros(a.size, dtype=complex)) for n, a in arrays.items()},
            _dense(target, direction, 1j * COMPLEX_STEP)] + fd_moves)
        (zero, zero_size), (stepped, _) = got[len(first):len(first) + 2]
        zero, cs = complex(zero), complex(stepped).imag / COMPLEX_STEP
    except Exception:  # a TypeError from float(), a ComplexWarning, anything: not complex-safe
        got = target.at(first + fd_moves)
        got[len(first):len(first)] = [(None, 0.0)] * 2
        zero = cs = None
    evaluations = len(got)
    (real, size) = base if base is not None else got[0]
    real = complex(real)
    zero_size = got[len(first)][1]
    scale = max(abs(real.real), size, zero_size, 1e-300)
    agrees = (cs is not None and real.imag == 0 and zero.imag == 0
              and abs(zero.real - real.real) <= 64 * eps * scale)
    fd = _richardson_along(got[len(first) + 2:], real.real, scale, eps, t)
    if agrees and not (fd[2] and fd[1] <= 1e-6 * max(abs(fd[0]), abs(cs))):
        # across a kink (a max-pool window with a near tie) or not accurate enough (a strongly
        # curved function): once more, with steps 8 times smaller
        fd, n = _directional_richardson(target, direction, real.real, scale, eps, 1 / 8)
        evaluations += n
    safe = False
    if agrees and fd is not None:
        est, err, smooth = fd
        # a reference across a kink, or not accurate enough, cannot vouch for the complex step
        safe = bool(smooth and err <= 1e-6 * max(abs(est), abs(cs))
                    and abs(cs - est) <= 10 * err + 1e-8 * max(abs(cs), abs(est)))
    return Reference(safe, direction, cs if agrees else None, fd, real.real, float(size),
                     evaluations)


RICHARDSON = scheme("richardson")


def _richardson_step(eps, shrink=1.0):
    return float(2.0 ** np.round(np.log2(eps ** RICHARDSON.step_exponent * shrink)))


def _richardson_along(got, f0, scale, eps, t):
    """(estimate, bound, smooth across) from L at the Richardson offsets times t along a
    direction."""
    values = [float(np.real(v)) for v, _ in got]
    rounding = 64 * eps * max([scale] + [abs(v) for v in values] + [z for _, z in got])
    est, err = RICHARDSON.combine(values, t, rounding)
    return float(est), float(err), bool(smooth_across(values, f0, t, rounding))


def _directional_richardson(target, direction, f0, scale, eps, shrink=1.0):
    """((estimate, bound, smooth across), evaluations) of d/dt L(x + t direction) by Richardson;
    None for the first where an evaluation raised."""
    t = _richardson_step(eps, shrink)
    try:
        got = target.at([_dense(target, direction, c * t) for c in RICHARDSON.offsets])
    except Exception:  # noqa: BLE001 - the caller's evaluation raises on its own, where it must
        return None, len(RICHARDSON.offsets)
    return _richardson_along(got, f0, scale, eps, t), len(RICHARDSON.offsets)


def complex_safe(target, rng, eps=EPS):
    """Whether a complex evaluation reproduces the real one and its directional derivative, the
    latter checked against a Richardson estimate that is smooth and accurate along the way."""
    return reference(target, rng, eps).safe


def _entries(size, sample, rng):
    if sample is not None and sample < size:
        return np.sort(rng.choice(size, size=sample, replace=False))
    return np.arange(size)


# -- the estimate, for many entries at once ------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """Entries moved in one evaluation: ``members`` (flat indices, sorted) and each output's
    owner among them (``labels``: 1 + its position, 0 for none), or None: one entry, L in total."""

    members: np.ndarray
    labels: object = None


@dataclass
class Reads:
    """What the evaluations of a pass gave each entry: its values at the scheme's offsets (L - L0
    for a layer), their sizes, and per example where kept; ``broken``: an output of no member
    changed."""

    values: np.ndarray        # (entries, offsets)
    sizes: np.ndarray         # (entries, offsets)
    per_example: object       # (entries, offsets, m) or None
    broken: bool = False


class _Run:
    """One numeric gradient: the precision, the scheme, the structure and the estimates, and the
    evaluations they took."""

    def __init__(self, target, method, sample, rng):
        self.target, self.rng, self.sample = target, rng, sample
        self.precision, self.evaluations, base = _precision(target)
        self.eps = self.precision.eps
        self.reference = None
        used = method
        if method == "auto":
            self.reference = reference(target, rng, self.eps, base)
            self.evaluations += self.reference.evaluations
            used = "complex_step" if self.reference.safe else "richardson"
        self.s = scheme(used)
        if base is None:
            base = target.at([{}])[0] if self.reference is None else (self.reference.f0,
                                                                     self.reference.size0)
            self.evaluations += self.reference is None
        self.f0, self.size0 = float(np.real(base[0])), float(base[1])
        self.offsets = [c for c in self.s.offsets if c != 0]
        self.classes, self.steps = {}, {}
        sizes = sum(a.size for a in target.arrays.values())
        self.m = target.examples_count if target.grouped is not None else 0
        self.keep = self.m > 1 and sizes * self.m <= PER_EXAMPLE_LIMIT

    def plans(self):
        """name -> (entries, steps): the sampled entries of each input and each one's step."""
        out = {}
        for n in self.target.names:
            a = self.target.arrays[n]
            entries = _entries(a.size, self.sample, self.rng)
            out[n] = (entries, self.s.step(np.abs(np.asarray(a, dtype=float).ravel()[entries]),
                                           self.target.scale(n), self.eps))
        return out

    # -- structure -------------------------------------------------------------------------------
    def structures(self, plans):
        """name -> ``Structure`` of each input worth probing (None: one entry at a time): one
        whose probes cost less than half the evaluations they could save."""
        target, out = self.target, {n: None for n in self.target.names}
        if target.grouped is None or not target.outputs:
            return out
        worth = [n for n in target.names if plans[n][0].size > 1 and 2 * probe_count(
            target.arrays[n].shape) < plans[n][0].size * len(self.offsets)]
        probes, parts = [], {}
        for n in worth:
            found, parts[n] = probes_for(n, target.arrays[n].shape)
            probes += found
        if probes:
            changed = self.probe(probes, parts)
            for n in worth:
                out[n] = decode(n, target.arrays[n].shape, parts[n], probes, changed)
        return out

    def probe(self, probes, parts):
        """(outputs,) bool per probe: which outputs its move changed.  A real probe moves each
        entry of its slab by PROBE_REACH times its finite-difference step, times a random factor
        in [1, 2) and a random sign, and an output changed when any of its bits did; a complex
        probe is a complex step with random weights, and an output changed when its imaginary
        part is not 0 (the real parts of a complex evaluation may differ from the real one's in
        their last bits, so they say nothing)."""
        target = self.target
        reach, slabs = {}, {}
        for n in {p.name for p in probes}:
            a = np.abs(np.asarray(target.arrays[n], dtype=float).ravel())
            reach[n] = (1j * COMPLEX_STEP * np.ones(a.size) if self.s.complex else
                        PROBE_REACH * self.s.step(a, target.scale(n), self.eps))
            slabs[n] = _slabs(target.arrays[n].shape, parts[n])
        indices = [slabs[p.name][p.axis][p.partition][p.part] for p in probes]
        weights = _probe_weights(self.rng, [i.size for i in indices])
        moves, start = [], 0
        for p, index in zip(probes, indices):
            moves.append({p.name: (index, reach[p.name][index] * weights[start:start + index.size])})
            start += index.size
        labels = np.arange(target.outputs, dtype=np.int64)[None, :]
        diffs, sizes = target.split(moves, labels, np.zeros(len(moves), dtype=np.int64),
                                    target.outputs)
        self.evaluations += len(moves)
        if self.s.complex:
            return list(np.imag(diffs) != 0)
        return list(~(sizes == 0))                              # NaN counts as a change

    def units(self, entries, structure):
        """The units of one input: its classes where its structure groups anything, else one
        entry each."""
        if structure is None or structure.count >= entries.size:
            return [Unit(entries[k:k + 1]) for k in range(entries.size)]
        every = structure.classes()
        cls = every[entries]
        order = np.argsort(cls, kind="stable")
        classes, starts, counts = np.unique(cls[order], return_index=True, return_counts=True)
        grouped = entries[order]
        # each member's position + 1 within its class (0: not a member), over the whole input
        position = np.zeros(every.size, dtype=np.int64)
        position[grouped] = np.arange(grouped.size) - np.repeat(starts, counts) + 1
        out = []
        outputs = max(self.target.outputs, 1)
        chunk = max(1, (1 << 20) // outputs)
        for k in range(0, classes.size, chunk):
            part = classes[k:k + chunk]
            owner = structure.owners(part)
            safe = np.maximum(owner, 0)
            labels = np.where((owner >= 0) & (every[safe] == part[:, None]), position[safe], 0)
            out += [Unit(grouped[starts[k + j]:starts[k + j] + counts[k + j]], labels[j])
                    for j in range(part.size)]
        return out

    # -- the evaluations -------------------------------------------------------------------------
    def read(self, name, units, step):
        """``Reads`` for the members of ``units`` (in order), each moved by c times its step
        (``step``: over the whole input) at every offset c, a unit per evaluation."""
        moves = self._moves(name, units, step)
        self.evaluations += len(moves)
        if self.target.grouped is None:
            got = self.target.at(moves)
            k = len(self.offsets)
            return Reads(np.array([v for v, _ in got]).reshape(-1, k),
                         np.array([z for _, z in got], dtype=float).reshape(-1, k), None)
        return self._read_split([(units, moves)])[0]

    def _moves(self, name, units, step):
        return [{name: (u.members, c * step[u.members])} for u in units for c in self.offsets]

    def first_reads(self, plans, structures):
        """name -> (units, step, ``Reads``) of every input's first pass, from one batch of grouped
        evaluations (what ``array`` would read first, input after input); {} where the target
        is not grouped."""
        if self.target.grouped is None:
            return {}
        started = {}
        for n in self.target.names:
            step, units = self._start(n, *plans[n], structures[n])
            if units:
                started[n] = (units, step, self._moves(n, units, step))
        self.evaluations += sum(len(moves) for _, _, moves in started.values())
        reads = self._read_split([(units, moves) for units, _, moves in started.values()])
        return {n: (units, step, r) for (n, (units, step, _)), r in zip(started.items(), reads)}

    def _read_split(self, groups):
        """[Reads] of each (units, moves) in ``groups``, from grouped evaluations of them all:
        member j of a unit is bin j + 1 (times the examples, where they are kept); bin 0, the
        outputs of no member, must not have changed."""
        target, k = self.target, len(self.offsets)
        m = self.m if self.keep else 1
        units = [u for us, _ in groups for u in us]
        if not units:
            return []
        labelings = np.ones((len(units), target.outputs), dtype=np.int64)
        labelled = [i for i, u in enumerate(units) if u.labels is not None]
        if labelled:
            labelings[labelled] = np.stack([units[i].labels for i in labelled])
        labelings = labelings * m + (target.examples if self.keep else 0)
        width = max(u.members.size for u in units) + 1
        diffs, sizes = target.split([mv for _, moves in groups for mv in moves], labelings,
                                    np.repeat(np.arange(len(units)), k), width * m)
        D, Z = diffs.reshape(len(units), k, width, m), sizes.reshape(len(units), k, width, m)
        out, start = [], 0
        for us, _ in groups:
            out.append(self._reads(us, D[start:start + len(us)], Z[start:start + len(us)]))
            start += len(us)
        return out

    def _reads(self, units, D, Z):
        """The ``Reads`` of ``units`` from their rows of the split evaluations."""
        sizes = np.array([u.members.size for u in units])
        unit = np.repeat(np.arange(len(units)), sizes)
        position = np.arange(unit.size) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
        per = D[unit, :, position, :]                              # (entries, offsets, m)
        # the outputs of no member: unchanged, bitwise (a complex step: Im exactly 0; its real
        # parts may differ from the real evaluation's in their last bits)
        other = np.imag(D[:, :, 0, :]) if self.s.complex else Z[:, :, 0, :]
        return Reads(per.sum(axis=2), Z[unit, :, position, :].sum(axis=2),
                     per if self.keep else None, bool(np.any(other != 0)))

    def estimate(self, name, units, step, reads=None):
        """(entries in order, estimates, bounds, smooth across, per-example estimates or None,
        whether the grouping broke) for the members of ``units`` (from ``reads`` where given)."""
        reads = self.read(name, units, step) if reads is None else reads
        order = np.concatenate([u.members for u in units])
        h = step[order]
        grouped = self.target.grouped is not None
        values = reads.values if self.s.complex else np.real(reads.values)
        f0 = 0.0 if grouped else self.f0
        cols = _with_base(self.s.offsets, list(values.T), f0)
        size = np.maximum(reads.sizes.max(axis=1), np.abs(np.real(values)).max(axis=1))
        size = np.maximum(size, abs(f0) if grouped else self.size0)
        if grouped:  # no output moved at any step: the change is below their rounding, somewhere
            size = np.where(size == 0, self.size0, size)
        rounding = 2 * gamma(self.target.terms + 8, self.eps) * size
        est, err = self.s.combine(cols, h, rounding)
        # a kink shows against the values' actual noise (a few units of their size), not
        # against the worst-case bound, which would hide it: flagging is the safe side
        smooth = (np.ones(order.size, dtype=bool) if self.s.complex
                  else smooth_across(cols, f0, h, 8 * self.eps * size))
        per = None
        if reads.per_example is not None:
            pe = reads.per_example if self.s.complex else np.real(reads.per_example)
            per, _ = self.s.combine(_with_base(self.s.offsets, list(np.moveaxis(pe, 1, 0)), 0.0),
                                    h[:, None], rounding[:, None])
        return order, np.real(est), err, smooth, per, reads.broken

    def _start(self, name, entries, h, structure):
        """(each entry's step over the whole input, the units of the first pass)."""
        step = np.zeros(self.target.arrays[name].size)
        step[entries] = h
        return step, self.units(entries, structure)

    def array(self, name, entries, h, structure, first=None):
        """(estimate, bound, reasons, per-example estimates) of one input, flat; None where its
        grouping broke (an output of no member changed).  ``first``: (units, step, reads) of
        its first pass, already read (``first_reads``)."""
        a0 = self.target.arrays[name]
        est, err = np.zeros(a0.size), np.zeros(a0.size)
        why = np.full(a0.size, NOT_SAMPLED, dtype=np.uint8)
        why[entries] = 0
        per = np.zeros((self.m, a0.size)) if self.keep else None
        units, step, reads = first or (*self._start(name, entries, h, structure)[::-1], None)
        self.classes[name] = len(units)
        left = np.zeros(0, dtype=np.int64)
        for _ in range(1 if self.s.complex else RETRIES + 1):
            if not units:
                break
            order, e, b, smooth, p, broken = self.estimate(name, units, step, reads)
            reads = None
            if broken:
                return None
            est[order], err[order] = e, b
            if p is not None:
                per[:, order] = np.real(p).T
            left = order[~smooth]
            if not left.size:
                break
            step[left] /= 8  # steps too large to be smooth across: smaller
            units = _restrict(units, left)
        why[left] = KINK
        if not self.s.complex:
            self._grow(name, self.units(entries, structure), est, err, step, why, per)
        self.steps[name] = step
        return est, err, why, per

    def _grow(self, name, units, est, err, step, why, per):
        """Entries whose bound is loose (over ``loose`` of their estimate: the difference of L
        across the step is lost in L's own rounding, for an array small against what L is
        summed from or code in float32; or the step is large against the scale the function
        varies on, and the truncation estimate is large) are tried again with steps 8 times
        larger and 8 times smaller, up to GROWTHS times.  A new step is kept only where the
        function is smooth across it and its bound (truncation estimate and rounding together)
        is smaller: the bound, not a guess, decides."""
        loose = LOOSE if self.eps > 1e-10 else LOOSE_FLOAT64
        for _ in range(GROWTHS):
            swamped = np.flatnonzero((why == 0) & (step > 0) & ~(err < loose * np.abs(est)))
            base = _restrict(units, swamped) if swamped.size else []
            if not base:
                return
            improved = False
            for factor in (8.0, 1 / 8):
                trial = step.copy()
                trial[swamped] *= factor
                order, e, b, smooth, p, broken = self.estimate(name, base, trial)
                better = smooth & (b < err[order])
                if broken or not better.any():
                    continue
                k = order[better]
                est[k], err[k], step[k] = e[better], b[better], trial[k]
                if p is not None and per is not None:
                    per[:, k] = np.real(p).T[:, better]
                improved = True
            if not improved:
                return

    # -- the directional check of the grouping ---------------------------------------------------
    def verify(self, results, structures):
        """Whether the entries read from grouped evaluations reproduce the directional
        derivative along the probe's random direction: sum_k v_k g_k.  Exact to rounding for the
        complex step; within both sides' bounds for finite differences, and only where every
        entry was decided and the reference was smooth across (else there is nothing to hold the
        grouping to, and the kink tests stand alone).  True where nothing was grouped."""
        grouped = [n for n in self.target.names if structures.get(n) is not None
                   and self.classes[n] < self.target.arrays[n].size]
        ref = self.reference
        if not grouped or ref is None or self.sample is not None:
            return self._verify_fresh(results, grouped)
        total, bound, size = 0.0, 0.0, 0.0
        for n in self.target.names:
            est, err, why, _ = results[n]
            v = ref.direction[n].ravel()
            if not self.s.complex and np.any(why != 0):
                return True
            total += float(np.sum(v * est))
            bound += float(np.sum(np.abs(v) * err))
            size += float(np.sum(np.abs(v * est)))
        if self.s.complex:
            target, extra = ref.cs, 0.0
        elif ref.fd is not None and ref.fd[2]:
            target, extra = ref.fd[0], ref.fd[1]
        else:
            return True
        return _agrees(total, target, 2 * (bound + extra), size)

    def _verify_fresh(self, results, grouped):
        """The directional check along a fresh random direction over the grouped inputs' decided
        entries (the complex probe's direction does not apply: sampled entries, or no probe)."""
        if not grouped:
            return True
        direction, total, bound, size = {}, 0.0, 0.0, 0.0
        for n in grouped:
            est, err, why, _ = results[n]
            v = self.rng.standard_normal(est.size) * self.target.scale(n) * (why == 0)
            direction[n] = v
            total += float(np.sum(v * est))
            bound += float(np.sum(np.abs(v) * err))
            size += float(np.sum(np.abs(v * est)))
        move = {n: (np.flatnonzero(v), v[np.flatnonzero(v)]) for n, v in direction.items()}
        if self.s.complex:
            (stepped, _), = self.target.at([{n: (i, 1j * COMPLEX_STEP * d) for n, (i, d)
                                              in move.items()}])
            self.evaluations += 1
            return _agrees(total, np.imag(stepped) / COMPLEX_STEP, 2 * bound, size)
        fd, count = _directional_richardson(self.target, direction, self.f0,
                                            max(self.size0, 1e-300), self.eps)
        self.evaluations += count
        if fd is None or not fd[2]:
            return True
        return _agrees(total, fd[0], 2 * (bound + fd[1]), size)

    def result(self):
        plans = self.plans()
        structures = self.structures(plans)
        first = self.first_reads(plans, structures)
        results = {}
        for n in self.target.names:
            results[n] = self.array(n, *plans[n], structures[n], first.get(n))
            if results[n] is None:  # an output of no member changed: one entry at a time
                structures[n] = None
                results[n] = self.array(n, *plans[n], None)
        if not self.verify(results, structures):
            for n in self.target.names:
                if structures[n] is not None:
                    structures[n] = None
                    results[n] = self.array(n, *plans[n], None)
        return self._pack(results)

    def _pack(self, results):
        grads, bounds, reasons, per = {}, {}, {}, {} if self.keep else None
        for n in self.target.names:
            shape = self.target.arrays[n].shape
            est, err, why, p = results[n]
            grads[n], bounds[n], reasons[n] = est.reshape(shape), err.reshape(shape), why.reshape(shape)
            if per is not None:
                per[n] = p.reshape((self.m,) + shape)
        return NumericResult(grads, bounds, reasons, self.evaluations, self.s.name, self.precision,
                             self.size0, per, dict(self.classes), dict(self.steps))


def _probe_weights(rng, sizes):
    """The probes' random weights, concatenated: for each probe of n entries, in turn,
    ``rng.uniform(1, 2, n) * (2 * rng.integers(0, 2, n) - 1)``, the very numbers those calls
    give (the stream the structure was found with), drawn at once from PCG64's raw words: a
    uniform takes a word, (w >> 11) 2^-53; an integer in {0, 1} takes the top bit of the next
    32-bit half, halves taken low then high and a high one left over kept for the next draw."""
    bits = rng.bit_generator
    if type(bits).__name__ != "PCG64":
        return np.concatenate([rng.uniform(1, 2, n) * (2 * rng.integers(0, 2, n) - 1)
                               for n in sizes] or [np.zeros(0)])
    state = bits.state
    has, counts = bool(state["has_uint32"]), []
    for n in sizes:
        half = n - (has and n > 0)              # halves this probe takes from new words
        counts += [n, (half + 1) // 2]
        has = (has and n == 0) or half % 2 == 1
    raw = bits.random_raw(sum(counts))
    double = np.repeat(np.tile([True, False], len(sizes)), counts)
    words = raw[~double]
    halves = np.empty(2 * words.size, dtype=np.uint64)
    halves[0::2], halves[1::2] = words & np.uint64(0xFFFFFFFF), words >> np.uint64(32)
    if state["has_uint32"]:
        halves = np.concatenate([np.array([state["uinteger"]], dtype=np.uint64), halves])
    total = sum(sizes)
    state = bits.state
    state["has_uint32"] = int(halves.size > total)
    if halves.size > total:
        state["uinteger"] = int(halves[total])
    bits.state = state
    sign = (halves[:total] >> np.uint64(31)).astype(np.int64)
    return (1.0 + (raw[double] >> np.uint64(11)) * 2.0 ** -53) * (2 * sign - 1)


def _slabs(shape, parts):
    """[axis][partition][part] -> the flat indices (sorted) of the entries of that slab
    (``Probe.entries`` for every probe of an input at once)."""
    where = np.indices(shape).reshape(len(shape), -1)
    out = []
    for axis, partitions in enumerate(parts):
        out.append([])
        for partition in partitions:
            of = partition[where[axis]]
            order = np.argsort(of, kind="stable")
            bounds = np.searchsorted(of[order], np.arange(int(partition.max()) + 2))
            out[-1].append([order[bounds[v]:bounds[v + 1]] for v in range(bounds.size - 1)])
    return out


def _agrees(total, target, bound, size):
    """Whether two numbers that should be equal are, within ``bound`` and AGREEMENT of their size."""
    return bool(abs(total - target) <= bound + AGREEMENT * max(size, abs(target), abs(total)))


def _restrict(units, keep):
    """The units with only the members in ``keep`` (sorted flat indices), each output's label
    renumbered to its owner's new position (0 where the owner left)."""
    out = []
    for u in units:
        inside = np.isin(u.members, keep)
        if not inside.any():
            continue
        if u.labels is None:
            out.append(Unit(u.members[inside]))
            continue
        renumber = np.zeros(u.members.size + 1, dtype=np.int64)
        renumber[1:][inside] = np.arange(1, int(inside.sum()) + 1)
        out.append(Unit(u.members[inside], renumber[u.labels]))
    return out


def numeric(target, method, sample, rng):
    """The numeric gradient of every array, its error bound, the entries left undecided (a kink
    or a jump in the second derivative within the steps, or not sampled), the evaluations it took,
    the method used, and, for a layer, each example's own gradient where kept."""
    return _Run(target, method, sample, rng).result()


@dataclass(frozen=True)
class Directions:
    """d/dt L(x + t v) along random unit directions v, ``count`` per array (the fast mode).
    ``directions[name][j]`` is v (the array's shape, unit Frobenius norm), ``estimates`` and
    ``bounds`` the numeric derivative along it and its error bound, ``decided`` whether the steps
    were smooth across (always, for the complex step)."""

    directions: dict
    estimates: dict
    bounds: dict
    decided: dict
    evaluations: int
    method: str
    precision: object = FLOAT64


def directional(target, method, rng, count):
    """The ``Directions`` of ``target``: per array, ``count`` random unit directions, each one
    evaluation by the complex step (exact to rounding: bound 4 eps |D| + tiny / h) or Richardson
    (its own bound, with the kink tests; a direction whose steps are not smooth is tried with
    steps 8 times smaller, RETRIES times, then left undecided)."""
    precision, evaluations, base = _precision(target)
    eps, used = precision.eps, method
    if method == "auto":
        ref = reference(target, rng, eps, base)
        evaluations += ref.evaluations
        used = "complex_step" if ref.safe else "richardson"
    s = scheme(used)
    directions = {}
    for n in target.names:
        vs = [rng.standard_normal(target.arrays[n].shape) for _ in range(count)]
        directions[n] = [v / (np.linalg.norm(v) or 1.0) for v in vs]
    if s.complex:
        est, bound, decided, k = _directional_complex(target, directions)
    else:
        est, bound, decided, k = _directional_fd(target, s, directions, eps)
    return Directions(directions, est, bound, decided, evaluations + k, s.name, precision)


def _directional_complex(target, directions):
    moves = [{n: (np.arange(v.size), 1j * COMPLEX_STEP * v.ravel())} for n in target.names
             for v in directions[n]]
    got = iter(target.at(moves))
    est, bound, decided = {}, {}, {}
    for n in target.names:
        d = [float(np.imag(next(got)[0])) / COMPLEX_STEP for _ in directions[n]]
        est[n], decided[n] = d, [True] * len(d)
        bound[n] = [4 * EPS * abs(x) + TINY / COMPLEX_STEP for x in d]
    return est, bound, decided, len(moves)


def _directional_fd(target, s, directions, eps):
    (f0, size0), = target.at([{}])
    f0 = float(np.real(f0))
    f0 = 0.0 if target.grouped is not None else f0
    est, bound, decided, evaluations = {}, {}, {}, 1
    for n in target.names:
        a = np.abs(np.asarray(target.arrays[n], dtype=float))
        h = float(s.step(np.max(a, initial=0.0), target.scale(n), eps))
        est[n], bound[n], decided[n] = [], [], []
        for v in directions[n]:
            e, b, ok, k = _along(target, s, n, v, h, f0, float(size0), eps)
            est[n].append(e)
            bound[n].append(b)
            decided[n].append(ok)
            evaluations += k
    return est, bound, decided, evaluations


def _along(target, s, name, v, h, f0, size0, eps):
    """(estimate, bound, smooth across, evaluations) of d/dt L(x + t v) by the scheme ``s``."""
    offsets = [c for c in s.offsets if c != 0]
    evaluations = 0
    for _ in range(RETRIES + 1):
        got = target.at([{name: (np.arange(v.size), c * h * v.ravel())} for c in offsets])
        evaluations += len(offsets)
        values = _with_base(s.offsets, [float(np.real(x)) for x, _ in got], f0)
        size = max([size0] + [z for _, z in got] + [abs(x) for x in values])
        est, err = s.combine(values, h, 2 * gamma(target.terms + 8, eps) * size)
        if smooth_across(values, f0, h, 8 * eps * size):
            return float(est), float(err), True, evaluations
        h /= 8
    return float(est), float(err), False, evaluations


def _with_base(offsets, values, f0):
    """The values at every offset of the scheme, f0 where the offset is 0."""
    it = iter(values)
    return [f0 if c == 0 else next(it) for c in offsets]


def smooth_across(values, f0, h, rounding):
    """Whether the function looks smooth across the steps (values at +-h, +-2h, ...): no kink,
    and, with three step sizes, no jump in the second derivative and differences in their
    asymptotic regime.  Entrywise over arrays of values."""
    return ~(kinked(values, f0, h, rounding) | jump_in_second_derivative(values, f0, h, rounding)
             | ~asymptotic(values, h, rounding))


def asymptotic(values, h, rounding):
    """Whether the central differences D(t) = (f(t) - f(-t)) / 2t at t = h, 2h, 4h behave as
    Richardson's error estimate assumes, D(t) = f' + t^2 f'''/6 + O(t^4): then D(4h) - D(2h) =
    4 (D(2h) - D(h)) up to O(h^4).  A kink a fraction of a step away, or a function that varies
    on a scale finer than the step (a batch norm of nearly constant inputs), breaks it; the
    estimate's error bound then means nothing.  True with fewer than three step sizes."""
    if len(values) < 6:
        return np.ones(np.shape(h), dtype=bool)
    D = [(values[2 * k] - values[2 * k + 1]) / (2 ** (k + 1) * h) for k in range(3)]
    noise = [rounding / (2 ** k * h) for k in range(3)]
    first, second = D[1] - D[0], D[2] - D[1]
    slack = noise[2] + 5 * noise[1] + 4 * noise[0]
    return np.abs(second - 4 * first) <= slack + SLACK * (np.abs(second) + 4 * np.abs(first))


def kinked(values, f0, h, rounding):
    """A jump in the first derivative within the steps.  The gap between the one-sided
    differences at step t, D+(t) - D-(t), is t f'' for a smooth function, growing with t; across
    a kink it is the jump itself, the same at every t past the kink.  So compare each step's gap
    with twice the previous one's (offsets +-h, +-2h, +-4h, ...)."""
    gaps = []
    for k in range(len(values) // 2):
        t = 2 ** k * h
        gaps.append((values[2 * k] - f0) / t - (f0 - values[2 * k + 1]) / t)
    out = np.zeros(np.shape(gaps[0]) if gaps else np.shape(h), dtype=bool)
    for k in range(1, len(gaps)):
        noise = 8 * rounding / (2 ** (k - 1) * h)
        out |= np.abs(gaps[k] - 2 * gaps[k - 1]) > noise + SLACK * (
            np.abs(gaps[k]) + 2 * np.abs(gaps[k - 1]))
    return out


def jump_in_second_derivative(values, f0, h, rounding):
    """A jump in f'' within the steps (a C1 function such as a Huber loss at |r| = 1), which
    Richardson's error estimate assumes away.  The second differences S(t) = (f(t) + f(-t) -
    2 f0) / t^2 are f'' + t^2 f''''/12 + O(t^4) for a smooth f, so with three step sizes
    S(4h) - S(2h) = 4 (S(2h) - S(h)) up to O(h^4); across a jump in f'' (or in f') they are not.
    Needs the values at +-h, +-2h and +-4h (Richardson's); says nothing with fewer."""
    if len(values) < 6:
        return np.zeros(np.shape(h), dtype=bool)
    S = [(values[2 * k] + values[2 * k + 1] - 2 * f0) / (2 ** k * h) ** 2 for k in range(3)]
    noise = [4 * rounding / (2 ** k * h) ** 2 for k in range(3)]
    first, second = S[1] - S[0], S[2] - S[1]
    slack = noise[2] + 5 * noise[1] + 4 * noise[0]
    return np.abs(second - 4 * first) > slack + SLACK * (np.abs(second) + 4 * np.abs(first))
