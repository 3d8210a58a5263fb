"""The report as a picture (``Report.plot()``, ``--plot FILE.png``; needs the ``plot`` extra).

Above, the verdict, the code checked and the diagnosis.  Then one column per array: on top, the
analytic entries against the numeric ones (on the grey diagonal when right; a line of another
slope for a constant factor, scatter for a pattern), the entries off in red; below, the signed
difference (analytic - numeric) / max |numeric| as a heat map, pale within tolerance, so an array
off by a pattern, a row or a single entry shows at a glance.  An array with more rows or columns
than ``MAX_CELLS`` is shown by blocks, each cell the block's entry of largest |difference|, so a
single wrong entry of a 30 x 784 W1 still shows and the picture never aliases into stripes.

matplotlib is imported only here, and only when a picture is asked for.  ``Report.plot()`` draws
into a pyplot figure of whatever backend is current (a notebook shows it, a script's
``plt.show()`` opens it); given a path, the figure is made outside pyplot and only saved, so the
command selects no backend at all.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np

from .formats import array_status, short_target, verdict_word

__all__ = ["plot_report", "require_matplotlib", "short_target", "block_extremes", "unicode_math",
           "MAX_CELLS"]

#: a heat map shows at most this many rows and columns of cells (fewer than its pixels)
MAX_CELLS = 150
#: at most this many arrays side by side; more go on further rows
MAX_COLUMNS = 6
#: scatter points per array (the entries off are all kept, the others thinned)
MAX_POINTS = 20_000
COLOURS = {"PASSED": "#1a7f37", "FAILED": "#cf222e", "UNDECIDED": "#9a6700", "ok": "#1a7f37",
           "FAIL": "#cf222e", "undecided": "#9a6700"}
DPI = 110
COLUMN_INCHES, ROW_INCHES = 3.2, 6.0
TITLE_CHARS = 70


def require_matplotlib():
    """Raise ValueError, saying how to install it, unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'gradcheck[plot]' (or "
                         "pip install matplotlib)") from None


_GREEK = [(re.compile(r"\bsigma'"), "\u03c3\u2032"), (re.compile(r"\bsigma\b"), "\u03c3"),
          (re.compile(r"\bdelta\b"), "\u03b4"), (re.compile(r"\bnabla\b"), "\u2207"),
          (re.compile(r" -> "), " \u2192 ")]
_SUPERSCRIPTS = str.maketrans("0123456789+-()TLlkni", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076"
                              "\u2077\u2078\u2079\u207a\u207b\u207d\u207e\u1d40\u1d38\u02e1\u1d4f"
                              "\u207f\u2071")
_POWER = re.compile(r"(?<=[\w)])\^(\{([0-9+\-()TLlkni]+)\}|([0-9TLlkni]+)\b)")


def unicode_math(text):
    """The diagnosis's ASCII math in Unicode for a picture (no TeX): ``sigma'`` -> σ′,
    ``delta^{l+1}`` -> δˡ⁺¹, ``W^T`` -> Wᵀ; a power with other characters, and code spans, stay
    as written, and a ``$`` cannot start TeX.

    >>> unicode_math("delta^2 = ((W^3)^T delta^3) * sigma'(z^2), W^{l+1}, a^{2x}, `delta^2`")
    'δ² = ((W³)ᵀ δ³) * σ′(z²), Wˡ⁺¹, a^{2x}, `delta^2`'
    """
    parts = text.split("`")
    for k in range(0, len(parts), 2):  # outside code spans
        for pattern, symbol in _GREEK:
            parts[k] = pattern.sub(symbol, parts[k])
        parts[k] = _POWER.sub(lambda m: (m.group(2) or m.group(3)).translate(_SUPERSCRIPTS),
                              parts[k])
    return "`".join(parts).replace("$", r"\$")


