"""A reproduction, in its own words, of the experiment in iamtrask's "A Neural Network in 13 lines
of Python (Part 2 - Gradient Descent)" (iamtrask.github.io/2015/07/27/python-network-part2/):
the same rows-layout sigmoid network without biases, with a hidden layer of 32, the error now
written layer_2 - y and the update written synapse -= alpha * ..., retrained from the same seed
for each learning rate of an outer loop over `alphas`. All at module level.

    gradcheck iamtrask_alphas.toml --impl iamtrask_alphas_slip.py

The planted bug (one line): the hidden delta takes the derivative of layer_2 (shape (4, 1)),
which numpy broadcasts across the 32 hidden units without complaint.
"""

import numpy as np

alphas = [0.001, 0.01, 0.1, 1, 10, 100, 1000]
hidden_size = 32


def sigmoid(x):
    output = 1 / (1 + np.exp(-x))
    return output


def sigmoid_output_to_derivative(output):
    return output * (1 - output)


X = np.array([[0, 0, 1],
              [0, 1, 1],
              [1, 0, 1],
              [1, 1, 1]])
y = np.array([[0],
              [1],
              [1],
              [0]])

for alpha in alphas:
    print("\nTraining With Alpha:" + str(alpha))
    np.random.seed(1)

    synapse_0 = 2 * np.random.random((3, hidden_size)) - 1
    synapse_1 = 2 * np.random.random((hidden_size, 1)) - 1

    for j in range(60000):
        layer_0 = X
        layer_1 = sigmoid(np.dot(layer_0, synapse_0))
        layer_2 = sigmoid(np.dot(layer_1, synapse_1))

        layer_2_error = layer_2 - y
        if (j % 10000) == 0:
            print("Error after " + str(j) + " iterations:" + str(np.mean(np.abs(layer_2_error))))

        layer_2_delta = layer_2_error * sigmoid_output_to_derivative(layer_2)
        layer_1_error = layer_2_delta.dot(synapse_1.T)
        layer_1_delta = layer_1_error * sigmoid_output_to_derivative(layer_2)   # the slip: layer_2, broadcast

        synapse_1 -= alpha * (layer_1.T.dot(layer_2_delta))
        synapse_0 -= alpha * (layer_0.T.dot(layer_1_delta))
