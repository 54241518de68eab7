"""An adversary behind `--llm-url`: an OpenAI-compatible server that ignores the prompt, the grammar and
max_tokens, and answers every request with attack text (ARCHITECTURE.md's one exception to "no fake
server": it stands for an attacker, not for the model).

What it answers is chosen by a marker in the request: the first `attackN` in a prompt picks `attacks[N]`
(a string, or a list whose items go to the samples in turn); without one, `default`. A batch of prompts
gets each prompt's own.
A few attacks are on the wire instead of the text: "!garbage" (a body that is not JSON), "!500", "!hang"
(no answer until the client gives up), "!empty" (no choices), "!short" (fewer outputs than asked).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"attack(\d+)")


class Adversary:
    def __init__(self, attacks: dict[int, str | list[str]], default: str = "") -> None:
        self.attacks, self.default = attacks, default
        self.requests = 0
        adversary = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": name, "object": "model"} for name in
                                                            ("base", "kg", "logic", "induce", "regress")]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                adversary.requests += 1
                prompts = body["prompt"] if isinstance(body.get("prompt"), list) else [body.get("messages") or body.get("prompt")]
                attacks = [adversary.choose(json.dumps(p, ensure_ascii=False)) for p in prompts]
                attack = attacks[0]
                if attack == "!garbage":
                    return self._raw(200, b"<html>not json at all")
                if attack == "!500":
                    return self._send(500, {"error": {"message": "boom"}})
                if attack == "!hang":
                    time.sleep(30)
                    return self._send(200, {})
                samples = int(body.get("n") or 1)
                # n outputs per prompt, in order (as vLLM answers a batch), each prompt's from its own marker
                texts = [([a] if isinstance(a, str) else a)[j % (1 if isinstance(a, str) else len(a))]
                         for a in attacks for j in range(samples)]
                if attack in ("!empty", "!short"):
                    texts = [] if attack == "!empty" else texts[:1]
                chat = "messages" in body
                choices = [({"index": i, "message": {"role": "assistant", "content": text}} if chat
                            else {"index": i, "text": text}) | {"finish_reason": "stop", "logprobs": None}
                           for i, text in enumerate(texts)]
                self._send(200, {"id": "x", "object": "chat.completion" if chat else "text_completion",
                                 "created": 0, "model": body.get("model", "base"), "choices": choices,
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

            def _send(self, code: int, payload: dict) -> None:
                self._raw(code, json.dumps(payload).encode())

            def _raw(self, code: int, data: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def choose(self, text: str) -> str | list[str]:
        found = MARKER.search(text or "")
        return self.attacks.get(int(found.group(1)), self.default) if found else self.default

    def __enter__(self) -> Adversary:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