def _as_2d(a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:
        return a
    if a.ndim < 2:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def block_extremes(values, max_rows=MAX_CELLS, max_cols=MAX_CELLS):
    """``values`` (2-D) shrunk to at most max_rows x max_cols cells, each the entry of largest
    |value| of its block (NaN only where the whole block is), and the block's shape.

    >>> block_extremes(np.array([[0.0, -3.0, 1.0, 2.0]]), 1, 2)
    (array([[-3.,  2.]]), (1, 2))
    """
    rows, cols = values.shape
    br, bc = max(1, math.ceil(rows / max_rows)), max(1, math.ceil(cols / max_cols))
    if br == bc == 1:
        return values, (1, 1)
    R, C = math.ceil(rows / br), math.ceil(cols / bc)
    padded = np.full((R * br, C * bc), np.nan)
    padded[:rows, :cols] = values
    blocks = padded.reshape(R, br, C, bc).transpose(0, 2, 1, 3).reshape(R, C, br * bc)
    size = np.where(np.isnan(blocks), -1.0, np.abs(blocks))
    pick = size.argmax(axis=-1)[..., None]
    return np.take_along_axis(blocks, pick, axis=-1)[..., 0], (br, bc)


def _thin(mask, limit, rng):
    """``mask`` keeping at most ``limit`` of its True entries, drawn at random."""
    where = np.flatnonzero(mask)
    if where.size <= limit:
        return mask
    out = np.zeros(mask.size, dtype=bool)
    out[rng.choice(where, limit, replace=False)] = True
    return out.reshape(mask.shape)


def _scatter(ax, p, analytic, numeric, bad, rng):
    """Analytic against numeric, the diagonal in grey, the entries off in red."""
    finite = np.isfinite(analytic) & np.isfinite(numeric)
    lo = float(np.min(numeric, initial=0.0, where=finite))
    hi = float(np.max(numeric, initial=0.0, where=finite))
    span = max(hi - lo, 1e-300)
    ends = [lo - 0.05 * span, hi + 0.05 * span]
    ax.plot(ends, ends, color="0.7", lw=1)
    off = finite & bad
    ok = _thin(finite & ~bad, max(MAX_POINTS - int(off.sum()), 0), rng)
    ax.scatter(numeric[ok], analytic[ok], s=6, color=COLOURS["ok"], label="ok")
    ax.scatter(numeric[off], analytic[off], s=6, color=COLOURS["FAIL"], label="off")
    status = array_status(p)
    ax.set_title(f"{p.name}: {status}", color=COLOURS[status], fontsize=10)
    ax.set_xlabel("numeric", fontsize=8)
    ax.tick_params(labelsize=7)


def _heat_map(fig, ax, analytic, numeric, tolerance):
    """(analytic - numeric) / max |numeric|, by blocks where the array is large."""
    import matplotlib
    import matplotlib.ticker

    finite = np.isfinite(analytic) & np.isfinite(numeric)
    scale = float(np.max(np.abs(numeric), initial=0.0, where=finite)) or 1.0
    with np.errstate(invalid="ignore"):
        rel = _as_2d(np.where(finite, (analytic - numeric) / scale, np.nan))
    cells, (br, bc) = block_extremes(rel)
    # at least the tolerance: within it the map stays pale, so a passing array looks it
    limit = max(float(np.nanmax(np.abs(rel), initial=0.0)),
                float(np.max(tolerance, initial=0.0, where=np.isfinite(tolerance))) / scale,
                1e-300)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.8")
    image = ax.imshow(cells, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto",
                      interpolation="nearest")
    title = f"difference / {scale:.2g}"
    if br * bc > 1:
        title += f"\n(largest of each {br} x {bc} block)"
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, ticks=[-limit, 0, limit],
                       format=matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.2g}"))
    bar.ax.tick_params(labelsize=6)  # tick labels in full: no offset text above the bar


def _diagnosis_lines(report, width_inches):
    """The diagnosis wrapped to the figure's width (about 4.6 points per character at 8.5)."""
    if not report.diagnosis:
        return []
    chars = max(int(width_inches * 72 / 4.6), 40)
    return textwrap.wrap(f"diagnosis: {unicode_math(report.diagnosis)}", chars,
                         break_long_words=False, break_on_hyphens=False)


def _heading_inches(report, width_inches):
    """The height the heading needs: the verdict line, and the diagnosis's lines."""
    return 0.45 + 0.16 * len(_diagnosis_lines(report, width_inches))


def _heading(fig, report, width_inches):
    """The verdict and the code checked, then the diagnosis wrapped to the figure's width."""
    word = verdict_word(report)
    height = _heading_inches(report, width_inches)
    title = f"gradcheck {word}: {short_target(report.target, TITLE_CHARS)}"
    where = next((f.where for f in report.findings if getattr(f, "where", None)), None)
    if where is not None:  # the line of the user's file the diagnosis names
        title += f" | {Path(where.file).name} line {where.line}"
    title = title.replace("$", r"\$")
    fig.text(0.01, 1 - 0.08 / height, title,
             ha="left", va="top", fontsize=11, weight="bold", color=COLOURS[word])
    lines = _diagnosis_lines(report, width_inches)
    if lines:
        fig.text(0.01, 1 - 0.36 / height, "\n".join(lines), ha="left", va="top", fontsize=8.5)


def _new_figure(size, saved):
    """A figure in pyplot's current backend, or, when it is only to be saved, outside pyplot."""
    if saved:
        from matplotlib.figure import Figure
        return Figure(figsize=size, dpi=DPI, layout="constrained")
    import matplotlib.pyplot as plt
    return plt.figure(figsize=size, layout="constrained")


def plot_report(report, path=None):
    """The picture of ``report`` (which must carry its arrays: a full check) as a matplotlib
    Figure; with ``path``, saved there (PNG, or the format its suffix names) and not left open
    in pyplot."""
    require_matplotlib()
    if not report.arrays:
        raise ValueError("a plot needs a full check (mode 'full', --mode full): the directional "
                         "check has no entries to draw")
    n = len(report.parameters)
    columns, bands = min(n, MAX_COLUMNS), math.ceil(n / MAX_COLUMNS)
    width = max(COLUMN_INCHES * columns, 6.4)
    heading = _heading_inches(report, width)
    fig = _new_figure((width, heading + ROW_INCHES * bands), path is not None)
    top, body = fig.subfigures(2, 1, height_ratios=[heading, ROW_INCHES * bands])
    _heading(top, report, width)
    axes = body.subplots(2 * bands, columns, squeeze=False)
    rng = np.random.default_rng(0)
    for k, p in enumerate(report.parameters):
        analytic, numeric, tolerance = (np.asarray(a, dtype=float) for a in report.arrays[p.name])
        band, col = divmod(k, MAX_COLUMNS)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(analytic - numeric) <= tolerance)
        _scatter(axes[2 * band, col], p, analytic, numeric, bad, rng)
        _heat_map(body, axes[2 * band + 1, col], analytic, numeric, tolerance)
    for k in range(n, bands * columns):
        band, col = divmod(k, MAX_COLUMNS)
        axes[2 * band, col].set_visible(False)
        axes[2 * band + 1, col].set_visible(False)
    axes[0, 0].set_ylabel("analytic", fontsize=8)
    body.supxlabel("top: analytic against numeric (grey: equal; red: entries off); bottom: "
                   "analytic - numeric over the array's largest |numeric|, pale within tolerance",
                   fontsize=7)
    if path is not None:
        fig.savefig(Path(path), dpi=DPI)
    return fig
