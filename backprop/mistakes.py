"""Named mistakes: the ways one step of BP1-BP4 is commonly written wrong, each at one layer.

The catalogue (``variants``) holds whole wrong passes seen in real code.  A mistake here is
smaller and placed: *this* step, into *this* layer, written *this* wrong way; the diagnosis
builds the gradient each placed mistake gives and keeps the one the code's gradient matches
exactly (within the check's own tolerance).  That is how it can say "delta^2 lacks
sigma'(z^2)" rather than "something in BP2".

    BP1  delta^L = dC/da^L * sigma'(z^L)      no_prime, prime_of_a, a_form_on_z
    BP2  delta^l = (W^{l+1})^T delta^{l+1} * sigma'(z^l)
                                               propagates_error (dC/da^{l+1} where delta^{l+1}
                                               is meant: code (2)), no_prime (for a ReLU: the
                                               mask), prime_of_a,
                                               a_form_on_z, tanh_one_minus_a, mask_inverted,
                                               untransposed (square W), stale (step code)
    BP4  dC/dW^l = delta^l (a^{l-1})^T         z_for_a, next_a (a^l: an index slip)

A ``Mistake`` is placed at one layer, or at every layer where the step exists (``layer=None``:
code that writes the slip inside its loop), and may come with stale weights (step code that
updates W^{l+1} before it computes delta^l from it, as python-course.eu's ``train()`` does):
two slips in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .variants import BackwardPass

__all__ = ["Mistake", "KINDS", "placed_mistakes"]


@dataclass(frozen=True)
class Kind:
    """One way of writing a step wrong: the equation it touches and the words for it."""

    name: str
    equation: str        # "BP1", "BP2", "BP4"
    applies: object      # (net, l) -> whether it can be written at layer l of this network
    words: object        # (net, l) -> what the code does, in words


def _elementwise(net, l):
    return net.sigmas[l - 1].elementwise


def _kinked(net, l):
    return net.sigmas[l - 1].kinked and _elementwise(net, l)


def _smooth(net, l):
    return not net.sigmas[l - 1].kinked and _elementwise(net, l)


def _output_prime_matters(net, l):
    """BP1 carries a sigma' of its own (no loss that pairs with the output cancels it)."""
    return l == net.L and net.loss.pairs_with != net.sigmas[-1].name and _elementwise(net, l)


def _act(net, l):
    return net.sigmas[l - 1].name


def _no_prime_words(net, l):
    if net.sigmas[l - 1].kinked:
        return (f"the {_act(net, l)} mask of layer {l} is missing: delta^{l} is not multiplied by "
                f"{_act(net, l)}'(z^{l}) (1 where z^{l} > 0, else 0)")
    if l == net.L:
        return (f"delta^{l} lacks sigma'(z^{l}): BP1 takes dC/da^{l} alone where it is "
                f"dC/da^{l} * {_act(net, l)}'(z^{l})")
    return (f"delta^{l} lacks sigma'(z^{l}): the step into layer {l} takes "
            f"(W^{l + 1})^T delta^{l + 1} and never multiplies it by {_act(net, l)}'(z^{l})")


def _above_primed(net, l):
    """Layer l + 1 multiplies its error by a sigma' of its own (so dropping it changes delta)."""
    return l < net.L and (_elementwise(net, l + 1) if l + 1 < net.L
                          else _output_prime_matters(net, l + 1))


def _propagates_error_words(net, l):
    return (f"the step into layer {l} propagates the error of layer {l + 1} before its sigma': "
            f"(W^{l + 1})^T g with g = dC/da^{l + 1}, where it is (W^{l + 1})^T delta^{l + 1} and "
            f"delta^{l + 1} = g * {_act(net, l + 1)}'(z^{l + 1}) (the seeds' code (2): "
            "delta = W.T @ delta)")


