"""Which outputs each entry of a layer's input reaches, found by probes, and the classes of entries
whose outputs do not overlap (Curtis, Powell and Reid, 1974): one evaluation moves a whole class
and is read entry by entry, each entry's share being the outputs it reaches.

**Probes.**  A probe moves a slab of an input (every entry whose index along one axis lies in a
set) and sees which outputs change at all: bitwise for a real move, Im != 0 for a complex step
(Im is linear in the move, so an output has Im != 0 exactly when it depends on the slab at
first order, up to a cancellation between random weights that has probability 0).  A complex-safe
layer carries two probes per evaluation, a real move in the real parts and a complex step in the
imaginary parts.  An axis's slabs form partitions of its indices: each index alone (an axis of
at most ``SINGLE`` indices), or the two halves by each bit of the index (a longer axis).

**Decoding.**  For output o and axis a, the indices i whose part, in every partition, changed o
form S_a(o): a superset of the indices along a of the entries o depends on (an entry with index i
lies in one part of each partition, and each of those slabs moved it).  Two indices conflict when
some S_a(o) holds both; each axis's conflict graph is coloured greedily, and an entry's class is
its tuple of colours.  Two entries of one class differ along some axis a in two indices of one
colour, which no S_a(o) holds together, so no output depends on both; and for every output and
class at most one member, its owner, can reach it.  Supersets only cost classes, never
correctness: the grouping is exact wherever the probes saw every dependence.

**What a probe cannot see** is a dependence that its move does not show: a real move that leaves
a ReLU dead, a max-pool window whose maximum stays put, while a single entry's own step would
cross.  Its moves are therefore larger than the steps the scheme takes; what still slips through
is caught after the evaluations (``checks.blackbox``): an output of no member that changes, in
any move, sends the array back to one entry at a time, and so does a directional derivative that
the entries read from the classes do not reproduce.
"""

from __future__ import annotations

import math
from itertools import compress
from dataclasses import dataclass

import numpy as np

__all__ = ["Probe", "Structure", "probes_for", "decode", "SINGLE"]

#: an axis this short is probed one index at a time (exact); a longer one by the bits of its index
SINGLE = 16


@dataclass(frozen=True)
class Probe:
    """One slab: the entries of ``name`` whose index along ``axis`` is in ``part`` of
    ``partition``."""

    name: str
    axis: int
    partition: int
    part: int

    def entries(self, index, parts):
        """The flat indices of the slab's entries (``index``: the input's ``np.indices``, flat)."""
        return np.flatnonzero(parts[self.axis][self.partition][index[self.axis]] == self.part)


def axis_partitions(n):
    """The partitions of an axis of n indices a probe set uses: [(n,) part of each index]."""
    if n <= 1:
        return []
    if n <= SINGLE:
        return [np.arange(n)]
    return [(np.arange(n) >> t) & 1 for t in range(math.ceil(math.log2(n)))]  # <= 64 probes


def probes_for(name, shape):
    """(the probes of one input, its partitions per axis)."""
    parts = [axis_partitions(n) for n in shape]
    probes = [Probe(name, a, p, v) for a, partitions in enumerate(parts)
              for p, partition in enumerate(partitions) for v in range(int(partition.max()) + 1)]
    return probes, parts


def probe_count(shape):
    """How many probes an input of this shape takes."""
    return sum(int(p.max()) + 1 for n in shape for p in axis_partitions(n))


@dataclass(frozen=True)
class Axis:
    """One axis, decoded: the colour of each index, and for each colour the index of that colour
    in each output's S (-1 where S has none: the output depends on no entry of that colour)."""

    colour: np.ndarray        # (n,) colour of each index
    owner: np.ndarray         # (colours, outputs) index of that colour in S(o), or -1

    @property
    def colours(self):
        return self.owner.shape[0]


def _decode_axis(n, partitions, changed):
    """The ``Axis`` from the probe results of one axis: ``changed[p][v]`` is the (outputs,) bool
    of the probe of part v of partition p."""
    signature = np.concatenate([np.stack(parts) for parts in changed], axis=0)  # (probes, outputs)
    # the outputs' distinct signatures, each packed into one integer (at most 64 probes an axis)
    code = (signature.astype(np.uint64) << np.arange(len(signature), dtype=np.uint64)[:, None]).sum(
        axis=0, dtype=np.uint64)
    codes, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    unique = signature[:, first]
    sets = np.ones((unique.shape[1], n), dtype=bool)     # S for each distinct signature
    offset = 0
    for partition in partitions:
        parts = int(partition.max()) + 1
        # index i is in S(o) only if the slab of its part changed o, in every partition
        sets &= unique[offset:offset + parts][partition].T
        offset += parts
    colour = _greedy_colouring(sets)
    # no set holds two indices of one colour: each (set, index) it holds is its owner of that colour
    owner = np.full((int(colour.max()) + 1, unique.shape[1]), -1, dtype=np.int64)
    which, index = np.nonzero(sets)
    owner[colour[index], which] = index
    return Axis(colour, owner[:, inverse])


