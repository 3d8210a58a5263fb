# TheIndependentCode/Neural-Network, losses.py, reproduced for gradcheck's corpus: the mean of the
# squared errors over the outputs of one example, and its derivative.
import numpy as np


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / np.size(y_true)
