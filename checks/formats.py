"""Output formats of a report: a registry from name to renderer, ``--format NAME`` picks one.

Each renderer takes a ``Report`` and returns the text to write.  Adding a format is one function
here and one entry in ``FORMATS``.

The text report fits the terminal: every line is wrapped to ``width`` columns (the terminal's, or
80 where there is none), between words and never inside one, and a bracketed list such as
``[784, 30, 10]`` or a `code span` is kept on one line.  With ``color=True`` the verdicts are
painted (ANSI): FAIL red, ok green, undecided yellow; the width ignores the paint.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import sys
import textwrap

__all__ = ["FORMATS", "render_text", "render_json", "render_html", "render_verdict",
           "verdict_word", "array_status", "short_target", "terminal_width", "DEFAULT_WIDTH"]

#: the width where there is no terminal to measure (a pipe, a file, a notebook, a test)
DEFAULT_WIDTH = 80
#: below this the report would be all wrapping; narrower terminals get lines that overflow
MIN_WIDTH = 40
#: worst entries shown per failing array
SHOWN_WORST = 3


def terminal_width(stream=None):
    """The columns to wrap to: ``$COLUMNS`` where set, else the terminal's width when ``stream``
    (default: ``sys.stdout``) is a terminal, else 80."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), MIN_WIDTH)
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return DEFAULT_WIDTH
    return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_WIDTH)


