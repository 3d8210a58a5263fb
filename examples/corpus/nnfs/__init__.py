"""A stand-in, written for gradcheck's corpus, for the `nnfs` package that the book "Neural
Networks from Scratch in Python" (nnfs.io) has its readers install. Nothing is downloaded.

Like the real `nnfs.init()`, it makes the book's numbers reproducible by seeding the random
generators, making float32 the default of np.zeros, np.eye and np.random.randn, and replacing
np.dot by one that multiplies in float64 and hands back float32. Code written against the book
therefore computes, and stores its parameters, in float32.
"""

import functools
import random

import numpy as np

_originals = {}


def init(dot_precision_workaround=True, default_dtype="float32", random_seed=0):
    np.random.seed(random_seed)
    random.seed(random_seed)

    def with_default_dtype(function, positional_dtype_at):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            if len(args) <= positional_dtype_at and "dtype" not in kwargs:
                kwargs["dtype"] = default_dtype
            return function(*args, **kwargs)
        return wrapped

    def cast_result(function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            return function(*args, **kwargs).astype(default_dtype)
        return wrapped

    for owner, name, replace in ((np, "zeros", lambda f: with_default_dtype(f, 1)),
                                 (np, "eye", lambda f: with_default_dtype(f, 3)),
                                 (np.random, "randn", cast_result)):
        original = _originals.setdefault((owner.__name__, name), getattr(owner, name))
        setattr(owner, name, replace(original))

    if dot_precision_workaround:
        original_dot = _originals.setdefault(("numpy", "dot"), np.dot)

        def dot(*args, **kwargs):
            return original_dot(*[np.asarray(a).astype("float64") for a in args],
                                **kwargs).astype(default_dtype)

        np.dot = dot
