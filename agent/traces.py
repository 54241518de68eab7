"""Run traces in SQLite: one row per run, one per step, schema versioned by numbered migrations.

Every task the agent answers is a run, with the tool it was routed to; every node it passes through
(route, frame, plan, ground, check, answer) is a step with its inputs, outputs, timings and, for
`plan`, the raw LLM requests and responses. History is plain SQL:
`select question, tool, status from runs order by started`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tools.base import Status

MIGRATIONS = [
    # 1: runs and steps
    """
    create table runs (
        id text primary key,
        question text not null,
        status text not null,            -- one of tools.base.STATUSES
        started real not null,
        finished real,
        answers text,                    -- JSON list, ranked
        result text                      -- JSON: the whole structured answer
    );
    create index runs_started on runs(started);
    create table steps (
        run_id text not null references runs(id),
        seq integer not null,
        node text not null,
        started real not null,
        seconds real not null,
        input text,                      -- JSON
        output text,                     -- JSON
        primary key (run_id, seq)
    );
    """,
    # 2: the tool each run was routed to (kg | logic | induce | regress | none)
    """
    alter table runs add column tool text;
    create index runs_tool on runs(tool);
    """,
]


class StepRecord(BaseModel):
    seq: int
    node: str
    started: float
    seconds: float
    input: Any = None
    output: Any = None


class RunSummary(BaseModel):
    id: str
    question: str
    status: Status
    tool: str | None = None
    started: float
    finished: float | None
    answers: list[str] | None


class RunRecord(RunSummary):
    result: Any = None
    steps: list[StepRecord] = []


class TraceStore:
    """A SQLite file of runs; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        for attempt in range(100):  # processes opening a new file at once: the switch to WAL wants it alone
            try:
                self._db.execute("pragma journal_mode=wal")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == 99:
                    raise
                time.sleep(0.05)
        self._db.execute("pragma synchronous=normal")
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        """Bring the file to this program's schema. Processes opening a new file at once (a batch's workers) may
        race: the one that loses finds the file migrated by the other and goes on."""
        with self._lock:
            while (version := self.schema_version) < len(MIGRATIONS):
                try:
                    self._db.executescript(f"begin immediate; {MIGRATIONS[version]}; pragma user_version = {version + 1}; commit;")
                except sqlite3.OperationalError:
                    if self._db.in_transaction:
                        self._db.execute("rollback")
                    if self.schema_version == version:  # not migrated by another process meanwhile: a real error
                        raise
            if version > len(MIGRATIONS):
                raise RuntimeError(f"{self.path} has trace schema version {version}, newer than this program's {len(MIGRATIONS)}")

    @property
    def schema_version(self) -> int:
        return self._db.execute("pragma user_version").fetchone()[0]

    def start_run(self, question: str) -> str:
        run_id = uuid.uuid4().hex[:16]
        with self._lock:
            self._db.execute("insert into runs (id, question, status, started) values (?, ?, 'running', ?)",
                             (run_id, question, time.time()))
        return run_id

    def add_step(self, run_id: str, seq: int, node: str, started: float, seconds: float, input: Any, output: Any) -> None:
        with self._lock:
            self._db.execute(
                "insert into steps (run_id, seq, node, started, seconds, input, output) values (?, ?, ?, ?, ?, ?, ?)",
                (run_id, seq, node, started, seconds, _json(input), _json(output)),
            )

    def finish_run(self, run_id: str, status: str, answers: list[str], result: Any, tool: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "update runs set status = ?, finished = ?, answers = ?, result = ?, tool = coalesce(?, tool) where id = ?",
                (status, time.time(), json.dumps(answers, ensure_ascii=False), _json(result), tool, run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("select id, question, status, tool, started, finished, answers, result from runs where id = ?",
                                   (run_id,)).fetchone()
            steps = self._db.execute("select seq, node, started, seconds, input, output from steps where run_id = ? order by seq",
                                     (run_id,)).fetchall()
        if row is None:
            return None
        return RunRecord(
            id=row[0], question=row[1], status=row[2], tool=row[3], started=row[4], finished=row[5],
            answers=json.loads(row[6]) if row[6] else None, result=json.loads(row[7]) if row[7] else None,
            steps=[StepRecord(seq=s[0], node=s[1], started=s[2], seconds=s[3],
                              input=json.loads(s[4]) if s[4] else None, output=json.loads(s[5]) if s[5] else None)
                   for s in steps],
        )

    def runs(self, *, limit: int = 50, offset: int = 0, status: str | None = None, tool: str | None = None,
             text: str | None = None) -> list[RunSummary]:
        """Runs newest first, optionally only those with `status`, routed to `tool`, or whose question contains `text`."""
        where, args = [], []
        for column, value in (("status", status), ("tool", tool)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if text:
            where.append("question like ? escape '\\'")
            args.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        sql = "select id, question, status, tool, started, finished, answers from runs"
        sql += (" where " + " and ".join(where)) if where else ""
        sql += " order by started desc limit ? offset ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit, offset)).fetchall()
        return [RunSummary(id=r[0], question=r[1], status=r[2], tool=r[3], started=r[4], finished=r[5],
                           answers=json.loads(r[6]) if r[6] else None) for r in rows]

    def close(self) -> None:
        self._db.close()


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, ensure_ascii=False, default=lambda v: v.model_dump() if isinstance(v, BaseModel) else str(v))