# -- paint and wrapping ------------------------------------------------------------------------
STYLES = {"FAIL": "1;31", "FAILED": "1;31", "ok": "32", "PASSED": "1;32", "undecided": "33",
          "UNDECIDED": "1;33"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _paint(word, color, style=None):
    """``word`` in its colour (``STYLES``) when ``color``, else as it is."""
    code = STYLES.get(style or word.strip())
    if not color or code is None:
        return word
    return f"\x1b[{code}m{word}\x1b[0m"


def _visible(text):
    return len(_ANSI.sub("", text))


#: a placeholder for the spaces inside a group kept on one line (a private-use character)
_GLUE = "\ue000"
_GROUPS = re.compile(r"(?:\bon )?\[[^\[\]]{0,40}\]|`[^`]{0,40}`|(?:\w+ )?\([^()]{0,16}\)")


def _prose(text, width, first, hang):
    """``text`` wrapped to ``width`` between words: the first line after ``first``, the others
    after ``hang`` spaces; bracketed lists and code spans stay whole."""
    glued = _GROUPS.sub(lambda m: m.group(0).replace(" ", _GLUE), text)
    lines = textwrap.wrap(glued, width=width, initial_indent=first, subsequent_indent=" " * hang,
                          break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
    return [line.replace(_GLUE, " ") for line in lines]


def _pack(chunks, width, hang, sep="  "):
    """Chunks (each kept whole) on as few lines as fit in ``width``, continuation lines indented
    by ``hang`` spaces; a chunk wider than the line gets a line of its own."""
    lines, line = [], ""
    for chunk in chunks:
        if line and _visible(line) + len(sep) + _visible(chunk) > width:
            lines.append(line)
            line = " " * hang + chunk
        else:
            line = f"{line}{sep}{chunk}" if line else chunk
    return lines + [line]


# -- the text report ---------------------------------------------------------------------------
def verdict_word(report):
    """PASSED, FAILED (some entry disagrees) or UNDECIDED (nothing could be decided)."""
    if report.passed:
        return "PASSED"
    if report.failing or report.decided:
        return "FAILED"
    return "UNDECIDED"


def render_verdict(report, width=None, color=False):
    """The verdict line alone (``--quiet``), one line: the verdict, the code checked (shortened
    to fit ``width`` where it can be), and which arrays are wrong or why nothing could be
    decided."""
    width = width or terminal_width()
    word = verdict_word(report)
    extra = ""
    if report.failing:
        extra = f": {', '.join(report.failing)} wrong"
    elif word == "UNDECIDED":
        extra = ": nothing could be decided"
    elif report.undecided:
        extra = f" ({sum(report.undecided.values())} entries undecided)"
    lead = f"gradcheck {word}: "
    target = short_target(report.target, width - len(lead) - len(extra))
    return f"gradcheck {_paint(word, color)}: {target}{extra}"


def short_target(target, limit):
    """``target`` in at most about ``limit`` characters: as it is when it fits, else without the
    file's folders, and then a long expression cut (its kind, "(step)", kept).

    >>> short_target("examples/seeds_train.py:train_code2 (step)", 60)
    'examples/seeds_train.py:train_code2 (step)'
    >>> short_target("ex/dlai.py:lambda X, Y: backward(X, Y, forward(X, Y)[1]) (gradient)", 40)
    'dlai.py:lambda X, Y: backw... (gradient)'
    """
    if len(target) <= limit:
        return target
    kind = re.search(r" \((gradient|step)\)$", target)
    suffix = kind.group(0) if kind else ""
    body = target[:len(target) - len(suffix)]
    file, sep, expression = body.partition(".py:")
    if sep:
        body = f"{os.path.basename(file)}{sep}{expression}"
    room = max(limit - len(suffix), 12)
    if len(body) > room:
        body = body[:room - 3].rstrip() + "..."
    return body + suffix


def _header(report, width, color):
    """The verdict, the code checked and the network it ran on, wrapped."""
    word = verdict_word(report)
    lines = _prose(f"gradcheck {word}: {report.target} on {report.network}", width, "", 2)
    lines[0] = lines[0].replace(word, _paint(word, color), 1)
    return lines


def _numeric_side(report, width):
    return _prose(f"numeric side: {report.method.replace('_', ' ')}, {report.mode} check, "
                  f"{report.evaluations} evaluations; judged at {report.precision}", width, "  ", 4)


def array_status(p):
    """An array's verdict: FAIL (an entry disagrees), ok, or undecided (no entry decided)."""
    if p.mismatches or not p.passed:
        return "FAIL"
    return "ok" if p.checked else "undecided"


def _array_lines(report, width, color):
    """One line per array (wrapped at its fields), its undecided entries under it by reason."""
    labels = [f"{p.name}: {p.connects}" for p in report.parameters]
    label_width = max(map(len, labels), default=1)
    statuses = [array_status(p) for p in report.parameters]
    status_width = max(map(len, statuses), default=4)
    lines = []
    for p, label, status in zip(report.parameters, labels, statuses):
        chunks = [f"  {label.ljust(label_width)}",
                  _paint(status, color) + " " * (status_width - len(status))]
        if p.checked:
            chunks.append(f"max relative error {p.max_relative_error:.2e}")
        if p.mismatches:
            chunks.append(f"{p.mismatches} of {p.checked} off")
        hang = 2 + label_width + 2 + status_width + 2
        lines += _pack(chunks, width, hang if hang <= width - 30 else 4)
        for reason, count in p.undecided.items():
            lines += _prose(f"{count} undecided: {reason}", width, "      ", 8)
    return lines


def _entry_lines(report, width, color):
    """The worst entries of the failing arrays: where, both values, and the error against its
    tolerance."""
    shown = [(p, e) for p in report.parameters if array_status(p) == "FAIL"
             for e in p.worst[:SHOWN_WORST]]
    if not shown:
        return []
    wheres = [f"{p.name}[{', '.join(map(str, e.index))}]" if e.index else p.name for p, e in shown]
    pad = max(map(len, wheres))
    lines = _prose("worst entries (analytic, numeric, verdict, |error| vs tolerance):", width,
                   "  ", 4)
    for (p, e), where in zip(shown, wheres):
        mark = "ok" if e.passed else "FAIL"
        chunks = [f"    {where.ljust(pad)}", f"{e.analytic: .5e}", f"{e.numeric: .5e}",
                  _paint(mark, color) + " " * (4 - len(mark)),
                  f"error {e.error:.2e} vs {e.tolerance:.2e}"]
        lines += _pack(chunks, width, 8)
    return lines


def _undecided_lines(report, width):
    """A summary when some entries could not be decided: how many, why, and what the verdict
    rests on."""
    undecided = report.undecided
    if not undecided:
        return []
    total = sum(undecided.values())
    decided = sum(p.checked for p in report.parameters)
    why = "; ".join(f"{n} {reason}" for reason, n in undecided.items())
    rests = (f"the verdict rests on the other {decided}" if decided
             else "nothing could be decided, so there is no verdict")
    return _prose(f"undecided: {total} of {total + decided} entries, counted neither way "
                  f"({why}); {rests}", width, "  ", 4)


def render_text(report, width=None, color=False, diagnosis_first=False):
    """The report as text wrapped to ``width`` columns (default: the terminal's, else 80).

    ``color``: paint the verdicts (ANSI).  ``diagnosis_first``: what is wrong right after the
    verdict (an assertion's message): the diagnosis, or why nothing could be decided; else the
    diagnosis comes last."""
    width = max(width or terminal_width(), MIN_WIDTH)
    diagnosis = _prose(f"diagnosis: {report.diagnosis}", width, "  ", 4) if report.diagnosis else []
    undecided = _undecided_lines(report, width)
    first = diagnosis + (undecided if not report.decided else []) if diagnosis_first else []
    lines = _header(report, width, color) + first + _numeric_side(report, width)
    lines += _array_lines(report, width, color) + _entry_lines(report, width, color)
    lines += [line for line in undecided if line not in first]
    for note in report.notes:
        lines += _prose(f"note: {note}", width, "  ", 4)
    if not diagnosis_first:
        lines += diagnosis
    return "\n".join(lines)


def render_json(report):
    return report.to_json()


# -- HTML (Jupyter) ----------------------------------------------------------------------------
#: ASCII math of the diagnoses and the symbols it stands for (applied outside code spans)
_SYMBOLS = [(re.compile(r"\bsigma'"), "\u03c3\u2032"), (re.compile(r"\bsigma\b"), "\u03c3"),
            (re.compile(r"\bdelta\b"), "\u03b4"), (re.compile(r"\bnabla\b"), "\u2207"),
            (re.compile(r"\beta\b"), "\u03b7"), (re.compile(r"\btheta\b"), "\u03b8"),
            (re.compile(r" -&gt; "), " \u2192 "), (re.compile(r" &lt;= "), " \u2264 "),
            (re.compile(r" &gt;= "), " \u2265 "), (re.compile(r" \+- "), " \u00b1 ")]
_SUPERSCRIPT = re.compile(r"(?<=[\w)])\^(\{([^{}]*)\}|(-?\w+))")


def render_math(text):
    """Plain text with its ASCII math as HTML: ``sigma'`` -> σ′, ``delta^l`` -> δ<sup>l</sup>,
    ``(W^{l+1})^T`` -> (W<sup>l+1</sup>)<sup>T</sup>, `code` -> <code>code</code> (left as
    written inside); everything else escaped.

    >>> render_math("BP2: delta^2 = ((W^3)^T delta^3) * sigma'(z^2)")
    'BP2: δ<sup>2</sup> = ((W<sup>3</sup>)<sup>T</sup> δ<sup>3</sup>) * σ′(z<sup>2</sup>)'
    >>> render_math("the line `delta = W.T @ d`")
    'the line <code>delta = W.T @ d</code>'
    """
    parts = text.split("`")
    out = []
    for k, part in enumerate(parts):
        if k % 2 and k < len(parts) - 1:  # inside a code span
            out.append(f"<code>{html.escape(part)}</code>")
            continue
        prose = html.escape(part if k % 2 == 0 else "`" + part, quote=False)
        for pattern, symbol in _SYMBOLS:
            prose = pattern.sub(symbol, prose)
        out.append(_SUPERSCRIPT.sub(lambda m: f"<sup>{m.group(2) or m.group(3)}</sup>", prose))
    return "".join(out)


_HTML_COLOURS = {"FAIL": "#cf222e", "ok": "#1a7f37", "undecided": "#9a6700",
                 "FAILED": "#cf222e", "PASSED": "#1a7f37", "UNDECIDED": "#9a6700"}


def _html_verdict(word, bold=False):
    text = f"<b>{word}</b>" if bold else word
    return f'<span style="color:{_HTML_COLOURS[word]}">{text}</span>'


def _html_arrays(report):
    esc = html.escape
    rows = []
    for p in report.parameters:
        status = array_status(p)
        style = ' style="background:#ffebe9"' if status == "FAIL" else ""
        why = "; ".join(f"{n} {reason}" for reason, n in p.undecided.items())
        undecided = f'<span title="{esc(why)}">{p.skipped}</span>' if p.skipped else ""
        error = f"{p.max_relative_error:.2e}" if p.checked else ""
        rows.append(f"<tr{style}><td><code>{esc(p.name)}</code></td>"
                    f"<td>{render_math(p.connects)}</td>"
                    f"<td>{_html_verdict(status, status == 'FAIL')}</td><td>{error}</td>"
                    f"<td>{p.mismatches} of {p.checked}</td><td>{undecided}</td></tr>")
    return ("<table><thead><tr><th>array</th><th>connects</th><th>verdict</th>"
            "<th>max relative error</th><th>entries off</th><th>undecided</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _html_worst(report):
    rows = []
    for p in report.parameters:
        if array_status(p) != "FAIL":
            continue
        for e in p.worst[:SHOWN_WORST]:
            where = f"{p.name}[{', '.join(map(str, e.index))}]" if e.index else p.name
            rows.append(f"<tr><td><code>{html.escape(where)}</code></td><td>{e.analytic:.6e}</td>"
                        f"<td>{e.numeric:.6e}</td><td>{e.error:.2e}</td><td>{e.tolerance:.2e}</td>"
                        f"<td>{_html_verdict('ok' if e.passed else 'FAIL')}</td></tr>")
    if not rows:
        return ""
    return ("<p><small>worst entries</small></p><table><thead><tr><th>entry</th>"
            "<th>analytic</th><th>numeric</th><th>|error|</th><th>tolerance</th><th>verdict</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def render_html(report):
    """A table for Jupyter: the verdict, the diagnosis (its math rendered), one row per array
    (the failing ones highlighted, undecided entries counted with their reasons), the worst
    entries of the failing arrays, then the notes."""
    esc = html.escape
    word = verdict_word(report)
    parts = [
        f'<div class="gradcheck-report"><p>gradcheck {_html_verdict(word, bold=True)}: '
        f"{esc(report.target)} on {esc(report.network)}<br><small>"
        f"{esc(report.method.replace('_', ' '))}, {report.mode} check, {report.evaluations} "
        f"evaluations; judged at {report.precision}</small></p>"]
    if report.diagnosis:
        parts.append(f"<p><b>diagnosis:</b> {render_math(report.diagnosis)}</p>")
    parts.append(_html_arrays(report))
    parts.append(_html_worst(report))
    if report.undecided:
        why = "; ".join(f"{n} {esc(reason)}" for reason, n in report.undecided.items())
        parts.append(f"<p><small>{_html_verdict('undecided')}: "
                     f"{sum(report.undecided.values())} entries, counted neither way ({why})"
                     "</small></p>")
    for note in report.notes:
        parts.append(f"<p><small>note: {render_math(note)}</small></p>")
    parts.append("</div>")
    return "".join(parts)


#: Registry: the formats ``--format`` may name.
FORMATS = {"text": render_text, "json": render_json, "html": render_html}
