"""Examples written in a message, read into a task.

Accepted: an ARC JSON task pasted in the message; lines of `IN -> OUT` (also `=>`, `→`), several on
a line separated by commas or semicolons, or calls `f(2) = 5`, `f("ab", 2) = "abab"`. Each side is
read as a Python literal when it is one (numbers, quoted strings, lists), else as the bare text.
Test inputs are `IN -> ?`, a call `what is f(7)?`, or a question after the examples ("What is 9?",
"what about drawer?", "What does 20 map to?", "Convert 2010-07-04."). A list of numbers asking what
comes next is the n-th term from n.
"""

from __future__ import annotations

import ast
import json
import re

from tools.induce.task import InduceTask, TaskError, from_dict

_ARROW = re.compile(r"\s*(?:->|=>|→)\s*")
_VALUE = r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|[-+]?\d+(?:\.\d+)?|\?|True|False|\w+)"
_CALL = re.compile(r"\b[a-zA-Z_]\w*\s*\(((?:[^()\"']|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')*)\)\s*=\s*" + _VALUE)
_ASK = re.compile(r"\b(?:what is|what's|find|compute)\s+(?:[a-zA-Z_]\w*\s*)?\((.*?)\)\s*\??", re.I)


def _value(text: str):
    text = text.strip().rstrip(",;")
    if text.endswith(".") and not re.fullmatch(r"(?:[^\W\d_]\.)+", text):  # a sentence's full stop, not initials' (A.L.)
        text = text[:-1]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _args(text: str) -> list:
    try:
        value = ast.literal_eval(f"({text},)")
        return list(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return [text.strip()]


_ASKING = (r"(?:what(?:'s| is| does| about| would| will)?|and(?: for)?|convert|now(?: do)?|then|do|apply it to|"
           r"(?:find the rule and )?give the result for)")
_QUESTION = re.compile(r"(?:^|(?<=[.!?,;])\s*|\s+)" + _ASKING + r"\s+(?P<x>.+?)"
                       r"(?:\s+(?:map(?:s|ped)?|become|becomes|give|gives|go|goes|turn|turns)(?:\s+(?:to|into))?)?\s*[?.]?\s*$", re.I)
_LEADING_ASK = re.compile(r"^" + _ASKING + r"\s+", re.I)  # "then 12 -> ?": the input is 12
_NAMED_CALL = re.compile(r"\b(?!(?:what|is|about|does|convert|and|now|then)\b)[a-zA-Z_]\w*\s*\(", re.I)  # f(7), not "is (303)"
_NEXT = re.compile(r"^\s*((?:[-+]?\d+(?:\.\d+)?\s*,\s*){3,}[-+]?\d+(?:\.\d+)?)\s*,?\s*(?:\.\.\.|…)?\s*,?\s*"
                   r"(?:what(?:'s| is| comes)? next|next|\?)\s*\??\s*$", re.I)


QUESTION_CHARS = 300  # a question after the examples is short: longer parts are not searched for one (nor backtracked over)


def _question(part: str):
    return _QUESTION.fullmatch(part) if len(part) <= QUESTION_CHARS else None


def _pairs(line: str) -> list[str]:
    """A line of several `IN -> OUT` pairs cut into one part each, at the semicolons between them, then at the
    commas of a part that still holds several (not those inside brackets, quotes or a side), and the question after
    the last pair as a part of its own."""
    if len(_ARROW.findall(line)) < 2:
        return [line]
    # "Smith, John -> John Smith; Doe, Jane -> Jane Doe": a part with one arrow keeps its commas, in its sides.
    parts = [piece for part in _cut(line, ";") for piece in (_cut(part, ",") if len(_ARROW.findall(part)) > 1 else [part])]
    merged: list[str] = []
    for part in parts:  # a part without an arrow is the rest of a side that had a comma in it
        if merged and not _ARROW.search(part) and not _question(part.strip()):
            merged[-1] += "," + part
        else:
            merged.append(part)
    last = merged[-1]
    asked = re.search(r"(?<=[.!?])\s+(?=\S+\s)", last)
    rest = last[asked.end():].strip() if asked else ""
    if asked and _ARROW.search(last[:asked.start()]) and (_question(rest) or re.search(r"(?:->|=>|→)\s*\??$", rest)):
        merged[-1:] = [last[:asked.start()], last[asked.end():]]
    return merged


def _cut(line: str, separator: str) -> list[str]:
    """`line` cut at each `separator` followed by a space, outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == separator and depth == 0 and line[i + 1:i + 2] == " ":
            parts.append(line[start:i])
            start = i + 1
    parts.append(line[start:])
    return parts


def _asked(part: str):
    """The input a question asks about ("What is 9?", "what about drawer?", "What does 20 map to?", "Convert X."),
    or None."""
    found = _question(part.strip())
    if not found or _ARROW.search(part):
        return None
    x = found.group("x").strip().strip("'\"")
    return None if not x or x.lower() in ("it", "this", "that", "next") else _value(x)


def from_text(text: str) -> InduceTask:
    start = text.find("{")
    if start >= 0 and '"train"' in text:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
            return from_dict(value, "task", "the message's JSON")
        except json.JSONDecodeError as e:
            raise TaskError(f"the message's JSON does not parse ({e.msg} at character {e.pos})") from None
    sequence = _NEXT.match(text.strip())
    if sequence:  # "2, 4, 6, 8, what comes next?": the n-th term from n
        terms = [_value(t) for t in sequence.group(1).split(",")]
        return from_dict({"name": "message", "train": [{"inputs": [n], "output": t} for n, t in enumerate(terms, 1)],
                          "test": [{"inputs": [len(terms) + 1]}]}, "message", "the message")
    train, test = [], []
    for part in [p for line in text.split("\n") for p in _pairs(line)]:
        part = part.strip()
        if (asked_input := _asked(part)) is not None and not _NAMED_CALL.search(part):
            test.append({"inputs": [asked_input]})
            continue
        for asked in _ASK.finditer(part):
            test.append({"inputs": _args(asked.group(1))})
        part = _ASK.sub("", part).strip()
        sides = _ARROW.split(part, maxsplit=1)
        if len(sides) == 2 and sides[0]:
            left = re.sub(r"^.*?:\s*", "", sides[0]) if re.match(r"^\w[\w ]{0,20}:", sides[0]) else sides[0]
            if sides[1].strip() in ("?", ""):
                test.append({"inputs": [_value(_LEADING_ASK.sub("", left.strip()))]})
            else:
                train.append({"inputs": [_value(left)], "output": _value(sides[1])})
            continue
        for call in _CALL.finditer(part):
            if call.group(2) == "?":
                test.append({"inputs": _args(call.group(1))})
            else:
                train.append({"inputs": _args(call.group(1)), "output": _value(call.group(2))})
    if not train:
        raise TaskError("no examples found: write one per line as `IN -> OUT` or `f(IN) = OUT`")
    return from_dict({"name": "message", "train": train, "test": test}, "message", "the message")
