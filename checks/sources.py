"""Where the gradient under test comes from.

Every source answers the same request, a ``Problem`` (a network and the batch it is checked on),
with an ``AnalyticGradient``:

- ``Catalogue``: a backward pass of the catalogue (``backprop.variants``);
- ``InProcess``: the user's own callable, read as written in this process (the Python API;
  ``checks.adapt``);
- ``InChild`` (``checks.runner``): the user's ``FILE.py:TARGET``, read the same way in a child
  process that the verdict is out of reach of (the command).

The check (``checks.check``) only ever calls ``source.gradient(problem)``.
"""

from __future__ import annotations

import numpy as np

from ..backprop import VARIANTS, BackwardPass
from ..backprop.registry import lookup
from .adapt import ImplSpec, impl_gradient
from .analytic import IMPL_KINDS, AnalyticGradient
from .plugin import name_of

__all__ = ["AnalyticGradient", "Catalogue", "InProcess", "IMPL_KINDS", "source_for"]

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


class InProcess:
    """The user's callable, read as written (``checks.adapt``), in this process."""

    def __init__(self, fn, kind=None, spec=None):
        if not callable(fn):
            raise TypeError(f"`impl` must be a function; got {fn!r}")
        self.spec = spec if isinstance(spec, ImplSpec) else ImplSpec.from_table(spec)
        self.kind = kind or self.spec.kind
        if self.kind is not None:
            lookup({k: k for k in IMPL_KINDS}, self.kind, "impl_kind")
        self.fn = fn

    @property
    def name(self):
        return name_of(self.fn)

    def gradient(self, problem):
        return impl_gradient(problem.net, problem.x, problem.y, self.fn, self.kind, self.spec)


def source_for(variant="correct", impl=None, impl_kind=None, impl_spec=None):
    """The source the Python API's arguments name: the user's callable, else a variant."""
    if impl is None:
        if impl_kind is not None or impl_spec is not None:
            raise TypeError("`impl_kind` and `impl_spec` describe `impl`, which is not given")
        return Catalogue(variant)
    return InProcess(impl, impl_kind, impl_spec)
