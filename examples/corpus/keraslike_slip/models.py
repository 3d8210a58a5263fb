# The Keras-like library's Sequential model (see activations.py): the constructor builds every
# layer's weights from the first layer's input_shape; compile(loss, learning_rate) stores the
# learning rate on the model; fit(X, y, epochs) runs full-batch steps through fit_step, which
# updates each layer as soon as its gradients are computed (after the gradient for the layer
# below has been taken from the weights before the update).
from losses import LOSSES, Loss


class Sequential(object):
    def __init__(self, layers=None):
        self.compiled = False
        self.layers = layers if layers is not None else []
        if self.layers:
            if self.layers[0].input_shape is None:
                raise Exception("You must specify the input shape of the first layer")
            self.input_shape = self.layers[0].input_shape
            self.layers[0].build(self.input_shape)
            for i in range(1, len(self.layers)):
                self.layers[i].input_shape = self.layers[i - 1].output_shape
                self.layers[i].build(self.layers[i].input_shape)

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def call(self, X):
        for layer in self.layers:
            X = layer(X)
        return X

    def compile(self, loss, learning_rate=0.01):
        if isinstance(loss, str):
            self.loss = LOSSES[loss]()
        elif isinstance(loss, Loss):
            self.loss = loss
        self.learning_rate = learning_rate
        self.compiled = True

    def fit_step(self, X, y):
        a = X
        activations = [X]
        for layer in self.layers:
            a = layer(a, cache=True)
            activations.append(a)

        dL_da = self.loss.derivative(y, a)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            dL_dw, dL_db, dL_da = layer.compute_gradients(dL_da, activations[i])
            layer.update_params(dL_dw, dL_db, self.learning_rate)

        return self.loss(y, self.call(X))

    def fit(self, X, y, epochs=10, verbose=True):
        for epoch in range(1, epochs + 1):
            loss = self.fit_step(X, y)
            if verbose and epoch % 100 == 0:
                print(f"Epoch {epoch}:\tloss={loss:.4f}")

    def predict(self, X):
        return self.call(X)