KINDS = {k.name: k for k in (
    Kind("propagates_error", "BP2", _above_primed, _propagates_error_words),
    Kind("no_prime", "BP2", lambda net, l: l < net.L and _elementwise(net, l), _no_prime_words),
    Kind("output_no_prime", "BP1", _output_prime_matters, _no_prime_words),
    Kind("prime_of_a", "BP2", lambda net, l: _smooth(net, l) and (
        l < net.L or _output_prime_matters(net, l)),
         lambda net, l: (f"sigma' of layer {l} is taken at a^{l}, which is already "
                         f"{_act(net, l)}(z^{l}): {_act(net, l)}'(a^{l}) where "
                         f"{_act(net, l)}'(z^{l}) is meant")),
    Kind("a_form_on_z", "BP2", lambda net, l: _smooth(net, l) and (
        l < net.L or _output_prime_matters(net, l)),
         lambda net, l: (f"sigma' of layer {l} is written in terms of the output (for "
                         f"{_act(net, l)}: {_output_form(net, l)}) but given z^{l}: pass a^{l}, "
                         "or use the form in z")),
    Kind("tanh_one_minus_a", "BP2", lambda net, l: _act(net, l) == "tanh" and (
        l < net.L or _output_prime_matters(net, l)),
         lambda net, l: f"tanh' of layer {l} is written 1 - a^{l}; it is 1 - (a^{l})^2"),
    Kind("mask_inverted", "BP2", lambda net, l: l < net.L and _kinked(net, l),
         lambda net, l: (f"the {_act(net, l)} mask of layer {l} is inverted: it keeps the units "
                         f"with z^{l} <= 0 and zeroes the active ones")),
    Kind("untransposed", "BP2", lambda net, l: l < net.L and net.layers[l] == net.layers[l + 1],
         lambda net, l: (f"the step into layer {l} multiplies by W^{l + 1}, not its transpose: "
                         f"W^{l + 1} delta^{l + 1} where (W^{l + 1})^T delta^{l + 1} is meant "
                         "(square, so numpy raised nothing)")),
    Kind("z_for_a", "BP4", lambda net, l: l > 1,
         lambda net, l: (f"dC/dW^{l} takes z^{l - 1}, the input of layer {l - 1}'s activation, "
                         f"where a^{l - 1} is meant: BP4 is delta^{l} (a^{l - 1})^T")),
    Kind("next_a", "BP4", lambda net, l: net.layers[l] == net.layers[l - 1],
         lambda net, l: (f"dC/dW^{l} takes a^{l} where a^{l - 1} is meant (an index slip): BP4 "
                         f"is delta^{l} (a^{l - 1})^T")),
)}


def _output_form(net, l):
    return {"sigmoid": "a (1 - a)", "tanh": "1 - a^2", "softplus": "1 - e^-a",
            "elu": "a + 1 below 0"}.get(_act(net, l), "sigma'(a)")


@dataclass(frozen=True)
class Mistake:
    """``kind`` written at each of ``layers`` (several: code that writes the slip inside its
    loop), with ``stale`` weights or not; ``eta``: the step code's learning rate (for the stale
    weights)."""

    kind: str | None
    layers: tuple = ()
    stale: bool = False
    eta: float = 1.0

    def at(self, l):
        return bool(self.kind) and l in self.layers

    def first_layer(self, net):
        """The layer whose quantity the mistake makes wrong first, in backward order: its
        highest layer (for stale weights alone, the delta below the output)."""
        return max(self.layers) if self.kind else net.L - 1

    @property
    def equation(self):
        return KINDS[self.kind].equation if self.kind else "BP2"

    def words(self, net):
        """The sentence for a user: what the code does wrong, where."""
        parts = []
        if self.kind:
            kind = KINDS[self.kind]
            first, *rest = sorted(self.layers, reverse=True)
            also = (f"; and the same in layer{'s' if len(rest) > 1 else ''} "
                    f"{', '.join(map(str, rest))}") if rest else ""
            equation = "BP1" if first == net.L and kind.equation == "BP2" else kind.equation
            parts.append(f"{kind.words(net, first)} ({equation}{also})")
        if self.stale:
            parts.append("the code updates each layer's weights before it computes the delta "
                         "below from them: delta^l = (W^{l+1})^T delta^{l+1} takes W^{l+1} after "
                         "its step. Compute every delta first, then update (or keep a copy of "
                         "W^{l+1})")
        return "; and ".join(parts)

    @property
    def key(self):
        """``no_prime@2,1+stale``: what the mistake is, for JSON and tests."""
        where = ",".join(map(str, sorted(self.layers, reverse=True)))
        return (f"{self.kind}@{where}" if self.kind else "stale") + (
            "+stale" if self.stale and self.kind else "")

    def backward_pass(self):
        return _Slipped(self)


