"""Stand-ins for `nnfs.datasets`: the book's spiral and vertical toy data sets, drawn with numpy
(so after nnfs.init() they come out in float32 and reproducible)."""

import numpy as np


def spiral_data(samples, classes):
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        rows = range(samples * class_number, samples * (class_number + 1))
        radius = np.linspace(0.0, 1, samples)
        angle = np.linspace(class_number * 4, (class_number + 1) * 4, samples) \
            + np.random.randn(samples) * 0.2
        X[rows] = np.c_[radius * np.sin(angle * 2.5), radius * np.cos(angle * 2.5)]
        y[rows] = class_number
    return X, y


def vertical_data(samples, classes):
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        rows = range(samples * class_number, samples * (class_number + 1))
        X[rows] = np.c_[np.random.randn(samples) * .1 + class_number / 3,
                        np.random.randn(samples) * .1 + 0.5]
        y[rows] = class_number
    return X, y
