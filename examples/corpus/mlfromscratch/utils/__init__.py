from .data_manipulation import train_test_split, to_categorical, normalize
from .data_operation import accuracy_score
