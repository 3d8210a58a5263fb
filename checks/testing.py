"""Assert helpers for your own pytest suite: a test fails when a backward pass is wrong, and its
message starts with what is wrong.

One helper per kind of check, each returning the ``Report`` when it passes:

- ``assert_gradients_match(impl, config_or_network, ...)``: your code for a network
  (``gradcheck``);
- ``assert_layer_gradients(forward, backward, *inputs, ...)``: a layer (``check_layer``);
- ``assert_function_gradients(f, params, grad=None, ...)``: any function of arrays
  (``check_function``).

The ``AssertionError``'s message is the verdict line, then the diagnosis, then the rest of the
report (the arrays, the worst entries, the notes); a check where nothing could be decided fails
too, saying so.  pytest shows the failure at your test's line: the helpers' own frames are
hidden (``__tracebackhide__``).  ``assert gradcheck(...)`` works as well (``bool(report)`` is
``report.passed``), but pytest then shows only the report's short repr.

>>> from gradcheck.backprop import Network, backward
>>> def my_backprop(weights, biases, x, y):
...     return backward(net, x, y)
>>> net = Network([3, 4, 2], seed=0)
>>> assert_gradients_match(my_backprop, net).passed
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backprop import Network, load_config
from ..backprop.config import draw_batch

from .check import gradcheck
from .formats import render_text
from .functions import check_function, check_layer
from .verdict import Undecidable

__all__ = ["assert_gradients_match", "assert_layer_gradients", "assert_function_gradients",
           "assert_passed"]


def assert_passed(report):
    """Raise AssertionError unless ``report`` passed: the verdict line first, then the diagnosis,
    then the table; for a check where nothing could be decided, a message saying so.  Returns
    the report."""
    __tracebackhide__ = True
    if report.passed:
        return report
    raise AssertionError(render_text(report, diagnosis_first=True))


def _run(check, *args, **kwargs):
    """``check(*args, **kwargs)``'s report; a check where nothing could be decided (``Undecidable``)
    fails as an AssertionError saying so."""
    __tracebackhide__ = True
    try:
        return check(*args, **kwargs)
    except Undecidable as e:
        raise AssertionError(f"gradcheck UNDECIDED: {e}") from None


def assert_gradients_match(impl, config_or_network, x=None, y=None, *, impl_kind=None,
                           impl_spec=None, method="complex_step", seed=0):
    """Raise AssertionError, its message the diagnosis first, unless ``impl`` computes the
    gradient of the network's loss.

    config_or_network: a path to a saved config (its weights and batch are used), or a Network
      (with the batch x, y; without one, a batch of 10 is drawn from ``seed``).
    impl, impl_kind, impl_spec: as in ``gradcheck`` (any form of code it meets as written;
      the kind "gradient" or "step", or None to let the call show it).
    Returns the Report when it passes.
    """
    __tracebackhide__ = True
    if isinstance(config_or_network, (str, Path)):
        net, cx, cy = load_config(config_or_network)
        x = cx if x is None else x
        y = cy if y is None else y
    elif isinstance(config_or_network, Network):
        net = config_or_network
        if x is None or y is None:
            x, y = draw_batch(net, 10, np.random.default_rng(seed))
    else:
        raise TypeError("`config_or_network` must be a config path or a backprop.Network; got "
                        f"{type(config_or_network).__name__}")
    return assert_passed(_run(gradcheck, net, x, y, impl=impl, impl_kind=impl_kind,
                              impl_spec=impl_spec, method=method))


def assert_layer_gradients(forward, backward, *inputs, method="auto", sample=None, seed=0):
    """Raise AssertionError, its message the diagnosis first, unless ``backward`` gives the
    gradient of ``forward`` at ``inputs``; arguments as in ``check_layer`` (CS231n style:
    ``forward(*inputs) -> (out, cache)``, ``backward(dout, cache) -> grads``).  Returns the
    Report when it passes.

    >>> def scale_forward(x, w):
    ...     return x * w, (x, w)
    >>> def scale_backward(dout, cache):
    ...     x, w = cache
    ...     return dout * w, dout * x
    >>> assert_layer_gradients(scale_forward, scale_backward, np.ones(3), np.arange(3.0)).passed
    True
    """
    __tracebackhide__ = True
    return assert_passed(_run(check_layer, forward, backward, *inputs, method=method,
                              sample=sample, seed=seed))


def assert_function_gradients(f, params, grad=None, *, method="auto", sample=None, seed=0):
    """Raise AssertionError, its message the diagnosis first, unless the gradient ``f`` (or
    ``grad``) returns is the gradient of its loss; arguments as in ``check_function``
    (``f() -> (loss, grads)``, or ``f() -> loss`` with ``grad() -> grads``).  Returns the
    Report when it passes.

    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> assert_function_gradients(lambda: ((W ** 2).sum(), {"W": 2 * W}), {"W": W}).passed
    True
    """
    __tracebackhide__ = True
    return assert_passed(_run(check_function, f, params, grad, method=method, sample=sample,
                              seed=seed))
