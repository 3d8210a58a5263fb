"""A helper for your own pytest suite: fail a test when a backward pass is wrong.

>>> from backprop import Network, backward
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

__all__ = ["assert_gradients_match"]


def assert_gradients_match(impl, config_or_network, x=None, y=None, *, impl_kind=None,
                           impl_spec=None, method="complex_step", seed=0):
    """Raise AssertionError, with the full report and its diagnosis, unless ``impl`` computes the
    gradient of the network's loss.

    config_or_network: a path to a saved config (its weights and batch are used), or a Network
      (with the batch x, y; without one, a batch of 10 is drawn from ``seed``).
    impl, impl_kind, impl_spec: as in ``checks.gradcheck`` (any form of code it meets as written;
      the kind "gradient" or "step", or None to let the call show it).
    Returns the Report when it passes.
    """
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
    report = gradcheck(net, x, y, impl=impl, impl_kind=impl_kind, impl_spec=impl_spec,
                       method=method)
    if not report.passed:
        raise AssertionError("the gradient does not match the numeric gradient\n" + str(report))
    return report
