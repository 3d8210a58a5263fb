"""Backward passes: the correct one (BP1-BP4) and a catalogue of documented wrong ones.

Every pass computes the gradient of the network's C (its reduction of the per-example losses, plus
its L2 term), batched in the columns layout:

    BP1  delta^L = dC/dz^L = sigma'(z^L) * dC/da^L
    BP2  delta^l = ((W^{l+1})^T delta^{l+1}) * sigma'(z^l)        for l = L-1, ..., 1
    BP3  dC/db^l = sum over the batch of delta^l
    BP4  dC/dW^l = delta^l (a^{l-1})^T                          (summed over the batch)

then times r(m), the reduction's factor (1, 1/m or 1/(m n_L)), and 2 l2 W^l added for the L2 term.

``Correct`` spells these out as small methods.  Each wrong variant is a subclass that overrides
exactly one of them: its docstring names the line it changes and where the bug was seen.
"""

from __future__ import annotations

import numpy as np

from .registry import lookup

__all__ = ["BackwardPass", "Correct", "UpdateFirst", "VARIANTS", "backward"]


class BackwardPass:
    """Base of the catalogue; ``name`` is the key in ``VARIANTS``, ``line`` the line it writes."""

    name = ""
    line = ""
    seen = ""
    carries_output_error = False  # only code (2) starts its recurrence from dC/da^L

    @property
    def summary(self):
        """The docstring's first line."""
        return (self.__doc__ or "").strip().splitlines()[0]

    def __call__(self, net, x, y):
        """(nabla_w, nabla_b) in the network's layout; nabla_b is None for a network without biases."""
        nabla_w, nabla_b, _ = self.run(net, x, y)
        return nabla_w, nabla_b

    def deltas(self, net, x, y):
        """[delta^1, ..., delta^L] as this pass computes them (columns layout, one column per example)."""
        return self.run(net, x, y)[2]

    def run(self, net, x, y, propagated=None):
        """(nabla_w, nabla_b, deltas): the gradient and the deltas it was built from.
        ``propagated``: a dict that receives, for each hidden layer l, the vector the recurrence
        carried into it before sigma' (BP2's (W^{l+1})^T delta^{l+1}) at key l and the sigma'
        it multiplied by at key ("prime", l), columns layout."""
        W, _ = net.columns()
        f = net.forward(x)
        y = net.to_columns(np.asarray(y))
        L = net.L
        nabla_w, nabla_b, deltas = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)

        m = net.batch_size(x)
        g = None
        if self.carries_output_error:
            with np.errstate(divide="ignore", invalid="ignore"):
                g = net.loss.gradient(f.a[L], y)          # dC/da^L, what code (2) carries
        delta = self.output_delta(net, f, y)              # BP1
        for l in range(L, 0, -1):
            if l < L:                                     # (W^{l+1})^T delta^{l+1}
                g = self.propagate(W[l + 1], delta, g, nabla_w[l + 1], l)
                prime = self.hidden_prime(net, f, l)
                if propagated is not None:
                    propagated[l], propagated["prime", l] = g, prime
                delta = g * prime                         # BP2
            deltas[l] = delta
            d, a_prev = self.accumulated(delta, self.activation_in(f, l))
            nabla_w[l] = self.regularize(net, self.reduce(net, d @ a_prev.T, m), W[l])  # BP4
            nabla_b[l] = self.reduce(net, self.bias_gradient(d), m)                     # BP3
        nabla_w = [net.from_columns(nw) for nw in nabla_w[1:]]
        nabla_b = [net.from_columns(nb) for nb in nabla_b[1:]] if net.bias else None
        return nabla_w, nabla_b, deltas[1:]

    # -- the steps, each one line of BP1-BP4 ----------------------------------------------------
    def output_delta(self, net, f, y):
        # BP1: delta^L = dC/dz^L (a - y for cross-entropy with its matching output)
        return net.loss.delta(f.z[-1], f.a[-1], y, net.sigmas[-1])

    def propagate(self, W_next, delta, g, nabla_next, l):
        # BP2: (W^{l+1})^T delta^{l+1}  (nabla_next: dC/dW^{l+1}, already computed; l: the layer
        # the step goes into)
        return W_next.T @ delta

    def hidden_prime(self, net, f, l):
        # BP2: sigma'(z^l)
        return net.sigmas[l - 1].prime(f.z[l])

    def activation_in(self, f, l):
        # BP4: a^{l-1}, the activation layer l takes in
        return f.a[l - 1]

    def accumulated(self, delta, a_prev):
        # BP3/BP4 sum over every example of the batch
        return delta, a_prev

    def bias_gradient(self, delta):
        # BP3: dC/db^l = sum over the batch of delta^l
        return delta.sum(axis=1, keepdims=True)

    def reduce(self, net, nabla, m):
        # C is r(m) times the sum over the batch, and so is its gradient
        scale = net.scale(m)
        return nabla if scale == 1 else nabla * scale

    def regularize(self, net, nabla_w, W):
        # d/dW of l2 ||W||^2
        return nabla_w + 2 * net.l2 * W if net.l2 else nabla_w


