"""A demo script for the Keras-like library (see activations.py), written for gradcheck's corpus:
a Sequential of two Dense layers built at module level, compile(loss='mse', learning_rate=0.5),
then model.fit(X, y, epochs=2000) at module level.

    gradcheck keraslike.toml --impl keraslike_slip/train_demo.py
    gradcheck keraslike.toml --impl "keraslike_slip/train_demo.py:partial(model.fit, epochs=1, verbose=False)"

This folder, keraslike_slip/, is keraslike/ with one line changed in losses.py: the derivative
of the mean squared error with its sign flipped.
"""
import numpy as np

from layers import Dense
from models import Sequential

np.random.seed(0)
X = np.random.rand(16, 3)
y = np.stack([X[:, 0] * X[:, 1], np.abs(X[:, 2] - X[:, 0])], axis=1)

model = Sequential([
    Dense(4, activation='tanh', input_shape=(3,)),
    Dense(2, activation='sigmoid'),
])
model.compile(loss='mse', learning_rate=0.5)
model.fit(X, y, epochs=2000)
print(model.predict(X[:4]))
