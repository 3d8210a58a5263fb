import io
import json

import pytest

pytest.importorskip("sklearn", reason="the experiment needs the `digits` extra (scikit-learn)")

from experiments.learning_rate import main, run_experiment  # noqa: E402


@pytest.fixture(scope="module")
def small():
    return run_experiment(etas=(0.1, 0.3, 1.0, 3.0, 10.0), epochs=5)


def test_code2_has_larger_deltas_than_code1_at_every_hidden_layer(small):
    hidden = small["delta_ratio"][:-1]
    assert all(ratio > 1 for ratio in hidden)
    assert small["delta_ratio"][-1] == pytest.approx(1.0)  # the output delta is the same


def test_code2_does_best_at_a_lower_learning_rate_than_code1(small):
    assert small["best"]["code2"]["eta"] < small["best"]["correct"]["eta"]


def test_the_finding_is_computed_from_the_numbers(small):
    best2 = small["best"]["code2"]
    assert f"eta = {best2['eta']:g}, accuracy {best2['accuracy']:.3f}" in small["finding"]


def test_the_command_writes_a_summary_and_plots(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    status = main(["--etas", "0.3", "3", "--epochs", "1", "--out", str(tmp_path)], out, err)
    assert status == 0 and "| eta | code (1) | code (2) |" in out.getvalue()
    assert "2/4" in err.getvalue()  # progress on stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["accuracy"]) == {"correct", "code2"}
    pytest.importorskip("matplotlib")
    assert (tmp_path / "accuracy.png").stat().st_size > 0
