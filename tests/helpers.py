"""What several test modules share."""

import numpy as np


def flat(grad, names=None):
    """One vector from a gradient: a ``(nabla_w, nabla_b)`` pair (nabla_b may be None), or a dict
    of arrays taken in the order of ``names``."""
    if isinstance(grad, dict):
        return np.concatenate([np.ravel(grad[n]) for n in (names or grad)])
    nabla_w, nabla_b = grad
    return np.concatenate([np.ravel(g) for g in list(nabla_w) + list(nabla_b or [])])
