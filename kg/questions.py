"""Question files: MetaQA `question<TAB>answer|answer` lines or JSONL `{"id","question","answers"?,"hops"?}`."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

BRACKETED = re.compile(r"\[([^\[\]]+)\]")
_HOPS_IN_NAME = re.compile(r"(\d)[-_]?hop")
MASK = "[ENT]"
MASK2 = "[ENT2]"  # a second topic entity, where a conjunctive question names two
HELD_OUT_SHARE = 0.2  # of MetaQA dev: the slice every planner benchmark reports on


class QuestionFormatError(ValueError):
    def __init__(self, path: Path, line_no: int, problem: str) -> None:
        super().__init__(f"{path}:{line_no}: {problem}")


class Question(BaseModel):
    id: str
    question: str
    answers: list[str] | None = None
    hops: int | None = None

    @property
    def marked_entity(self) -> str | None:
        """The entity the question marks in brackets, MetaQA style, if any."""
        match = BRACKETED.search(self.question)
        return match.group(1) if match else None


def masked(question: str, entity: str | None = None) -> str:
    """The question with its topic entity replaced by a placeholder: its shape, not its names."""
    if BRACKETED.search(question):
        return BRACKETED.sub(MASK, question, count=1)
    if entity and entity in question:
        return question.replace(entity, MASK, 1)
    return question


def read_questions(path: str | Path) -> list[Question]:
    """Read a question file; a malformed line raises QuestionFormatError naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"question file not found: {path}" + (" (it is a folder)" if path.is_dir() else ""))
    match = _HOPS_IN_NAME.search(path.name)
    hops = int(match.group(1)) if match else None
    is_jsonl = path.suffix.lower() in (".jsonl", ".json", ".ndjson")
    questions: list[Question] = []
    with path.open(encoding="utf-8", errors="surrogateescape") as f:
        for line_no, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parse = _parse_jsonl if is_jsonl else _parse_metaqa
            try:
                line.encode("utf-8")
                q = parse(line, default_id=f"{path.stem}:{line_no}")
            except UnicodeEncodeError:  # bytes read as surrogates: the file is not UTF-8 here
                raise QuestionFormatError(path, line_no, "not text in UTF-8") from None
            except RecursionError:
                raise QuestionFormatError(path, line_no, "JSON nested too deeply") from None
            except ValueError as e:
                raise QuestionFormatError(path, line_no, str(e)) from None
            if q.hops is None:
                q.hops = hops
            questions.append(q)
    return questions


def _parse_metaqa(line: str, default_id: str) -> Question:
    question, sep, answers = line.partition("\t")
    if not question.strip():
        raise ValueError("expected 'question<TAB>answer|answer', the question is empty")
    gold = [a for a in answers.split("|") if a] if sep else None
    return Question(id=default_id, question=question, answers=gold)


def _parse_jsonl(line: str, default_id: str) -> Question:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg})") from None
    if not isinstance(record, dict):
        raise ValueError('expected a JSON object like {"id": ..., "question": ..., "answers": [...]}')
    record.setdefault("id", default_id)
    record["id"] = str(record["id"])
    try:
        q = Question.model_validate(record)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ValueError(problems) from None
    if not q.question.strip():
        raise ValueError("the question is empty")
    return q


def is_held_out(question_id: str, share: float = HELD_OUT_SHARE) -> bool:
    """A fixed, seedless split by id: held-out questions are never trained on or retrieved as examples."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def merge_repeated(questions: list[Question]) -> tuple[list[Question], int]:
    """One question per distinct text, with the answers of all its lines: some files list a question once
    per answer. Returns the merged questions (first id and order kept) and how many lines were merged."""
    merged: dict[str, Question] = {}
    for q in questions:
        seen = merged.get(q.question)
        if seen is None:
            merged[q.question] = q.model_copy(deep=True)
        elif q.answers:
            seen.answers = list(dict.fromkeys([*(seen.answers or []), *q.answers]))
    return list(merged.values()), len(questions) - len(merged)
