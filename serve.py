"""The HTTP service: the trace viewer, an OpenAI-compatible chat API and a native JSON API over the agent.

    python serve.py [--kg KB] [--port 8080]      (the same as `reasoner serve`)

`/` is the trace viewer (static files in viewer/). `POST /v1/chat/completions` (model `reasoner`,
SSE with `stream: true`) and `GET /v1/models` speak OpenAI's wire format; `POST /api/ask`,
`POST /api/runs` (started in the background), `GET /api/runs[/{id}[/events]]` and `POST /api/batch`
+ `GET /api/batch/{id}` take tasks and return structured answers and traces; `GET /healthz`,
`GET /metrics` (Prometheus), `GET /api/tools`, `GET /api/planners`; `/docs` is the OpenAPI document.
The routes live in agent/api/ (chat.py, runs.py, ops.py), wired by `agent.api.app.create_app`.
"""

from __future__ import annotations

import sys

from agent.api.app import create_app

__all__ = ["create_app"]

if __name__ == "__main__":
    from agent.cli import main

    sys.argv[1:1] = ["serve"]
    main()
