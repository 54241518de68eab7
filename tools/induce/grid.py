"""The grid primitives programs are written in: plain stdlib Python, run inside the sandbox as the prelude.

A grid is a list of rows of colours (0 is the background). An *object* is a maximal run of non-zero
cells within a row. Object-level primitives work row by row, so they serve 1D tasks (one row) and
row-wise 2D tasks alike; the whole-grid ones (rotations, flips, scaling, cropping) serve 2D tasks.
Every primitive takes the grid first and returns a new grid. Proposers (the LLM and the enumerator)
write programs as compositions of these, e.g. `def f(x): return recolor_size(shift(x, 1), {1: 3})`.
"""

from collections import Counter


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


def _rows(g, fn):
    return [fn(list(row)) for row in g]


def _where(row, colour):
    return [i for i, c in enumerate(row) if c == colour]


# ---- moving objects --------------------------------------------------------------------------


def shift(g, k):
    """Every non-zero cell moves k cells right (left when k < 0); what leaves the row is lost."""
    def one(row):
        out = [0] * len(row)
        for i, c in enumerate(row):
            if c and 0 <= i + k < len(row):
                out[i + k] = c
        return out
    return _rows(g, one)


def move_to(g, colour):
    """Each other object slides along its row until it touches the cell of `colour`."""
    def one(row):
        marks = _where(row, colour)
        if not marks:
            return row
        p = marks[0]
        out = [c if c == colour else 0 for c in row]
        for s, e in objects([0 if c == colour else c for c in row]):
            n = e - s
            start = p - n if e <= p else p + 1
            for i in range(n):
                if 0 <= start + i < len(row):
                    out[start + i] = row[s + i]
        return out
    return _rows(g, one)


def mirror(g, colour):
    """Each other object is reflected across the cell of `colour` (a mirror in the row)."""
    def one(row):
        marks = _where(row, colour)
        if not marks:
            return row
        p = marks[0]
        out = [c if c == colour else 0 for c in row]
        for i, c in enumerate(row):
            j = 2 * p - i
            if c and c != colour and 0 <= j < len(row):
                out[j] = c
        return out
    return _rows(g, one)


def extend_to(g, colour):
    """Each other object stretches along its row until it touches the cell of `colour`."""
    def one(row):
        marks = _where(row, colour)
        if not marks:
            return row
        p = marks[0]
        out = list(row)
        for s, e in objects([0 if c == colour else c for c in row]):
            if e <= p:
                out[s:p] = [row[e - 1]] * (p - s)
            else:
                out[p + 1:e] = [row[s]] * (e - p - 1)
        return out
    return _rows(g, one)


# ---- reshaping objects -----------------------------------------------------------------------


def keep_largest(g):
    """Only the longest object of each row stays."""
    def one(row):
        runs = objects(row)
        if not runs:
            return row
        s, e = max(runs, key=lambda r: r[1] - r[0])
        return [c if s <= i < e else 0 for i, c in enumerate(row)]
    return _rows(g, one)


def drop_singles(g):
    """Objects of one cell are removed."""
    def one(row):
        out = list(row)
        for s, e in objects(row):
            if e - s == 1:
                out[s] = 0
        return out
    return _rows(g, one)


def majority(g):
    """Each object takes the colour most of its cells have."""
    def one(row):
        out = list(row)
        for s, e in objects(row):
            top = Counter(row[s:e]).most_common(1)[0][0]
            out[s:e] = [top] * (e - s)
        return out
    return _rows(g, one)


def hollow(g):
    """Each object keeps only its two end cells."""
    def one(row):
        out = list(row)
        for s, e in objects(row):
            out[s + 1:e - 1] = [0] * max(0, e - s - 2)
        return out
    return _rows(g, one)


def reverse_objects(g):
    """Each object's cells are reversed in place."""
    def one(row):
        out = list(row)
        for s, e in objects(row):
            out[s:e] = row[s:e][::-1]
        return out
    return _rows(g, one)


def fill_pairs(g):
    """Cells of one colour, taken in pairs from the left, are joined by a run of that colour."""
    def one(row):
        out = list(row)
        for colour in set(c for c in row if c):
            marks = _where(row, colour)
            for a, b in zip(marks[0::2], marks[1::2]):
                out[a:b + 1] = [colour] * (b - a + 1)
        return out
    return _rows(g, one)


def stamp(g):
    """Each one-cell object becomes a copy of the row's first wider object, centred on it, in its colour."""
    def one(row):
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
    return _rows(g, one)


# ---- recolouring -----------------------------------------------------------------------------


def recolor(g, table):
    """Every cell's colour is mapped through `table` (colours not in it stay)."""
    return [[table.get(c, c) for c in row] for row in g]


def recolor_size(g, table):
    """Each object whose length is in `table` takes that colour."""
    def one(row):
        out = list(row)
        for s, e in objects(row):
            if e - s in table:
                out[s:e] = [table[e - s]] * (e - s)
        return out
    return _rows(g, one)


def recolor_parity(g, odd, even):
    """Objects of odd length take colour `odd`, of even length `even`."""
    return _rows(g, lambda row: recolor_size([row], {n: odd if n % 2 else even for n in range(1, len(row) + 1)})[0])


def recolor_largest(g, colour):
    """The longest objects of each row (all of them, when tied) take `colour`."""
    def one(row):
        runs = objects(row)
        if not runs:
            return row
        top = max(e - s for s, e in runs)
        out = list(row)
        for s, e in runs:
            if e - s == top:
                out[s:e] = [colour] * (e - s)
        return out
    return _rows(g, one)


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