class _Slipped(BackwardPass):
    """The correct pass but for one placed mistake (and stale weights if it says so)."""

    def __init__(self, mistake):
        self.mistake = mistake
        self.name = mistake.key
        self.carries_output_error = mistake.kind == "propagates_error"

    def output_delta(self, net, f, y):
        m, L = self.mistake, net.L
        if m.at(L) and KINDS[m.kind].applies(net, L):
            g = net.loss.gradient(f.a[L], y)
            if m.kind == "output_no_prime":
                return g
            if m.kind in _PRIMES:
                return g * _PRIMES[m.kind](net.sigmas[-1], f.z[L], f.a[L])
        return super().output_delta(net, f, y)

    def propagate(self, W_next, delta, g, nabla_next, l):
        m = self.mistake
        W_used = W_next - m.eta * nabla_next if m.stale else W_next
        if m.at(l) and m.kind == "untransposed" and W_used.shape[0] == W_used.shape[1]:
            return W_used @ delta
        if m.at(l) and m.kind == "propagates_error" and g is not None:
            return W_used.T @ g
        return W_used.T @ delta

    def hidden_prime(self, net, f, l):
        m = self.mistake
        if m.at(l) and m.kind in _HIDDEN and KINDS[m.kind].applies(net, l):
            return _HIDDEN[m.kind](net.sigmas[l - 1], f.z[l], f.a[l])
        return super().hidden_prime(net, f, l)

    def activation_in(self, f, l):
        m = self.mistake
        if m.at(l) and m.kind == "z_for_a" and l > 1:
            return f.z[l - 1]
        if m.at(l) and m.kind == "next_a" and f.a[l].shape == f.a[l - 1].shape:
            return f.a[l]
        return super().activation_in(f, l)


#: sigma' written wrong, as (sigma, z, a) -> what the code multiplies by
_PRIMES = {
    "prime_of_a": lambda s, z, a: s.prime(a),
    "a_form_on_z": lambda s, z, a: s.prime_from_output(z),
    "tanh_one_minus_a": lambda s, z, a: 1 - a,
}
_HIDDEN = {**_PRIMES,
           "no_prime": lambda s, z, a: np.ones_like(z),
           "mask_inverted": lambda s, z, a: 1 - s.prime(z)}


def placed_mistakes(net, eta=None):
    """Every mistake that can be written on this network: at each layer alone, at every hidden
    layer (a slip inside the backward loop), and at every layer the output's too (a helper used
    everywhere); with stale weights as well where the code is step code (``eta``: its learning
    rate)."""
    out = []
    for kind in KINDS.values():
        layers = [l for l in range(net.L, 0, -1) if kind.applies(net, l)]
        placements = [(l,) for l in layers]
        hidden = tuple(l for l in layers if l < net.L)
        for together in (hidden, tuple(layers)):
            if len(together) > 1 and together not in placements:
                placements.append(together)
        out += [Mistake(kind.name, where) for where in placements]
    if eta is not None and net.L > 1:
        out = [Mistake(None, (), True, eta)] + out + [
            Mistake(m.kind, m.layers, True, eta) for m in out]
    return out
