"""Chat messages with a known answer, asked of `reasoner serve` as a user asks them: the share answered right.

    python bench/chat.py [--set bench/chat_answers.jsonl] [--url http://127.0.0.1:8080] [--port 8093]

Starts `reasoner serve` on the embedded default (unless --url names a running service), posts every
message of the set to /api/ask with no tool named (the router chooses), and scores the answer:
`set` — the answers are exactly the expected names (any order, any case); `one` — the first answer
is one of the expected strings; `formula` — the first answer, read by sympy, agrees with the expected
formula within 1% at 50 random points of its variables. The set was written once, after the router
was done, and is not tuned on. Prints each message's route, status and answer, and writes
bench/results/chat.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
REASONER = Path(sys.executable).parent / "reasoner"


def right(item: dict, answers: list[str]) -> bool:
    if not answers:
        return False
    if item["score"] == "set":
        return {_plain(a) for a in answers} == {_plain(e) for e in item["expected"]}
    if item["score"] == "one":
        return _plain(answers[0]) in {_plain(e) for e in item["expected"]}
    return _same_formula(answers[0], item["expected"])


def _plain(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = json.loads(text)
    return " ".join(str(text).split()).lower()


def _same_formula(answer: str, expected: str) -> bool:
    import sympy

    try:
        got, want = sympy.sympify(answer.split("=")[-1]), sympy.sympify(expected)
    except (sympy.SympifyError, SyntaxError, TypeError):
        return False
    names = sorted(want.free_symbols | got.free_symbols, key=str)
    if {str(s) for s in got.free_symbols} - {str(s) for s in want.free_symbols}:
        return False
    rng = random.Random(0)
    for _ in range(50):
        point = {s: rng.uniform(0.5, 6) for s in names}
        a, b = complex(got.evalf(subs=point)), complex(want.evalf(subs=point))
        if abs(a - b) > 0.01 * max(1.0, abs(b)):
            return False
    return True


def start_service(port: int) -> subprocess.Popen:
    log = open(HERE / "out" / "chat-serve.log", "w")
    process = subprocess.Popen([str(REASONER), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"reasoner serve exited with {process.returncode}: see bench/out/chat-serve.log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(5)
    process.terminate()
    raise SystemExit("reasoner serve did not become healthy in 20 minutes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=HERE / "chat_answers.jsonl")
    parser.add_argument("--url", help="a running service (default: start `reasoner serve`)")
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "chat.json")
    args = parser.parse_args()

    items = [json.loads(line) for line in args.set.read_text().splitlines() if line.strip()]
    (HERE / "out").mkdir(exist_ok=True)
    process = None if args.url else start_service(args.port)
    url = args.url or f"http://127.0.0.1:{args.port}"
    lines = []
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            for item in items:
                started = time.perf_counter()
                response = client.post("/api/ask", json={"question": item["message"]})
                seconds = time.perf_counter() - started
                body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
                answers = body.get("answers", []) if response.status_code == 200 else []
                line = {"message": item["message"], "expected": item["expected"], "tool": body.get("tool"),
                        "status": body.get("status", f"http {response.status_code}"), "answers": answers[:5],
                        "right": right(item, answers), "seconds": round(seconds, 2)}
                lines.append(line)
                print(f"{'RIGHT' if line['right'] else 'wrong'} {line['tool']!s:8} {line['status']:10} "
                      f"{json.dumps(answers[:3])[:60]:60} {item['message'][:70]!r}", flush=True)
    finally:
        if process is not None:
            os.killpg(process.pid, 15)
            process.wait(60)
    n, good = len(lines), sum(line["right"] for line in lines)
    by_tool: dict[str, list[int]] = {}
    for line in lines:
        by_tool.setdefault(str(line["tool"]), [0, 0])[line["right"]] += 1
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "set": str(args.set.name), "n": n, "right": good,
              "share_right": round(good / n, 4) if n else 0.0,
              "by_routed_tool": {t: {"right": v[1], "n": v[0] + v[1]} for t, v in by_tool.items()}, "messages": lines}
    print(f"answered right: {good} of {n} ({result['share_right']:.1%})")
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
