"""The non-LLM proposer: compositions of the grid primitives, smallest first, with parameters read off the examples.

Parameters are not enumerated blindly: colours come from the examples (a pivot colour is one every
input has), shift distances from -3 to 3, colour tables from cells or objects whose colour changed
(consistently across the examples), scale and tile factors from the grids' shapes. Depth 1 is every
primitive; depth 2 composes an outer primitive over an inner one that keeps the grid's shape.
"""

from __future__ import annotations

from collections import Counter

from tools.induce import grid
from tools.induce.task import InduceTask

GEOMETRY = ["flip_h", "flip_v", "transpose", "rot90", "rot180", "rot270", "crop"]
OBJECTS = ["keep_largest", "drop_singles", "majority", "hollow", "reverse_objects", "fill_pairs", "stamp"]


def expressions(task: InduceTask, depth: int = 1) -> list[str]:
    """Candidate expressions over `x`, the input grid: every depth-1 one, or (depth 2) the compositions."""
    pairs = [(ex.inputs[0], ex.output) for ex in task.train]
    if depth == 1:
        return _unary(pairs, "x")
    inner = [f"{name}(x)" for name in OBJECTS + GEOMETRY[:-1]] + [f"shift(x, {k})" for k in (-3, -2, -1, 1, 2, 3)]
    inner += [f"{f}(x, {c})" for c in _pivots(pairs) for f in ("move_to", "mirror", "extend_to")]
    out = []
    for e in inner:
        for outer in _unary(pairs, e):
            if outer.split("(")[0] != e.split("(")[0]:
                out.append(outer)
    return out


def _unary(pairs: list, x: str) -> list[str]:
    out = [f"{name}({x})" for name in OBJECTS + GEOMETRY]
    out += [f"shift({x}, {k})" for k in (1, -1, 2, -2, 3, -3)]
    for c in _pivots(pairs):
        out += [f"move_to({x}, {c})", f"mirror({x}, {c})", f"extend_to({x}, {c})"]
    table = _cell_table(pairs)
    if table:
        out.append(f"recolor({x}, {table})")
    sizes = _size_table(pairs)
    if sizes:
        out.append(f"recolor_size({x}, {sizes})")
        odd = {c for n, c in sizes.items() if n % 2}
        even = {c for n, c in sizes.items() if not n % 2}
        if len(odd) == 1 and len(even) == 1:
            out.append(f"recolor_parity({x}, {odd.pop()}, {even.pop()})")
    for c in _new_colours(pairs):
        out.append(f"recolor_largest({x}, {c})")
    out += _resizes(pairs, x)
    return out


def _colours(g) -> set[int]:
    return {c for row in g for c in row if c}


def _pivots(pairs: list) -> list[int]:
    """Colours that every input has exactly once in some row: candidates for a mirror or a target."""
    common = set.intersection(*(_colours(i) for i, _ in pairs))
    return sorted(c for c in common if all(any(row.count(c) == 1 for row in i) for i, _ in pairs))


def _new_colours(pairs: list) -> list[int]:
    return sorted(set.union(*(_colours(o) for _, o in pairs)) - set.intersection(*(_colours(i) for i, _ in pairs)))


def _same_shape(pairs: list) -> bool:
    return all(len(i) == len(o) and len(i[0]) == len(o[0]) for i, o in pairs)


def _cell_table(pairs: list) -> dict[int, int] | None:
    """A colour map that explains every changed cell, when one does."""
    if not _same_shape(pairs):
        return None
    table: dict[int, int] = {}
    for i, o in pairs:
        for ri, ro in zip(i, o):
            for a, b in zip(ri, ro):
                if table.setdefault(a, b) != b:
                    return None
    table = {a: b for a, b in table.items() if a != b}
    return table or None


def _size_table(pairs: list) -> dict[int, int] | None:
    """Object length -> the colour such objects take in the output, when consistent and something changes."""
    if not _same_shape(pairs):
        return None
    table: dict[int, int] = {}
    changed = False
    for i, o in pairs:
        for ri, ro in zip(i, o):
            for s, e in grid.objects(ri):
                colours = Counter(ro[s:e])
                if len(colours) != 1:
                    return None
                c = next(iter(colours))
                if not c or table.setdefault(e - s, c) != c:
                    return None
                changed |= c != ri[s]
    return dict(sorted(table.items())) if changed else None


def _resizes(pairs: list, x: str) -> list[str]:
    out = []
    ratios = {(len(o) / len(i), len(o[0]) / len(i[0])) for i, o in pairs}
    if len(ratios) == 1:
        down, across = ratios.pop()
        if down == across and down in (2, 3, 4):
            out.append(f"scale({x}, {int(down)})")
        if down.is_integer() and across.is_integer() and (down, across) != (1, 1) and down >= 1 and across >= 1:
            out.append(f"tile({x}, {int(down)}, {int(across)})")
    return out


def size(expression: str) -> int:
    """Primitives and arguments in an expression: the tie-breaker between programs that fit equally."""
    return expression.count("(") + expression.count(",")
