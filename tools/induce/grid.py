"""The grid primitives programs are written in: plain stdlib Python, run inside the sandbox as the prelude.

A grid is a list of rows of colours (0 is the background). An *object* is a maximal run of non-zero
cells within a row. Object-level primitives work row by row, so they serve 1D tasks (one row) and
row-wise 2D tasks alike; the whole-grid ones (rotations, flips, scaling, cropping) serve 2D tasks.
Every primitive takes the grid first and returns a new grid. Proposers (the LLM and the enumerator)
write programs as compositions of these, e.g. `def f(x): return recolor_size(shift(x, 1), {1: 3})`.
"""

from collections import Counter
from functools import wraps


def objects(row):
    """(start, end) of each maximal run of non-zero cells, end exclusive."""
    runs, start = [], None
    for i, c in enumerate(list(row) + [0]):
        if c and start is None:
            start = i
        elif not c and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _where(row, colour):
    return [i for i, c in enumerate(row) if c == colour]


def _per_row(one):
    """The grid primitive that applies `one(row, *args)` to every row."""
    @wraps(one)
    def primitive(g, *args):
        return [one(list(row), *args) for row in g]
    return primitive


def _per_row_about(one):
    """The grid primitive that applies `one(row, p, colour)` to every row, p the row's first cell of `colour`;
    a row without that colour stays as it is."""
    @wraps(one)
    def primitive(g, colour):
        return [one(list(row), marks[0], colour) if (marks := _where(row, colour)) else list(row) for row in g]
    return primitive


# ---- moving objects --------------------------------------------------------------------------


@_per_row
def shift(row, k):
    """Every non-zero cell moves k cells right (left when k < 0); what leaves the row is lost."""
    out = [0] * len(row)
    for i, c in enumerate(row):
        if c and 0 <= i + k < len(row):
            out[i + k] = c
    return out


@_per_row_about
def move_to(row, p, colour):
    """Each other object slides along its row until it touches the cell of `colour`."""
    out = [c if c == colour else 0 for c in row]
    for s, e in objects([0 if c == colour else c for c in row]):
        n = e - s
        start = p - n if e <= p else p + 1
        for i in range(n):
            if 0 <= start + i < len(row):
                out[start + i] = row[s + i]
    return out


@_per_row_about
def mirror(row, p, colour):
    """Each other object is reflected across the cell of `colour` (a mirror in the row)."""
    out = [c if c == colour else 0 for c in row]
    for i, c in enumerate(row):
        j = 2 * p - i
        if c and c != colour and 0 <= j < len(row):
            out[j] = c
    return out


@_per_row_about
def extend_to(row, p, colour):
    """Each other object stretches along its row until it touches the cell of `colour`."""
    out = list(row)
    for s, e in objects([0 if c == colour else c for c in row]):
        if e <= p:
            out[s:p] = [row[e - 1]] * (p - s)
        else:
            out[p + 1:e] = [row[s]] * (e - p - 1)
    return out


# ---- reshaping objects -----------------------------------------------------------------------


@_per_row
def keep_largest(row):
    """Only the longest object of each row stays."""
    runs = objects(row)
    if not runs:
        return row
    s, e = max(runs, key=lambda r: r[1] - r[0])
    return [c if s <= i < e else 0 for i, c in enumerate(row)]


def _per_object(change):
    """The grid primitive that rewrites each object: `change(cells, *args)` gives its new cells (same length)."""
    @wraps(change)
    def one(row, *args):
        out = list(row)
        for s, e in objects(row):
            out[s:e] = change(row[s:e], *args)
        return out
    return _per_row(one)


@_per_object
def drop_singles(cells):
    """Objects of one cell are removed."""
    return [0] if len(cells) == 1 else cells


@_per_object
def majority(cells):
    """Each object takes the colour most of its cells have."""
    return [Counter(cells).most_common(1)[0][0]] * len(cells)


@_per_object
def hollow(cells):
    """Each object keeps only its two end cells."""
    return cells[:1] + [0] * max(0, len(cells) - 2) + cells[1:][-1:]


@_per_object
def reverse_objects(cells):
    """Each object's cells are reversed in place."""
    return cells[::-1]


@_per_row
def fill_pairs(row):
    """Cells of one colour, taken in pairs from the left, are joined by a run of that colour."""
    out = list(row)
    for colour in set(c for c in row if c):
        marks = _where(row, colour)
        for a, b in zip(marks[0::2], marks[1::2]):
            out[a:b + 1] = [colour] * (b - a + 1)
    return out


@_per_row
def stamp(row):
    """Each one-cell object becomes a copy of the row's first wider object, centred on it, in its colour."""
    runs = objects(row)
    wide = [r for r in runs if r[1] - r[0] > 1]
    if not wide:
        return row
    s, e = wide[0]
    n = e - s
    out = list(row)
    for a, b in runs:
        if b - a == 1:
            start = a - (n - 1) // 2
            for i in range(n):
                if 0 <= start + i < len(row) and row[s + i]:
                    out[start + i] = row[a]
    return out


# ---- recolouring -----------------------------------------------------------------------------


def recolor(g, table):
    """Every cell's colour is mapped through `table` (colours not in it stay)."""
    return [[table.get(c, c) for c in row] for row in g]


@_per_object
def recolor_size(cells, table):
    """Each object whose length is in `table` takes that colour."""
    return [table[len(cells)]] * len(cells) if len(cells) in table else cells


@_per_object
def recolor_parity(cells, odd, even):
    """Objects of odd length take colour `odd`, of even length `even`."""
    return [odd if len(cells) % 2 else even] * len(cells)


@_per_row
def recolor_largest(row, colour):
    """The longest objects of each row (all of them, when tied) take `colour`."""
    runs = objects(row)
    if not runs:
        return row
    top = max(e - s for s, e in runs)
    out = list(row)
    for s, e in runs:
        if e - s == top:
            out[s:e] = [colour] * (e - s)
    return out


# ---- whole grids -----------------------------------------------------------------------------


def flip_h(g):
    return [list(row)[::-1] for row in g]


def flip_v(g):
    return [list(row) for row in g[::-1]]


def transpose(g):
    return [list(col) for col in zip(*g)]


def rot90(g):
    """A quarter turn clockwise."""
    return flip_h(transpose(g))


def rot180(g):
    return flip_v(flip_h(g))


def rot270(g):
    return flip_v(transpose(g))


def scale(g, k):
    """Each cell becomes a k × k block."""
    return [[c for c in row for _ in range(k)] for row in g for _ in range(k)]


def tile(g, down, across):
    return [list(row) * across for _ in range(down) for row in g]


def crop(g):
    """The smallest box around the non-zero cells."""
    cells = [(i, j) for i, row in enumerate(g) for j, c in enumerate(row) if c]
    if not cells:
        return g
    rows, cols = [i for i, _ in cells], [j for _, j in cells]
    return [list(row[min(cols):max(cols) + 1]) for row in g[min(rows):max(rows) + 1]]
