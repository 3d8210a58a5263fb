import json

import numpy as np

from gradcheck.backprop import Network
from gradcheck.checks import gradcheck
from gradcheck.checks.report import Entry, ParameterCheck, Report


def test_infinite_errors_are_written_as_null_so_the_json_stays_valid():
    p = ParameterCheck("W1", "layer 0 -> layer 1", (1, 1), False, float("inf"), 1, 1,
                       worst=(Entry((0, 0), float("nan"), 1.0, 1e-16),))
    r = Report(False, float("inf"), (p,), "variant 'x'", "complex_step", "full", 1, "net")
    d = json.loads(r.to_json())
    assert d["max_relative_error"] is None and d["parameters"][0]["worst"][0]["analytic"] is None
    assert d["parameters"][0]["worst"][0]["passed"] is False


def test_the_text_report_lines_up_one_line_per_array_and_names_the_layers():
    net = Network([2, 3, 1], seed=0)
    text = str(gradcheck(net, np.ones((2, 3)), np.zeros((1, 3)), variant="sign_flip"))
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck FAILED: variant 'sign_flip' on [2, 3, 1]")
    rows = lines[next(k for k, line in enumerate(lines) if line.startswith("  numeric side")) + 1:]
    assert rows[0].startswith("  W1: layer 0 -> layer 1")
    assert rows[1].startswith("  b1: bias of layer 1")
    assert "diagnosis: Every array is the true gradient with its sign flipped" in text
    assert "FAIL  error" in text and "vs tolerance" in text  # worst entries marked, tolerance beside


def test_a_report_has_a_short_repr():
    net = Network([2, 3, 1], seed=0)
    r = gradcheck(net, np.ones((2, 3)), np.zeros((1, 3)), variant="code2")
    assert repr(r).startswith("Report(passed=False") and "failing=['W1', 'b1']" in repr(r)


def test_the_repr_a_failed_assert_shows_leads_with_the_verdict_and_the_diagnosis():
    net = Network([2, 3, 1], seed=0)
    r = gradcheck(net, np.ones((2, 3)), np.zeros((1, 3)), variant="sign_flip")
    text = repr(r)
    assert text.index("passed=False") < text.index("failing=") < text.index("diagnosis=")
    assert "diagnosis=\"Every array is the true gradient with its sign flipped" in text


def test_a_report_where_nothing_was_decided_says_so_in_its_repr_and_is_false():
    p = ParameterCheck("W", "input W", (3,), True, 0.0, 0, 0, skipped=3, undecided={"a kink": 3})
    r = Report(False, 0.0, (p,), "<lambda>", "richardson", "full", 18, "W (3,)")
    assert not r and "decided=False" in repr(r)


def test_str_is_the_text_report_at_the_width_of_the_output(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    net = Network([2, 3, 1], seed=0)
    text = str(gradcheck(net, np.ones((2, 3)), np.zeros((1, 3)), variant="sign_flip"))
    assert max(map(len, text.splitlines())) <= 60 and "diagnosis: Every array" in text
