"""The problem being checked: a network and the batch it is checked on.

Everything the check derives from them (the forward pass, the output derivatives D^L, the bounds
B^l >= |delta^l|, the complex-step slopes and unit derivatives D^l, the rounding bounds at each
precision) is a property of this one object, computed the first time it is asked for and kept.
No function of the check takes it as an optional "pass it if you have it" argument: whoever needs
a derived quantity asks the problem, so it is computed once, by one owner.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..backprop import Network
from .heap import keep_freed_memory
from .differentiate import scheme
from .numeric import (Workspace, complex_step_floor, numeric_gradient, output_derivatives, slopes,
                      unit_derivatives)
from .rounding import (FLOAT64, abs_primes, abs_weights, delta_bounds, forward_errors,
                       gradient_error)

__all__ = ["Problem", "validate_batch"]

COMPLEX_STEP_SCHEME = scheme("complex_step")


def validate_batch(net, x, y):
    """(x, y) as float arrays after checking them against ``net``; TypeError/ValueError naming
    the argument otherwise."""
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a Network; got {type(net).__name__}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    for name, a, n in (("x", x, net.layers[0]), ("y", y, net.layers[-1])):
        if a.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-d batch; got shape {a.shape}")
        width = a.shape[0] if net.layout == "columns" else a.shape[1]
        if width != n:
            want = f"({n}, m)" if net.layout == "columns" else f"(m, {n})"
            raise ValueError(f"`{name}` must have shape {want} in the {net.layout} layout; got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"`{name}` contains NaN or inf")
    if net.batch_size(x) != net.batch_size(y):
        raise ValueError(f"`x` holds {net.batch_size(x)} examples but `y` holds {net.batch_size(y)}")
    if net.batch_size(x) < 1:
        raise ValueError("the batch is empty")
    if not np.all(np.isfinite(net.theta)):
        raise ValueError("the network's parameters contain NaN or inf")
    return x, y


def _nudge(a, keep):
    """``a`` moved within the float32 rounding interval of each entry, but for the values in
    ``keep`` and those beyond float32's range."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore"):
        rounded = a.astype(np.float32).astype(float)
    quarter = np.spacing(np.abs(rounded).astype(np.float32)).astype(float) / 4
    inside = np.isfinite(rounded) & ~np.isin(a, keep)
    return np.where(inside & (rounded != a), (a + rounded) / 2,
                    np.where(inside, a + quarter, a))


