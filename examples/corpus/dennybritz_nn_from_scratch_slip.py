"""A reproduction, in its own words, of Denny Britz's "Implementing a Neural Network from Scratch"
(dennybritz/nn-from-scratch, nn_from_scratch.py / nn-from-scratch.ipynb): the data X, y and
num_examples = len(X) are module globals, as are the learning rate `epsilon` and `reg_lambda`;
build_model(nn_hdim, num_passes=20000, print_loss=False) draws its own weights inside (after
np.random.seed(0)), runs full-batch gradient descent and returns a model dict. One example per
row (X.dot(W1)), tanh then softmax, labels as class integers.

The update is the gradient of sum over the batch of the cross-entropy + reg_lambda/2 (|W1|^2 +
|W2|^2): delta3 is not divided by num_examples (calculate_loss, which does divide, is only
printed).

The planted bug (one line): tanh' written 1 - z1^2 instead of 1 - a1^2.

    gradcheck dennybritz_nn_from_scratch.toml --impl dennybritz_nn_from_scratch_slip.py
    gradcheck dennybritz_nn_from_scratch.toml --impl "dennybritz_nn_from_scratch_slip.py:partial(build_model, 3)"
"""

import numpy as np


def make_moons(n_samples=100, noise=None):
    """A numpy stand-in for sklearn.datasets.make_moons (two interleaving half circles)."""
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(outer), 1 - np.cos(inner)),
                   np.append(np.sin(outer), 1 - np.sin(inner) - .5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    if noise is not None:
        X += np.random.normal(scale=noise, size=X.shape)
    return X, y


np.random.seed(3)
X, y = make_moons(200, noise=0.20)

num_examples = len(X)  # training set size
nn_input_dim = 2  # input layer dimensionality
nn_output_dim = 2  # output layer dimensionality

# Gradient descent parameters (I picked these by hand)
epsilon = 0.01  # learning rate for gradient descent
reg_lambda = 0.01  # regularization strength


def calculate_loss(model):
    W1, b1, W2, b2 = model['W1'], model['b1'], model['W2'], model['b2']
    z1 = X.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    corect_logprobs = -np.log(probs[range(num_examples), y])
    data_loss = np.sum(corect_logprobs)
    data_loss += reg_lambda / 2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    return 1. / num_examples * data_loss


def predict(model, x):
    W1, b1, W2, b2 = model['W1'], model['b1'], model['W2'], model['b2']
    z1 = x.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    return np.argmax(probs, axis=1)


def build_model(nn_hdim, num_passes=20000, print_loss=False):
    # Initialize the parameters to random values. We need to learn these.
    np.random.seed(0)
    W1 = np.random.randn(nn_input_dim, nn_hdim) / np.sqrt(nn_input_dim)
    b1 = np.zeros((1, nn_hdim))
    W2 = np.random.randn(nn_hdim, nn_output_dim) / np.sqrt(nn_hdim)
    b2 = np.zeros((1, nn_output_dim))

    # This is what we return at the end
    model = {}

    # Gradient descent. For each batch...
    for i in range(0, num_passes):

        # Forward propagation
        z1 = X.dot(W1) + b1
        a1 = np.tanh(z1)
        z2 = a1.dot(W2) + b2
        exp_scores = np.exp(z2)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)

        # Backpropagation
        delta3 = probs
        delta3[range(num_examples), y] -= 1
        dW2 = (a1.T).dot(delta3)
        db2 = np.sum(delta3, axis=0, keepdims=True)
        delta2 = delta3.dot(W2.T) * (1 - np.power(z1, 2))   # the slip: z1 where tanh' needs a1
        dW1 = np.dot(X.T, delta2)
        db1 = np.sum(delta2, axis=0)

        # Add regularization terms (b1 and b2 don't have regularization terms)
        dW2 += reg_lambda * W2
        dW1 += reg_lambda * W1

        # Gradient descent parameter update
        W1 += -epsilon * dW1
        b1 += -epsilon * db1
        W2 += -epsilon * dW2
        b2 += -epsilon * db2

        # Assign new parameters to the model
        model = {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}

        # Optionally print the loss.
        if print_loss and i % 1000 == 0:
            print("Loss after iteration %i: %f" % (i, calculate_loss(model)))

    return model


# Build a model with a 3-dimensional hidden layer
model = build_model(3, print_loss=True)
print("training accuracy", np.mean(predict(model, X) == y))