class Correct(BackwardPass):
    """The correct backward pass, BP1-BP4 (the seeds' code (1): delta = W[k].T @ tmp)."""

    name = "correct"
    line = "delta = W[k].T @ tmp"
    seen = "Nielsen, Neural Networks and Deep Learning, ch. 2"


class Code2(BackwardPass):
    """Code (2): the recurrence carries dC/da through W^T and drops sigma' of every layer above.

    Changes BP2's ``W.T @ delta^{l+1}`` to ``W.T @ g`` where g starts as dC/da^L and never picks up
    a sigma': the gradient of W^l loses the factor sigma'(z^k) of every layer k > l.  It is exact
    only where those factors are 1 (a single weight layer; identity activations above layer 1).
    """

    name = "code2"
    line = "delta = W[k].T @ delta"
    seen = "the seeds' 4-layer MNIST net; a popular tutorial's `output_errors = W.T @ output_errors`"
    carries_output_error = True

    def propagate(self, W_next, delta, g, nabla_next, l):
        return W_next.T @ g


class PrimeOfZ(BackwardPass):
    """sigma' written for the output a (a * (1 - a)) but called on z: sigmoid_prime(z) = z (1 - z).

    Changes BP2's ``sigma'(z^l)`` to ``prime_from_output(z^l)`` in the hidden layers.
    """

    name = "prime_of_z"
    line = "tmp = delta * sigmoid_prime(Z[k+1])   # sigmoid_prime(a) = a * (1 - a)"
    seen = "code that mixes the z-form and the a-form of sigmoid_prime"

    def hidden_prime(self, net, f, l):
        return net.sigmas[l - 1].prime_from_output(f.z[l])


class MissingTranspose(BackwardPass):
    """The recurrence multiplies by W instead of W^T: W @ delta (shapes only fit square layers)."""

    name = "missing_transpose"
    line = "delta = W[k] @ tmp"
    seen = "square hidden layers, where numpy raises no shape error"

    def propagate(self, W_next, delta, g, nabla_next, l):
        return W_next @ delta


class BiasOneExample(BackwardPass):
    """The bias gradient takes one example's delta instead of the sum over the batch."""

    name = "bias_one_example"
    line = "nabla_b = delta[:, :1]"
    seen = "batched code ported from a per-example loop"

    def bias_gradient(self, delta):
        return delta[:, :1]


class SignFlip(BackwardPass):
    """The output error written y - a (the ascent direction) in a function that returns the gradient."""

    name = "sign_flip"
    line = "delta = (y - a) * sigmoid_prime(z)"
    seen = "scripts that update with `W += lr * ...` and then reuse the delta as a gradient"

    def output_delta(self, net, f, y):
        return -super().output_delta(net, f, y)


