"""What several test modules share."""

import numpy as np


def flat(grad, names=None):
    """One vector from a gradient: a ``(nabla_w, nabla_b)`` pair (nabla_b may be None), or a dict
    of arrays taken in the order of ``names``."""
    if isinstance(grad, dict):
        return np.concatenate([np.ravel(grad[n]) for n in (names or grad)])
    nabla_w, nabla_b = grad
    return np.concatenate([np.ravel(g) for g in list(nabla_w) + list(nabla_b or [])])


def never_called_wrong(check, *args, **kwargs):
    """Run a check of correct code: it may find nothing to decide (``Undecidable``), but it must
    never call an entry wrong.  Returns the report, or None where nothing could be decided."""
    from gradcheck.checks.verdict import Undecidable

    try:
        report = check(*args, **kwargs)
    except Undecidable:
        return None
    assert not report.failing, str(report)
    return report
