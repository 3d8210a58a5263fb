"""The report as a picture (``--plot FILE.png``, needs the ``plot`` extra: matplotlib).

One column per array: above, the analytic entries against the numeric ones (on the diagonal when
right; a line of another slope for a constant factor, scatter for a pattern), the failing entries
in red; below, the signed difference (analytic - numeric) / max |numeric| as a heat map, so an
array off by a pattern, a row or a single entry shows at a glance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_report", "require_matplotlib"]


def require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ValueError("--plot needs matplotlib: pip install 'gradcheck[plot]' (or "
                         "pip install matplotlib)") from None
    matplotlib.use("Agg")


def _as_2d(a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:
        return a
    if a.ndim < 2:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def plot_report(report, path):
    """Write the picture of ``report`` (which must carry its arrays: a full check) to ``path``."""
    require_matplotlib()
    import matplotlib.pyplot as plt

    if not report.arrays:
        raise ValueError("--plot needs a full check (--mode full): the directional check has no "
                         "entries to draw")
    names = [p.name for p in report.parameters]
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 6.2), squeeze=False)
    for col, p in enumerate(report.parameters):
        analytic, numeric, tolerance = report.arrays[p.name]
        bad = ~(np.abs(analytic - numeric) <= tolerance)
        top = axes[0, col]
        finite = np.isfinite(analytic)
        lo = float(np.min(numeric, initial=0.0))
        hi = float(np.max(numeric, initial=0.0))
        span = max(hi - lo, 1e-300)
        top.plot([lo - 0.05 * span, hi + 0.05 * span], [lo - 0.05 * span, hi + 0.05 * span],
                 color="0.7", lw=1)
        top.scatter(numeric[finite & ~bad], analytic[finite & ~bad], s=8, color="#1a7f37",
                    label="ok")
        top.scatter(numeric[finite & bad], analytic[finite & bad], s=8, color="#cf222e",
                    label="off")
        top.set_title(f"{p.name}: {'ok' if p.passed else 'FAIL'}", color="#1a7f37" if p.passed
                      else "#cf222e")
        top.set_xlabel("numeric")
        if col == 0:
            top.set_ylabel("analytic")
        scale = float(np.max(np.abs(numeric), initial=0.0)) or 1.0
        with np.errstate(invalid="ignore"):
            rel = _as_2d(np.where(finite, (analytic - numeric) / scale, np.nan))
        bottom = axes[1, col]
        # at least the tolerance: within it the map stays pale, so a passing array looks it
        limit = max(float(np.nanmax(np.abs(rel), initial=0.0)),
                    float(np.max(tolerance, initial=0.0)) / scale, 1e-300)
        image = bottom.imshow(rel, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                              interpolation="nearest")
        bottom.set_title(f"(analytic - numeric) / {scale:.2g}; pale: within tolerance",
                         fontsize=7)
        bottom.set_xticks([])
        bottom.set_yticks([])
        fig.colorbar(image, ax=bottom, fraction=0.046)
    verdict = "PASSED" if report.passed else "FAILED"
    fig.suptitle(f"gradcheck {verdict}: {report.target}", fontsize=10)
    fig.tight_layout()
    fig.savefig(Path(path), dpi=110)
    plt.close(fig)
    return Path(path)
