"""TheIndependentCode/Neural-Network, xor.py, reproduced for gradcheck's corpus: the samples are
stacked columns, X of shape (4, 2, 1) and Y of shape (4, 1, 1); the network is a module-level
list of layer objects; train() is called at module level with epochs=10000, learning_rate=0.1.
(The original ends with a 3-D matplotlib plot of the decision surface; here it is only computed.)

    gradcheck independentcode_xor.toml --impl independentcode/xor.py
    gradcheck independentcode_xor_online.toml --impl "independentcode/xor.py:partial(train, network, mse, mse_prime, epochs=1, verbose=False)"
"""
import numpy as np

from dense import Dense
from activations import Tanh
from losses import mse, mse_prime
from network import train, predict

X = np.reshape([[0, 0], [0, 1], [1, 0], [1, 1]], (4, 2, 1))
Y = np.reshape([[0], [1], [1], [0]], (4, 1, 1))

network = [
    Dense(2, 3),
    Tanh(),
    Dense(3, 1),
    Tanh()
]

# train
train(network, mse, mse_prime, X, Y, epochs=10000, learning_rate=0.1)

# decision boundary (the original plots these points)
points = []
for x in np.linspace(0, 1, 20):
    for y in np.linspace(0, 1, 20):
        z = predict(network, [[x], [y]])
        points.append([x, y, z[0, 0]])

points = np.array(points)