class Problem:
    """A network and a validated batch (x, y) in the network's layout, with what is derived
    from them.  Arrays named ``*_cols`` and the forward pass are in the columns layout."""

    def __init__(self, net, x, y):
        keep_freed_memory()
        self.net = net
        self.x, self.y = x, y
        self.m = net.batch_size(x)

    @classmethod
    def checked(cls, net, x, y):
        """The problem after validating the batch (``validate_batch``)."""
        return cls(net, *validate_batch(net, x, y))

    def subset(self, keep):
        """The same network on the examples where ``keep`` (a bool mask) is true."""
        net = self.net
        return Problem(net, net.from_columns(net.to_columns(self.x)[:, keep]),
                       net.from_columns(net.to_columns(self.y)[:, keep]))

    # -- the forward pass -------------------------------------------------------------------
    @cached_property
    def forward(self):
        """z^l and a^l for every layer (columns layout)."""
        with np.errstate(under="ignore"):
            return self.net.forward(self.x)

    @cached_property
    def y_cols(self):
        return self.net.to_columns(self.y)

    @cached_property
    def per_example_loss(self):
        """C_x for each example (unreduced), NaN-free or not: ``finite_loss`` says."""
        f, net = self.forward, self.net
        with np.errstate(all="ignore"):
            return net.loss.per_example(f.z[-1], f.a[-1], self.y_cols, net.sigmas[-1])

    @cached_property
    def cost(self):
        """C without its L2 term: r(m) sum_x C_x."""
        return self.net.scale(self.m) * float(self.per_example_loss.sum())

    @cached_property
    def finite_loss(self):
        return bool(np.isfinite(self.per_example_loss.sum()))

    def targets_tiled(self, P):
        """The targets repeated for P perturbations side by side, (n_L, P m) (at least)."""
        tiled = self.__dict__.get("_tiled")
        if tiled is None or tiled.shape[1] < P * self.m:
            tiled = self.__dict__["_tiled"] = np.tile(self.y_cols, (1, P))
        return tiled

    # -- derived by the complex step --------------------------------------------------------
    @cached_property
    def absW(self):
        """|W^l| in the columns layout (index 0 None)."""
        return abs_weights(self.net)

    @cached_property
    def abs_primes(self):
        """|sigma'(z^l)| for every elementwise layer (index 0 None; None where not elementwise)."""
        return abs_primes(self.net, self.forward)

    @cached_property
    def D_L(self):
        """dC_x / dz^L for every output unit and example."""
        return output_derivatives(self.net, self.forward, self.y_cols)

    @cached_property
    def B(self):
        """B^l >= |delta^l| for every layer (index 0 None)."""
        return delta_bounds(self.net, self.D_L, self.absW, self.abs_primes)

    @cached_property
    def slopes(self):
        """s^l = Im sigma(z^l + i h) / h for the hidden layers."""
        return slopes(self.net, self.forward)

    @cached_property
    def workspace(self):
        return Workspace()

    @cached_property
    def _D(self):
        return {self.net.L: self.D_L}

    def unit_derivative(self, l):
        """D^l = dC_x / dz^l_ix for every unit i of layer l and example x, by the complex step."""
        if l not in self._D:
            self._D[l] = unit_derivatives(self, l)
        return self._D[l]

    @cached_property
    def complex_step_floor(self):
        return complex_step_floor(self.net, self.forward, self.m, self.absW)

    @cached_property
    def true_gradient(self):
        """The gradient of C by the complex step, exact to rounding (layout shapes)."""
        return numeric_gradient(self, COMPLEX_STEP_SCHEME).gradient

    @cached_property
    def step_lr(self):
        """The learning rate for code that takes a step: a power of two with lr |g| >= |w| in
        every array (g the true gradient), so that the step's recovery (before - after) / lr
        loses nothing beyond u |g|; 1 where the gradient is zero."""
        params = self.net.parameters()
        with np.errstate(over="ignore"):
            ratios = [np.max(np.abs(params[n])) / np.max(np.abs(g))
                      for n, g in self.true_gradient.items() if np.max(np.abs(g)) > 0]
        ratios = [r for r in ratios if np.isfinite(r) and r > 0]
        return 2.0 ** int(np.clip(np.ceil(np.log2(max(ratios))), -30, 60)) if ratios else 1.0

    def nudged(self):
        """The problem with its parameters, inputs and targets moved within their float32
        rounding intervals (halfway to their float32 value, or by a quarter unit of float32
        where they are one): code that rounds them to float32 sees the same numbers, code in
        float64 does not.  Zeros stay, and so do targets of exactly 1 or -1 (code may test
        its labels)."""
        net = self.net.copy()
        net.theta[...] = _nudge(net.theta, keep=(0.0,))
        return Problem(net, _nudge(self.x, keep=(0.0,)), _nudge(self.y, keep=(0.0, 1.0, -1.0)))

    def generic(self):
        """The same network and targets with weights and inputs drawn in general position
        (seeded): where every value of the problem is zero or one, this is where the code's
        arithmetic can still be watched."""
        net = self.net.copy()
        rng = np.random.default_rng(0x6E756467)
        for l, W in enumerate(net.weights, start=1):
            W[...] = rng.standard_normal(W.shape) / np.sqrt(net.layers[l - 1])
        for b in net.biases or []:
            b[...] = rng.standard_normal(b.shape)
        return Problem(net, rng.standard_normal(self.x.shape), self.y)

    # -- rounding bounds ----------------------------------------------------------------------
    @cached_property
    def _bounds(self):
        return {}

    def rounding(self, precision=FLOAT64, inputs_rounded=False):
        """{name: bound} on how far a correct backward pass computed in ``precision`` can be from
        the exact gradient (``checks.rounding``); ``inputs_rounded``: the code received its
        parameters and batch rounded to that precision."""
        key = (precision.name, bool(inputs_rounded) and precision is not FLOAT64)
        if key not in self._bounds:
            self._bounds[key] = gradient_error(self, precision, inputs_rounded=key[1])
        return self._bounds[key]

    def forward_errors(self, precision=FLOAT64, inputs_rounded=False):
        """(E_z, E_a): bounds on the forward pass's errors in ``precision``."""
        key = ("forward", precision.name, bool(inputs_rounded))
        if key not in self._bounds:
            self._bounds[key] = forward_errors(self.net, self.forward, precision.eps,
                                               precision.eps if inputs_rounded else 0.0,
                                               precision.tiny, self.absW, self.abs_primes)
        return self._bounds[key]

    @cached_property
    def forward_rounding(self):
        """The rounding of a computed C's forward pass, reaching C through D^L."""
        E_z, _ = forward_errors(self.net, self.forward, FLOAT64.eps, 0.0, 0.0, self.absW,
                                self.abs_primes)
        return self.net.scale(self.m) * float(np.sum(np.abs(self.D_L) * E_z[-1]))
