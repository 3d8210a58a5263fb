"""Output formats: text (wrapped to the terminal, coloured on request), JSON (valid in every case)
and HTML (the worst entries, the math rendered)."""

import io
import json
import re

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks import check_function, gradcheck
from gradcheck.checks.formats import (FORMATS, render_html, render_math, render_text,
                                      render_verdict, terminal_width)
from gradcheck.checks.report import Entry, ParameterCheck, Report

ANSI = re.compile(r"\x1b\[[0-9;]*m")
KINK = ("a kink, a jump in a derivative, or a loss too coarse to difference (rounding the code "
        "amplifies) within the numeric steps")


@pytest.fixture(scope="module")
def failed():
    net = Network([3, 4, 2], seed=0)
    rng = np.random.default_rng(0)
    return gradcheck(net, rng.standard_normal((3, 5)), rng.uniform(0, 1, (2, 5)), variant="code2")


@pytest.fixture(scope="module")
def seeds_code2(request):
    from gradcheck.backprop import load_config
    net, x, y = load_config(request.config.rootpath / "examples" / "seed.toml")
    return gradcheck(net, x, y, variant="code2")


def partly_undecided():
    """A report of one array of 3 entries: 2 wrong, 1 undecided at a kink."""
    p = ParameterCheck("W", "input W", (3,), False, 1.0, checked=2, mismatches=2, skipped=1,
                       worst=(Entry((2,), -2.0, -1.0, 1e-11),), undecided={KINK: 1})
    return Report(False, 1.0, (p,), "<lambda>", "richardson", "full", 18, "W (3,)",
                  diagnosis="W is exactly 2 times the true gradient.")


def undecided_only():
    p = ParameterCheck("W", "input W", (3,), True, 0.0, checked=0, mismatches=0, skipped=3,
                       undecided={KINK: 3})
    return Report(False, 0.0, (p,), "<lambda>", "richardson", "full", 18, "W (3,)")


def test_every_format_renders_a_report(failed):
    assert FORMATS["text"](failed).startswith("gradcheck FAILED")
    data = json.loads(FORMATS["json"](failed))
    assert data["passed"] is False and data["findings"] and data["precision"] == "float64"
    html = FORMATS["html"](failed)
    assert "<table>" in html and "background:#ffebe9" in html and "diagnosis" in html
    assert failed._repr_html_() == html


def test_the_seeds_failing_report_fits_in_80_columns(seeds_code2):
    text = render_text(seeds_code2, width=80)
    assert max(map(len, text.splitlines())) <= 80
    assert "23520 of 23520 off" in text and "diagnosis: The step into layer 2 propagates the error of layer 3" in text


@pytest.mark.parametrize("width", [40, 57, 80, 100])
def test_wrapping_never_breaks_a_word(seeds_code2, width):
    wrapped = render_text(seeds_code2, width=width)
    assert wrapped.split() == render_text(seeds_code2, width=10_000).split()
    long = [line for line in wrapped.splitlines() if len(line) > width]
    # only a single word longer than the line may overflow it
    assert all(len(line.split()) == 1 or max(map(len, line.split())) > width // 2 for line in long)


def test_a_bracketed_layer_list_and_code_spans_stay_on_one_line(seeds_code2):
    text = render_text(seeds_code2, width=60)
    assert "[784, 30, 20, 10]" in text and "`delta = W[k].T @ delta`" in text


def test_the_width_is_80_without_a_terminal_and_the_terminals_with_one(monkeypatch):
    import os

    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_width(io.StringIO()) == 80

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((132, 40)))
    assert terminal_width(Terminal()) == 132
    monkeypatch.setenv("COLUMNS", "100")
    assert terminal_width(io.StringIO()) == 100


