"""The watch: statements analysed once, values read without running code, a trace of where each
array was computed, bounded, and carried through the command's protocol only when it is sound."""

import importlib.util
import sys
import textwrap

import numpy as np
import pytest

from gradcheck.backprop import Network
from gradcheck.checks.runner import _trace_from
from gradcheck.checks.usercode import PluginError
from gradcheck.checks.watch import (MAX_RECORDS, Record, Stop, Trace, Watch, assign, chain_text,
                                    resolve, statement_at)


def module_from(tmp_path, source, name="watched_user_code"):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


def test_a_statement_knows_what_it_reads_what_it_binds_and_what_it_changes_in_place(tmp_path):
    _, path = module_from(tmp_path, """
        def f(self, X, W, ix, grads):
            z = X @ self.params["W1"] + [w for w in self.bs][0]
            X[ix] = 0
            W += 0.1 * grads["dW"]
            return z
    """)
    z = statement_at(path, 3)
    assert [chain_text(c) for c in z.reads] == ["X", "self.params['W1']", "self.bs"]
    assert [chain_text(c) for c in z.targets] == ["z"]
    fill = statement_at(path, 4)
    assert [chain_text(c) for c in fill.modified] == ["X"] and "X" not in map(chain_text, fill.reads)
    step = statement_at(path, 5)
    assert [chain_text(c) for c in step.modified] == ["W"]
    assert [chain_text(c) for c in step.reads] == ["grads['dW']"]
    assert statement_at(path, 5).where.endswith("line 5")


def test_a_chain_is_resolved_from_plain_attributes_and_items_without_running_a_property():
    class Net:
        calls = 0

        def __init__(self):
            self.params = {"W1": np.ones((2, 2))}

        @property
        def weights(self):
            Net.calls += 1
            return [1]

    frame = sys._getframe()
    net = Net()  # noqa: F841 - read through the frame
    value, depth = resolve(frame, (("name", "net"), ("attr", "params"), ("item", "W1")))
    assert depth == 3 and value.shape == (2, 2)
    value, depth = resolve(frame, (("name", "net"), ("attr", "weights")))
    assert depth == 1 and Net.calls == 0


def test_a_local_of_a_running_function_can_be_rebound_by_an_observer(tmp_path):
    module, path = module_from(tmp_path, """
        def f():
            lr = 0.5
            return lr * 2
    """)

    class SetLr:
        def after(self, frame, statement):
            if any(chain_text(c) == "lr" for c in statement.targets):
                assert assign(frame, (("name", "lr"),), 4.0)

    assert Watch([tmp_path], [SetLr()]).run(module.f) == (False, 8.0)


def test_the_trace_says_where_each_array_was_computed_and_which_ones_were_returned(tmp_path):
    module, _ = module_from(tmp_path, """
        import numpy as np

        def gradient(W, x):
            z = W @ x
            delta = np.tanh(z)
            dW = delta @ x.T
            return dW, 3
    """)
    watch = Watch([tmp_path], record=True)
    watch.run(module.gradient, np.eye(2), np.ones((2, 3)))
    trace = watch.trace()
    assert [(r.name, r.line, r.text) for r in trace.records] == [
        ("z", 5, "z = W @ x"), ("delta", 6, "delta = np.tanh(z)"), ("dW", 7, "dW = delta @ x.T")]
    assert [trace.records[k].name for k in trace.returned] == ["dW"]
    np.testing.assert_array_equal(trace.records[0].value, np.eye(2) @ np.ones((2, 3)))


def test_the_trace_is_bounded_in_records_and_in_the_values_it_copies(tmp_path):
    module, _ = module_from(tmp_path, """
        import numpy as np

        def many():
            for k in range(500):
                a = np.ones(3) * k
            big = np.zeros(200_000)
            return big
    """)
    watch = Watch([tmp_path], record=True)
    watch.run(module.many)
    assert len(watch.trace().records) == MAX_RECORDS
    watch = Watch([tmp_path], record=True)
    module.many.__globals__["range"] = lambda n: iter(())
    watch.run(module.many)
    (big,) = watch.trace().records
    assert big.value is None and big.shape == (200_000,)


def test_a_stop_ends_the_run_and_the_previous_tracer_comes_back(tmp_path):
    module, _ = module_from(tmp_path, """
        def forever():
            n = 0
            while True:
                n += 1
    """)

    class StopAtTen:
        def after(self, frame, statement):
            if frame.f_locals.get("n", 0) >= 10:
                raise Stop()

    before = sys.gettrace()
    assert Watch([tmp_path], [StopAtTen()]).run(module.forever) == (True, None)
    assert sys.gettrace() is before


def test_only_the_users_own_files_are_followed(tmp_path):
    module, _ = module_from(tmp_path, """
        import numpy as np

        def f(x):
            return np.linalg.norm(x)
    """)
    seen = []

    class Files:
        def before(self, frame, statement):
            seen.append(statement.file)

    Watch([tmp_path], [Files()]).run(module.f, np.ones(3))
    assert seen and all(f.startswith(str(tmp_path)) for f in seen)


def _wire():
    net = Network([2, 2], "sigmoid", seed=0)
    record = Record("/u/mine.py", 3, "z = W @ x", "z", np.ones((2, 2)), (2, 2), "float64")
    items, arrays = Trace((record,), (0,), (("W1", 0),)).to_wire()
    return net, items, arrays


def test_a_trace_comes_through_the_protocol_as_it_was_sent():
    net, items, arrays = _wire()
    trace = _trace_from(items, dict(arrays), net, "mine.py")
    assert trace.records[0].text == "z = W @ x" and trace.returned == (0,)
    assert trace.updated == (("W1", 0),)


@pytest.mark.parametrize("tamper", [
    lambda items, arrays: items[0].update(line=-1),
    lambda items, arrays: items[0].update(text="\x1b[31m"),
    lambda items, arrays: items[0].update(dtype="object"),
    lambda items, arrays: items[0].update(updated=["W9"]),
    lambda items, arrays: items[0].update(extra=1),
    lambda items, arrays: arrays.update(trace0=np.ones((3, 3))),
    lambda items, arrays: items.extend([dict(items[0])] * MAX_RECORDS),
])
def test_a_trace_out_of_its_bounds_is_refused_with_one_line(tamper):
    net, items, arrays = _wire()
    tamper(items, arrays)
    with pytest.raises(PluginError, match="a trace gradcheck cannot read"):
        _trace_from(items, dict(arrays), net, "mine.py")
