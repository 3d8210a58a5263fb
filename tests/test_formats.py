"""Output formats: text, JSON (valid in every case) and HTML, and the picture."""

import json

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks import gradcheck
from gradcheck.checks.formats import FORMATS


@pytest.fixture(scope="module")
def failed():
    net = Network([3, 4, 2], seed=0)
    rng = np.random.default_rng(0)
    return gradcheck(net, rng.standard_normal((3, 5)), rng.uniform(0, 1, (2, 5)), variant="code2")


def test_every_format_renders_a_report(failed):
    assert FORMATS["text"](failed).startswith("gradcheck FAILED")
    data = json.loads(FORMATS["json"](failed))
    assert data["passed"] is False and data["findings"] and data["precision"] == "float64"
    html = FORMATS["html"](failed)
    assert "<table>" in html and "background:#ffebe9" in html and "diagnosis" in html
    assert failed._repr_html_() == html


def test_the_picture_is_written(tmp_path, failed):
    pytest.importorskip("matplotlib")
    path = failed.plot(tmp_path / "report.png")
    assert path.stat().st_size > 10_000 and path.read_bytes()[:4] == b"\x89PNG"


def test_plot_refuses_to_replace_a_file_without_force(tmp_path, request):
    pytest.importorskip("matplotlib")
    import io

    from gradcheck.checks.cli import main
    (tmp_path / "p.png").write_text("mine")
    config = str(request.config.rootpath / "examples" / "nielsen.toml")
    err = io.StringIO()
    assert main([config, "--plot", str(tmp_path / "p.png")], io.StringIO(), err) == 2
    assert "already exists; pass --force" in err.getvalue()
    assert main([config, "--plot", str(tmp_path / "p.png"), "--force"], io.StringIO(),
                io.StringIO()) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