def test_colour_paints_fail_red_and_ok_green_without_changing_the_layout(seeds_code2):
    plain = render_text(seeds_code2, width=80)
    painted = render_text(seeds_code2, width=80, color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31mFAILED\x1b[0m" in painted and "\x1b[1;31mFAIL\x1b[0m" in painted
    assert "\x1b[32mok\x1b[0m" in painted
    assert ANSI.sub("", painted) == plain


def test_undecided_entries_are_shown_per_array_with_their_reason_and_summed_up():
    text = render_text(partly_undecided(), width=80)
    assert f"1 undecided: {KINK}" in " ".join(text.split())  # wrapped at 80 columns
    assert "\n      1 undecided: a kink" in text
    summary = " ".join(text[text.index("  undecided: "):].split())
    assert summary.startswith("undecided: 1 of 3 entries, counted neither way")
    assert "the verdict rests on the other 2" in summary


def test_a_check_where_nothing_was_decided_is_neither_passed_nor_failed():
    text = render_text(undecided_only(), width=80)
    assert text.startswith("gradcheck UNDECIDED: <lambda>")
    assert "W: input W  undecided" in text and "max relative error" not in text
    assert "nothing could be decided" in " ".join(text.split())
    assert render_verdict(undecided_only(), 80) == (
        "gradcheck UNDECIDED: <lambda>: nothing could be decided")


def test_the_diagnosis_can_come_right_after_the_verdict(failed):
    lines = render_text(failed, width=80, diagnosis_first=True).splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("  diagnosis: "))
    assert first < next(k for k, line in enumerate(lines) if line.startswith("  numeric side"))
    last = render_text(failed, width=80).splitlines()
    table = next(k for k, line in enumerate(last) if line.startswith("  worst entries"))
    assert not last[1].startswith("  diagnosis") and any(
        line.startswith("  diagnosis: ") for line in last[table:])


def test_the_verdict_line_alone_names_the_wrong_arrays(failed):
    assert render_verdict(failed, 80) == "gradcheck FAILED: variant 'code2': W1, b1 wrong"
    assert "\x1b[1;31mFAILED" in render_verdict(failed, 80, color=True)


def test_the_html_shows_the_worst_entries_and_the_undecided_counts():
    html = render_html(partly_undecided())
    assert "<th>entry</th>" in html and "<code>W[2]</code>" in html and "-2.000000e+00" in html
    assert f'title="1 {KINK}"' in html and "1 entries, counted neither way" in html


def test_the_html_renders_the_diagnosis_math_and_code(failed):
    html = render_html(failed)
    diagnosis = html[html.index("<b>diagnosis:</b>"):]
    assert "δ<sup>2</sup>" in diagnosis and "σ′" in diagnosis
    assert "(W<sup>2</sup>)<sup>T</sup>" in diagnosis and "BP2" in diagnosis
    assert "<code>code2</code>" in diagnosis and "`" not in diagnosis
    assert "layer 0 → layer 1" in html


def test_math_is_rendered_outside_code_and_everything_is_escaped():
    assert render_math("`delta^2 <b>` and delta^l, W^T") == (
        "<code>delta^2 &lt;b&gt;</code> and δ<sup>l</sup>, W<sup>T</sup>")
    assert render_math("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert render_math("beta and metadata stay") == "beta and metadata stay"


def test_a_layer_report_renders_in_every_format():
    W = np.array([0.5, 1.0, -2.0])
    report = check_function(lambda: ((W ** 2).sum(), {"W": 2 * W}), {"W": W})
    assert render_text(report, width=80).startswith("gradcheck PASSED: <lambda> on W (3,)")
    assert json.loads(FORMATS["json"](report))["passed"] is True


def test_the_verdict_line_stays_one_line_by_shortening_a_long_target(failed):
    target = ("examples/dlai_gradient_checking.py:lambda X, Y, parameters: backward_propagation_n("
              "X, Y, forward_propagation_n(X, Y, parameters)[1]) (gradient)")
    from dataclasses import replace
    line = render_verdict(replace(failed, target=target), 80)
    assert "\n" not in line and len(line) <= 80
    assert line.startswith("gradcheck FAILED: dlai_gradient_checking.py:lambda")
    assert line.endswith("... (gradient): W1, b1 wrong")
