"""Examples written in a message, read into a task.

Accepted: an ARC JSON task pasted in the message; lines (or `;`-separated parts) of `IN -> OUT`
(also `=>`, `→`), or of calls `f(2) = 5`, `f("ab", 2) = "abab"`. Each side is read as a Python
literal when it is one (numbers, quoted strings, lists), else as the bare text. Test inputs are
`IN -> ?` or a question `what is f(7)?`.
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
    text = text.strip().rstrip(".,;")
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


def from_text(text: str) -> InduceTask:
    start = text.find("{")
    if start >= 0 and '"train"' in text:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
            return from_dict(value, "task", "the message's JSON")
        except json.JSONDecodeError as e:
            raise TaskError(f"the message's JSON does not parse ({e.msg} at character {e.pos})") from None
    train, test = [], []
    for part in re.split(r"[\n;]", text):
        part = part.strip()
        for asked in _ASK.finditer(part):
            test.append({"inputs": _args(asked.group(1))})
        part = _ASK.sub("", part).strip()
        sides = _ARROW.split(part, maxsplit=1)
        if len(sides) == 2 and sides[0]:
            left = re.sub(r"^.*?:\s*", "", sides[0]) if re.match(r"^\w[\w ]{0,20}:", sides[0]) else sides[0]
            if sides[1].strip() in ("?", ""):
                test.append({"inputs": [_value(left)]})
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
