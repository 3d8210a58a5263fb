"""Output formats of a report: a registry from name to renderer, ``--format NAME`` picks one.

Each renderer takes a ``Report`` and returns the text to write.  Adding a format is one function
here and one entry in ``FORMATS``.
"""

from __future__ import annotations

import html

__all__ = ["FORMATS", "render_text", "render_json", "render_html"]


def _entry_line(p, e):
    where = f"{p.name}[{', '.join(map(str, e.index))}]" if e.index else p.name
    mark = "ok  " if e.passed else "FAIL"
    return (f"    {where:<16} {e.analytic: .10e}  {e.numeric: .10e}  {mark}  "
            f"error {e.error:.2e} vs tolerance {e.tolerance:.2e}")


def render_text(report):
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [f"gradcheck {verdict}: {report.target} on {report.network}",
             f"  numeric side: {report.method.replace('_', ' ')}, {report.mode} check, "
             f"{report.evaluations} evaluations; judged at {report.precision}"]
    width = max([len(f"{p.name}: {p.connects}") for p in report.parameters] + [1])
    for p in report.parameters:
        label = f"{p.name}: {p.connects}".ljust(width)
        status = "ok  " if p.passed else "FAIL"
        extra = f"  {p.mismatches} of {p.checked} entries off" if p.mismatches else ""
        if p.skipped:
            extra += f"  ({p.skipped} not compared: at or across a kink)"
        lines.append(f"  {label}  {status}  max relative error {p.max_relative_error:.2e}{extra}")
    failing = [p for p in report.parameters if not p.passed]
    if failing:
        lines.append("  worst entries (analytic, numeric, verdict, |error| vs tolerance):")
        for p in failing:
            lines.extend(_entry_line(p, e) for e in p.worst[:3])
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.diagnosis:
        lines.append(f"  diagnosis: {report.diagnosis}")
    return "\n".join(lines)


def render_json(report):
    return report.to_json()


def render_html(report):
    """A table for Jupyter: one row per array, the failing ones highlighted, then the diagnosis."""
    esc = html.escape
    colour = "#1a7f37" if report.passed else "#cf222e"
    rows = []
    for p in report.parameters:
        style = "" if p.passed else ' style="background:#ffebe9"'
        rows.append(
            f"<tr{style}><td><code>{esc(p.name)}</code></td><td>{esc(p.connects)}</td>"
            f"<td>{'ok' if p.passed else '<b>FAIL</b>'}</td><td>{p.max_relative_error:.2e}</td>"
            f"<td>{p.mismatches} of {p.checked}</td><td>{p.skipped or ''}</td></tr>")
    parts = [
        f'<div class="gradcheck-report"><p><b style="color:{colour}">gradcheck '
        f'{"PASSED" if report.passed else "FAILED"}</b>: {esc(report.target)} on '
        f"{esc(report.network)}<br><small>{esc(report.method.replace('_', ' '))}, {report.mode} "
        f"check, {report.evaluations} evaluations; judged at {report.precision}</small></p>",
        "<table><thead><tr><th>array</th><th>connects</th><th>verdict</th>"
        "<th>max relative error</th><th>entries off</th><th>not compared</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"]
    for note in report.notes:
        parts.append(f"<p><small>note: {esc(note)}</small></p>")
    if report.diagnosis:
        parts.append(f"<p><b>diagnosis:</b> {esc(report.diagnosis)}</p>")
    parts.append("</div>")
    return "".join(parts)


#: Registry: the formats ``--format`` may name.
FORMATS = {"text": render_text, "json": render_json, "html": render_html}
