"""The string and number primitives value programs are written in: plain stdlib Python, run inside the sandbox as the prelude.

The operations of SyGuS's strings theory (SMT-LIB semantics: out-of-range positions give "" or -1,
never an error), a few FlashFill-style helpers that cut a string at a separator, `reverse` and `sort` (of a
string or a list), and a list's `sum`, `max` and `min`. Programs call
them on their arguments `x0, x1, ...`, e.g. `def f(x0): return concat(before(x0, " "), ".")`.
"""


def concat(a, b):
    return a + b


def at(s, i):
    return s[i] if 0 <= i < len(s) else ""


def substr(s, i, n):
    """n characters from position i ("" when i is outside s or n < 1)."""
    return s[i:i + n] if 0 <= i < len(s) and n > 0 else ""


def length(s):
    return len(s)


def indexof(s, t, i):
    """Where t first occurs in s at or after i; -1 if nowhere."""
    return s.find(t, i) if 0 <= i <= len(s) else -1


def count(s, t):
    """How many times t occurs in s, without overlaps."""
    return s.count(t) if t else 0


def replace(s, t, u):
    """The first occurrence of t in s replaced by u."""
    return s.replace(t, u, 1) if t else u + s


def replace_all(s, t, u):
    return s.replace(t, u) if t else s


def to_int(s):
    """The number s spells in digits, or -1."""
    return int(s) if s.isdigit() and s.isascii() else -1


def to_str(i):
    return str(i) if i >= 0 else ""


def plus(a, b):
    return a + b


def minus(a, b):
    return a - b


def times(a, b):
    return a * b


def prefixof(a, b):
    """Whether b starts with a."""
    return b.startswith(a)


def suffixof(a, b):
    return b.endswith(a)


def contains(s, t):
    return t in s


def equals(a, b):
    return a == b


def ite(c, a, b):
    return a if c else b


def upper(s):
    return s.upper()


def lower(s):
    return s.lower()


def before(s, sep):
    """The part of s before the first sep (all of s when there is none)."""
    return s.partition(sep)[0] if sep else s


def after(s, sep):
    """The part of s after the first sep ("" when there is none)."""
    return s.partition(sep)[2] if sep else ""


def before_last(s, sep):
    return s.rpartition(sep)[0] if sep and sep in s else s


def after_last(s, sep):
    return s.rpartition(sep)[2] if sep and sep in s else ""


def reverse(s):
    """s backwards: a string or a list."""
    return s[::-1]


def sort(s):
    """The list in ascending order (a string's characters, for a string)."""
    return "".join(sorted(s)) if isinstance(s, str) else sorted(s)


# sum, max and min are named as programs write them; inside this prelude they stand for the list primitives.
def sum(s):
    """The list's total."""
    total = 0
    for v in s:
        total += v
    return total


def max(s):
    """The list's largest element (an error for an empty list)."""
    return sorted(s)[-1]


def min(s):
    """The list's smallest element (an error for an empty list)."""
    return sorted(s)[0]