def _greedy_colouring(sets):
    """A colour per index such that no set holds two indices of one colour: greedily, in index
    order (a path of windows, a convolution's, takes as many colours as its widest window)."""
    n = sets.shape[1]
    conflict = (sets.T.astype(np.int64) @ sets.astype(np.int64)) > 0
    rows = conflict.tolist() if n <= 512 else conflict
    colour = []
    for i in range(n):
        # the colours of the earlier indices it conflicts with (compress stops at i of them)
        used = set(compress(colour, rows[i]) if n <= 512 else np.array(colour)[rows[i][:i]].tolist())
        c = 0
        while c in used:
            c += 1
        colour.append(c)
    return np.array(colour, dtype=np.int64)


@dataclass(frozen=True)
class Structure:
    """The classes of one input: entries of one class reach disjoint outputs.  ``labels(c,
    members)`` gives each output the position + 1 of its owner among ``members`` (0: no member's)."""

    shape: tuple
    axes: tuple               # one ``Axis`` per axis of length > 1, None for the others

    @property
    def count(self):
        return math.prod(a.colours for a in self.axes if a is not None)

    def classes(self):
        """(entries,) the class of each entry (flat index, C order)."""
        index = np.indices(self.shape).reshape(len(self.shape), -1)
        cls = np.zeros(index.shape[1], dtype=np.int64)
        for a, axis in enumerate(self.axes):
            if axis is not None:
                cls = cls * axis.colours + axis.colour[index[a]]
        return cls

    def owners(self, classes):
        """(len(classes), outputs) int64: the flat index of each output's owner in each class of
        ``classes``, -1 where it has none (``labels`` for many classes at once)."""
        rest = np.asarray(classes, dtype=np.int64)
        colours = [None] * len(self.axes)
        for a in reversed(range(len(self.axes))):
            if self.axes[a] is not None:
                rest, colours[a] = np.divmod(rest, self.axes[a].colours)
        owner, valid = 0, True
        for n, axis, c in zip(self.shape, self.axes, colours):
            own = 0 if axis is None else axis.owner[c]
            valid = valid & (own >= 0)
            owner = owner * n + np.maximum(own, 0)
        return np.where(valid, owner, -1).astype(np.int64)

    def labels(self, cls, members):
        """(outputs,) int64: 1 + the position in ``members`` (flat indices, sorted) of each output's
        owner in class ``cls``, 0 where the owner is not a member or there is none."""
        colours = []
        for axis in reversed(self.axes):
            colours.append(0 if axis is None else cls % axis.colours)
            cls = cls if axis is None else cls // axis.colours
        outputs = next(a.owner.shape[1] for a in self.axes if a is not None)
        owner, valid = np.zeros(outputs, dtype=np.int64), np.ones(outputs, dtype=bool)
        for n, axis, c in zip(self.shape, self.axes, reversed(colours)):
            own = np.zeros(outputs, dtype=np.int64) if axis is None else axis.owner[c]
            valid &= own >= 0
            owner = owner * n + np.maximum(own, 0)
        position = np.minimum(np.searchsorted(members, owner), len(members) - 1)
        hit = valid & (members[position] == owner)
        return np.where(hit, position + 1, 0).astype(np.int64)


def decode(name, shape, parts, probes, changed):
    """The ``Structure`` of one input from its probes' results (``changed[k]``: the (outputs,) bool
    of ``probes[k]``), or None where it has no axis to group along."""
    by_axis = {}
    for probe, c in zip(probes, changed):
        if probe.name == name:
            by_axis.setdefault(probe.axis, {}).setdefault(probe.partition, {})[probe.part] = c
    axes = []
    for a, n in enumerate(shape):
        if not parts[a]:
            axes.append(None)
            continue
        results = by_axis[a]
        changed_a = [[results[p][v] for v in range(int(partition.max()) + 1)]
                     for p, partition in enumerate(parts[a])]
        axes.append(_decode_axis(n, parts[a], changed_a))
    if all(a is None for a in axes):
        return None
    return Structure(tuple(shape), tuple(axes))
