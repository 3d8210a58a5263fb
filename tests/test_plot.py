"""The picture: a Figure in the current backend (or only saved), the verdict and the diagnosis
on it, nothing overlapping, and no aliasing on a large array."""

import io
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from gradcheck.backprop import Network, backward
from gradcheck.checks import gradcheck
from gradcheck.checks.cli import main
from gradcheck.checks.plot import MAX_CELLS, block_extremes, short_target

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.text import Text  # noqa: E402


@pytest.fixture(scope="module")
def failed():
    net = Network([3, 4, 2], seed=0)
    rng = np.random.default_rng(0)
    return gradcheck(net, rng.standard_normal((3, 5)), rng.uniform(0, 1, (2, 5)), variant="code2")


@pytest.fixture(scope="module")
def one_entry_off_in_a_wide_layer():
    """[784, 30, 10]: W1 is 30 x 784, with only W1[3, 500] wrong, by 1."""
    net = Network([784, 30, 10], seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((784, 4)), rng.uniform(0, 1, (10, 4))

    def slipped(weights, biases, x, y):
        nabla_w, nabla_b = backward(net, x, y)
        nabla_w[0][3, 500] += 1.0
        return nabla_w, nabla_b
    return gradcheck(net, x, y, impl=slipped)


def drawn(fig):
    """The renderer of ``fig`` drawn as it is saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_plot_returns_a_figure_drawn_in_the_current_backend_which_it_leaves_alone(
        failed, monkeypatch):
    backend = matplotlib.get_backend()

    def refuse(*args, **kwargs):
        raise AssertionError("plot() must not choose a backend")
    monkeypatch.setattr(matplotlib, "use", refuse)
    fig = failed.plot()
    try:
        assert isinstance(fig, Figure) and plt.fignum_exists(fig.number)  # pyplot shows it
        assert matplotlib.get_backend() == backend
    finally:
        plt.close(fig)


def test_a_plot_with_a_path_is_saved_and_returned_but_not_left_open_in_pyplot(failed, tmp_path):
    before = set(plt.get_fignums())
    fig = failed.plot(tmp_path / "report.png")
    assert isinstance(fig, Figure) and set(plt.get_fignums()) == before
    data = (tmp_path / "report.png").read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) > 10_000


def test_the_command_draws_its_file_without_choosing_a_backend(tmp_path, request):
    config = request.config.rootpath / "examples" / "nielsen.toml"
    code = ("import sys; from gradcheck.checks.cli import main; "
            f"status = main([{str(config)!r}, '--plot', {str(tmp_path / 'p.png')!r}]); "
            "print(status, 'matplotlib.pyplot' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == "0 False", proc.stdout + proc.stderr
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_the_picture_carries_the_verdict_and_the_diagnosis_wrapped(failed, tmp_path):
    fig = failed.plot(tmp_path / "r.png")
    words = texts(fig)
    title = next(t for t in words if t.startswith("gradcheck FAILED: "))
    diagnosis = next(t for t in words if t.startswith("diagnosis: "))
    assert title == "gradcheck FAILED: variant 'code2'"
    assert len(diagnosis.splitlines()) > 1
    renderer = drawn(fig)
    text = next(t for t in fig.findobj(Text) if t.get_text() == diagnosis)
    box = text.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # wrapped to the figure's width
    assert "\u03b4\u00b2" in diagnosis and "\u03c3\u2032" in diagnosis  # δ², σ′
    assert {"W1: FAIL", "W2: ok"} <= set(words)


def test_a_long_target_is_shortened_in_the_title(failed, tmp_path):
    target = ("examples/dlai_gradient_checking.py:lambda X, Y, parameters: backward_propagation_n("
              "X, Y, forward_propagation_n(X, Y, parameters)[1]) (gradient)")
    fig = replace(failed, target=target).plot(tmp_path / "r.png")
    title = next(t for t in texts(fig) if t.startswith("gradcheck FAILED: "))
    assert len(title) <= 90 and title.endswith("... (gradient)")
    assert "dlai_gradient_checking.py:lambda X, Y" in title and "examples/" not in title
    assert short_target("a.py:f (step)", 70) == "a.py:f (step)"


def test_colourbars_overlap_no_title(failed, tmp_path):
    fig = failed.plot(tmp_path / "r.png")
    renderer = drawn(fig)
    bars = [ax for ax in fig.get_axes() if ax.get_label() == "<colorbar>"]
    titled = [ax for ax in fig.get_axes() if ax.get_title()]
    assert len(bars) == len(failed.parameters)
    for bar in bars:
        box = bar.get_tightbbox(renderer)
        for ax in titled:
            assert not box.overlaps(ax.title.get_window_extent(renderer)), ax.get_title()


def test_a_30_by_784_array_is_shown_by_blocks_that_keep_its_one_wrong_entry(
        one_entry_off_in_a_wide_layer, tmp_path):
    report = one_entry_off_in_a_wide_layer
    assert report.failing == ["W1"] and report.parameter("W1").mismatches == 1
    fig = report.plot(tmp_path / "r.png")
    image = next(im for im in fig.findobj(AxesImage))  # W1's heat map comes first
    cells = np.asarray(image.get_array(), dtype=float)
    assert cells.shape[0] <= MAX_CELLS and cells.shape[1] <= MAX_CELLS and cells.shape[1] < 784
    assert image.get_interpolation() in ("nearest", "none") and image.axes.get_aspect() == "auto"
    analytic, numeric, _ = report.arrays["W1"]
    planted = (analytic[3, 500] - numeric[3, 500]) / np.max(np.abs(numeric))
    assert np.nanmax(np.abs(cells)) == pytest.approx(abs(planted))


def test_block_extremes_keep_the_signed_entry_of_largest_size_per_block():
    values = np.zeros((4, 6))
    values[1, 4] = -5.0
    values[3, 0] = 2.0
    cells, block = block_extremes(values, 2, 3)
    assert block == (2, 2) and cells.shape == (2, 3)
    assert cells[0, 2] == -5.0 and cells[1, 0] == 2.0 and np.count_nonzero(cells) == 2
    small = np.ones((3, 3))
    assert block_extremes(small)[0] is small
    with_nan = np.full((2, 2), np.nan)
    with_nan[0, 0] = 1.0
    cells, _ = block_extremes(np.hstack([with_nan, np.full((2, 2), np.nan)]), 1, 2)
    assert cells[0, 0] == 1.0 and np.isnan(cells[0, 1])


def test_a_directional_check_has_no_entries_to_draw():
    net = Network([3, 4, 2], seed=0)
    report = gradcheck(net, np.ones((3, 2)), np.zeros((2, 2)), mode="directional")
    with pytest.raises(ValueError, match="needs a full check"):
        report.plot()


def test_without_matplotlib_the_plot_says_how_to_install_it(failed, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ValueError, match=r"pip install 'gradcheck\[plot\]'"):
        failed.plot()


def test_plot_refuses_to_replace_a_file_without_force(tmp_path, request):
    (tmp_path / "p.png").write_text("mine")
    config = str(request.config.rootpath / "examples" / "nielsen.toml")
    err = io.StringIO()
    assert main([config, "--plot", str(tmp_path / "p.png")], io.StringIO(), err) == 2
    assert "already exists; pass --force" in err.getvalue()
    assert main([config, "--plot", str(tmp_path / "p.png"), "--force"], io.StringIO(),
                io.StringIO()) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
