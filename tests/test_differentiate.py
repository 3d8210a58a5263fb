import numpy as np
import pytest
from scipy.differentiate import derivative as scipy_derivative

from gradcheck.checks.differentiate import SCHEMES, derivative

CLOSED_FORMS = [
    (np.sin, np.cos),
    (np.exp, np.exp),
    (lambda t: np.log1p(t * t), lambda t: 2 * t / (1 + t * t)),
    (lambda t: 1 / (1 + np.exp(-t)), lambda t: np.exp(-t) / (1 + np.exp(-t)) ** 2),
    (lambda t: t ** 5 - 3 * t, lambda t: 5 * t ** 4 - 3),
]
X = np.linspace(-2.5, 2.5, 41)


@pytest.mark.parametrize("method", list(SCHEMES))
@pytest.mark.parametrize("f, df", CLOSED_FORMS)
def test_each_scheme_is_within_its_error_bound_of_the_closed_form(method, f, df):
    d = derivative(f, X, method)
    closed_form_rounding = 8 * np.finfo(float).eps * np.abs(df(X))
    assert np.all(np.abs(d.estimate - df(X)) <= d.error_bound + closed_form_rounding)
    assert d.evaluations == len(SCHEMES[method].offsets)


@pytest.mark.parametrize("f, df", CLOSED_FORMS)
def test_the_complex_step_is_exact_to_rounding_and_agrees_with_scipy(f, df):
    d = derivative(f, X)
    np.testing.assert_allclose(d.estimate, df(X), rtol=4e-15, atol=4e-15)
    reference = scipy_derivative(f, X)
    ok = reference.success
    assert ok.mean() > 0.9
    # scipy's error estimate is an estimate; allow it a factor 10
    assert np.all(np.abs(d.estimate - reference.df)[ok]
                  <= (d.error_bound + 10 * reference.error + 1e-12 * np.abs(reference.df))[ok])


@pytest.mark.parametrize("f, df", CLOSED_FORMS)
def test_complex_step_and_richardson_agree_within_their_bounds(f, df):
    cs, rich = derivative(f, X), derivative(f, X, "richardson")
    assert np.all(np.abs(cs.estimate - rich.estimate) <= cs.error_bound + rich.error_bound)


def test_the_bounds_rank_the_schemes_as_their_error_terms_say():
    # Richardson's bound carries a conservative |D(h) - R| / 4 term, so it is ranked only
    # against the complex step; its actual error is far below central's (next test)
    bounds = {m: np.median(derivative(np.exp, X, m).error_bound / np.exp(X)) for m in SCHEMES}
    assert bounds["complex_step"] < bounds["central"] < bounds["forward"]
    assert bounds["complex_step"] < bounds["richardson"]


def test_richardson_is_more_accurate_than_central_differences():
    errors = {m: np.max(np.abs(derivative(np.exp, X, m).estimate - np.exp(X)) / np.exp(X))
              for m in ("richardson", "central")}
    assert errors["richardson"] < errors["central"] / 10


def test_an_unknown_method_is_refused_with_the_nearest_name():
    with pytest.raises(ValueError, match="did you mean 'central'"):
        derivative(np.sin, X, "centrl")
