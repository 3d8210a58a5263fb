"""A reproduction, in its own words, of iamtrask's "A Neural Network in 11 lines of Python"
(iamtrask.github.io/2015/07/12/basic-python-network/): a two-layer sigmoid network without
biases, one example per row (X @ syn0), the whole training loop at module level, the error
written y - l2 and the update written with += and no learning rate (an implicit 1).

    gradcheck iamtrask_11_lines.toml --impl iamtrask_11_lines_slip.py

The planted bug (one line): the hidden delta drops sigma' of the hidden layer.
"""

import numpy as np

X = np.array([[0, 0, 1],
              [0, 1, 1],
              [1, 0, 1],
              [1, 1, 1]])
y = np.array([[0, 1, 1, 0]]).T

np.random.seed(1)
syn0 = 2 * np.random.random((3, 4)) - 1
syn1 = 2 * np.random.random((4, 1)) - 1

for j in range(60000):
    l1 = 1 / (1 + np.exp(-(np.dot(X, syn0))))
    l2 = 1 / (1 + np.exp(-(np.dot(l1, syn1))))
    l2_delta = (y - l2) * (l2 * (1 - l2))
    l1_delta = l2_delta.dot(syn1.T)                  # the slip: sigma'(hidden) dropped
    syn1 += l1.T.dot(l2_delta)
    syn0 += X.T.dot(l1_delta)

print(l2)