class FactorTwo(BackwardPass):
    """dC/da^L = 2 (a - y): the derivative of sum (a - y)^2 used for a loss with the 1/2."""

    name = "factor_two"
    line = "delta = 2 * (a - y) * sigmoid_prime(z)"
    seen = "mixing the 1/2 convention of the book with the plain squared error"

    def output_delta(self, net, f, y):
        return 2 * super().output_delta(net, f, y)


class Mean(BackwardPass):
    """The gradient divided by m once more than C says: every array is 1/m of the truth."""

    name = "mean"
    line = "nabla_w = delta @ a.T / m"
    seen = "mixing Nielsen's eta/m update with a gradient function"

    def reduce(self, net, nabla, m):
        return super().reduce(net, nabla, m) / m


class Overwrite(BackwardPass):
    """The per-example loop assigns instead of accumulating: only the last example's gradient is kept."""

    name = "overwrite"
    line = "nabla_w = delta_nabla_w   # instead of nabla_w + delta_nabla_w"
    seen = "Nielsen-style update_mini_batch loops"

    def accumulated(self, delta, a_prev):
        return delta[:, -1:], a_prev[:, -1:]


class WrongLayerPrime(BackwardPass):
    """sigma' taken at the layer above: sigma'(z^{l+1}) instead of sigma'(z^l) (an off-by-one index).

    Shapes fit where adjacent layers have equal widths, or where numpy broadcasts sigma' from a
    width-1 layer above (as in Nielsen's [2, 3, 1]).
    """

    name = "wrong_layer_prime"
    line = "sp = sigmoid_prime(zs[-l+1])   # instead of zs[-l]"
    seen = "the backwards negative index of Nielsen's loop"

    def hidden_prime(self, net, f, l):
        return net.sigmas[l].prime(f.z[l + 1])


class ExtraOutputPrime(BackwardPass):
    """BP1 multiplies a - y by sigma'(z^L) again, where cross-entropy already cancelled it.

    With a softmax or sigmoid output and cross-entropy, delta^L = a - y; this variant uses
    (a - y) * a (1 - a), the quadratic cost's output delta.  On other outputs it adds a sigma'.
    """

    name = "extra_output_prime"
    line = "delta = (a - y) * a * (1 - a)"
    seen = "switching from the quadratic cost to cross-entropy without changing BP1"

    def output_delta(self, net, f, y):
        return super().output_delta(net, f, y) * net.sigmas[-1].prime(f.z[-1])


class UpdateFirst(BackwardPass):
    """Step code that updates W^{l+1} by eta times its gradient before computing delta^l from it.

    Changes BP2's ``(W^{l+1})^T delta^{l+1}`` to ``(W^{l+1} - eta dC/dW^{l+1})^T delta^{l+1}``: the
    delta of every layer below the output takes the weights after the step.  The gradient depends
    on eta; the catalogue's entry takes eta = 1, and the diagnosis builds one with the step's own.
    """

    name = "update_first"
    line = "W[k] -= eta * nabla_w[k]   # before delta = W[k].T @ delta"
    seen = "python-course.eu's train(), and step code that updates inside its backward loop"

    def __init__(self, eta=1.0):
        self.eta = eta

    def propagate(self, W_next, delta, g, nabla_next, l):
        return (W_next - self.eta * nabla_next).T @ delta


#: Registry: name -> backward pass.  ``correct`` first.
VARIANTS = {v.name: v for v in (Correct(), Code2(), PrimeOfZ(), MissingTranspose(), BiasOneExample(),
                                SignFlip(), FactorTwo(), Mean(), Overwrite(), WrongLayerPrime(),
                                ExtraOutputPrime(), UpdateFirst())}


def backward(net, x, y, variant="correct"):
    """(nabla_w, nabla_b) of C summed over the batch, by the named backward pass."""
    return lookup(VARIANTS, variant, "variant", kind=BackwardPass)(net, x, y)
