# TheIndependentCode/Neural-Network, layer.py, reproduced for gradcheck's corpus: the base class.
class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward(self, input):
        # return the output of the layer
        pass

    def backward(self, output_gradient, learning_rate):
        # update the parameters (if any) and return the input gradient
        pass
