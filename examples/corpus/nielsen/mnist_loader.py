"""A stand-in, written for gradcheck's corpus, for mnist_loader.py of Michael Nielsen's
"Neural Networks and Deep Learning" (mnielsen/neural-networks-and-deep-learning; the Python 3
ports). The real one unpickles ../data/mnist.pkl.gz; this one draws a small synthetic set of
28x28 "images" instead (nothing is downloaded), and returns it in exactly the real formats:

load_data() -> (training_data, validation_data, test_data), each a tuple (images (n, 784)
float32 in [0, 1], labels (n,) int64).

load_data_wrapper() -> zip objects: training_data yields (x, y) with x (784, 1) and y the one-hot
(10, 1) vector; validation_data and test_data yield (x, label) with an integer label.
"""
import numpy as np


def load_data():
    rng = np.random.RandomState(1234)

    def draw(n):
        labels = rng.randint(10, size=n)
        prototypes = np.linspace(0.05, 0.95, 10)[labels][:, None]
        images = np.clip(prototypes + 0.25 * rng.randn(n, 784), 0.0, 1.0).astype(np.float32)
        return images, labels.astype(np.int64)

    return draw(100), draw(20), draw(20)


def load_data_wrapper():
    tr_d, va_d, te_d = load_data()
    training_inputs = [np.reshape(x, (784, 1)) for x in tr_d[0]]
    training_results = [vectorized_result(y) for y in tr_d[1]]
    training_data = zip(training_inputs, training_results)
    validation_inputs = [np.reshape(x, (784, 1)) for x in va_d[0]]
    validation_data = zip(validation_inputs, va_d[1])
    test_inputs = [np.reshape(x, (784, 1)) for x in te_d[0]]
    test_data = zip(test_inputs, te_d[1])
    return (training_data, validation_data, test_data)


def vectorized_result(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e
