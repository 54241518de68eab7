"""The logic tool's batch files: a benchmark file in, a line per problem out, accuracy when gold is known.

Reads a JSON list in the format of ProofWriter and BIG-bench logical deduction (`id`, `context`,
`question`, `options`, `answer` letter; options that are just True / False / Unknown make it a
conclusion to decide) or FOLIO JSONL (`premises`, `conclusion`, `label`, and `premises-FOL` /
`conclusion-FOL`, used with `gold_fol`).
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.base import BatchItem, Task
from tools.logic.problem import from_text
from tools.logic.tool import LogicResult

_LABELS = {"true": "True", "false": "False", "unknown": "Unknown", "uncertain": "Unknown"}


def read(path: Path, *, gold_fol: bool = False) -> list[BatchItem]:
    """The problems of a benchmark file; ValueError naming the item and field that is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist" + (" as a file (it is a folder)" if path.is_dir() else ""))
    try:
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not text in UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON (a list) or JSONL: line {e.lineno}: {e.msg}") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to be a list of problems") from None
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of problems or JSONL, not a single {type(rows).__name__}")
    if gold_fol and not any(isinstance(row, dict) and "premises-FOL" in row for row in rows):
        raise ValueError(f"{path}: --gold-fol needs FOLIO-style items with 'premises-FOL'; none has it")
    return [_item(row, i, gold_fol, f"{path} item {i + 1}") for i, row in enumerate(rows)]


def _item(row, i: int, gold_fol: bool, where: str) -> BatchItem:
    """One problem; one that cannot be read is an item with its reason, which becomes its own output line."""
    ident = str(row.get("example_id", row.get("id", i + 1))) if isinstance(row, dict) else str(i + 1)
    try:
        if not isinstance(row, dict):
            raise ValueError(f"expected an object, not {type(row).__name__}")
        return _folio(row, i, gold_fol) if "premises" in row else _context(row, i, gold_fol)
    except KeyError as e:
        problem = f"missing field {e.args[0]!r}"
    except (ValueError, TypeError, AttributeError) as e:
        problem = str(e)
    gold = _LABELS.get(str(row.get("label", "")).lower()) if isinstance(row, dict) else None
    return BatchItem(id=ident, problem=f"{where}: {problem}", gold=gold)


def _folio(row: dict, i: int, gold_fol: bool) -> BatchItem:
    premises = row["premises"] if isinstance(row["premises"], list) else [row["premises"]]
    fields = {"premises": premises, "conclusion": row["conclusion"]}
    if gold_fol:
        fields |= {"premises_fol": row["premises-FOL"], "conclusion_fol": row.get("conclusion-FOL")}
    gold = _LABELS.get(str(row.get("label", "")).lower())
    ident = str(row.get("example_id", row.get("id", i + 1)))
    question = "\n".join(premises) + f"\nConclusion: {row['conclusion']}"
    return BatchItem(id=ident, task=Task(question=question, tool="logic", input=fields), gold=gold)


def _context(row: dict, i: int, gold_fol: bool) -> BatchItem:
    if gold_fol:
        raise ValueError("--gold-fol needs FOLIO-style items with 'premises-FOL'")
    options = row.get("options") or []
    letters = {o.partition(")")[0].strip(): o.partition(")")[2].strip() for o in options}
    question = f"{row['context']}\n{row['question']}"
    if options and {v.lower() for v in letters.values()} <= set(_LABELS):  # ProofWriter: a statement to decide
        gold = _LABELS[letters[row["answer"]].lower()] if row.get("answer") in letters else None
    else:
        question += "\n" + "\n".join(options)
        gold = row.get("answer")
    problem = from_text(question)  # fails early, with the item named, when the text has nothing to decide
    fields = {"premises": problem.premises, "conclusion": problem.conclusion, "options": [t for _, t in problem.options] or None}
    return BatchItem(id=str(row.get("id", i + 1)), task=Task(question=question, tool="logic", input=fields), gold=gold)


def record(item: BatchItem, answer) -> dict:
    """The answer, the vote, the winning translation, every sample (its translation, its verdict and the check it
    failed, or None), so that the same translations can be decided again (bench/logic_redecide.py)."""
    result = answer.grounding if answer and isinstance(answer.grounding, LogicResult) else None
    chosen = result.samples[result.winner] if result and result.winner is not None else None
    line = {"answer": answer.answers[0] if answer and answer.answers else None, "gold": item.gold,
            "correct": (bool(answer) and answer.answers[:1] == [item.gold]) if item.gold else None,
            "mode": result.mode if result else None, "votes": result.votes if result else {},
            "formulas": chosen.model_dump(exclude={"finish"}) if chosen else None,
            "samples": [s.model_dump(exclude={"finish"}) for s in result.samples] if result else [],
            "verdicts": [o.verdict for o in result.outcomes] if result else [],
            "dropped": [next((f"{c.name}: {c.detail}" for c in o.checks if not c.passed), None) for o in result.outcomes] if result else [],
            "prover": [[f"{c.goal}: {c.status}" for c in o.calls] for o in result.outcomes] if result else [],
            "message": answer.message if answer else None}
    line["read"] = item.task is not None and (answer is None or answer.status == "answered" or bool(answer.attempts))  # False: refused before translating
    if answer and answer.status != "answered":
        line["attempts"] = [a.why() for a in answer.attempts]
    return line


def summary(items: list[BatchItem], lines: dict[str, dict]) -> dict:
    scored = [line for line in lines.values() if line["gold"] is not None]
    per_label = {}
    for label in sorted({line["gold"] for line in scored}):
        group = [line for line in scored if line["gold"] == label]
        per_label[label] = {"n": len(group), "accuracy": round(sum(line["correct"] for line in group) / len(group), 4)}
    read = [line for line in scored if line["read"]]
    return {"accuracy": round(sum(line["correct"] for line in scored) / len(scored), 4) if scored else None,
            "unread": len(scored) - len(read),  # refused before translating: a given formula that does not parse, no conclusion
            "accuracy_read": round(sum(line["correct"] for line in read) / len(read), 4) if read else None,
            "per_label": per_label, "translation_failures": sum(line["status"] != "answered" for line in lines.values())}
