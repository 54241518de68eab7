"""The app: the routers of chat.py, runs.py and ops.py over one `AppState` (state.py), a guard for auth and
body size, errors in OpenAI's shape."""

from __future__ import annotations

import time
from functools import partial
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.api import chat, ops, runs
from agent.api.state import AppState, error
from agent.graph import Agent
from agent.llm.backend import Backend
from agent.settings import ApiLimits
from agent.traces import TraceStore
from tools.registry import registered


def viewer_cards() -> str:
    """The viewer's cards.js: each registered tool's card script, in a block of its own (so that names one card
    declares do not meet another's)."""
    parts = ['"use strict";', "const CARDS = {};"]
    for spec in registered().values():
        if spec.card is not None:
            parts.append(f"// {spec.name}\n{{\n{spec.card.read_text(encoding='utf-8')}}}")
    return "\n".join(parts) + "\n"


def create_app(agents: Agent | dict[str, Agent], store: TraceStore, *, backend: Backend | None = None,
               limits: ApiLimits | None = None) -> FastAPI:
    """The app over one agent per KG planner ("llm", "embedding"; the first is the default). `backend`:
    the model servers the tools sample from (none for the embedding planner alone), which /healthz and
    /metrics report on."""
    agents = agents if isinstance(agents, dict) else {agents.planner_name: agents}
    limits = limits or ApiLimits()
    app = FastAPI(title="reasoner", summary="A language model plans; symbolic tools ground and check every step.",
                  version="0.2.0")
    app.state.reasoner = AppState(agents, store, backend or Backend(), limits)
    cards = viewer_cards()

    @app.get("/viewer/cards.js", include_in_schema=False)  # before the folder's mount, which would answer 404
    def cards_script() -> Response:
        return Response(cards, media_type="text/javascript")

    app.mount("/viewer", StaticFiles(directory=str(files("viewer")), html=True), name="viewer")
    for router in (chat.router, runs.router, ops.router):
        app.include_router(router)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        path = request.url.path
        public = path == "/healthz" or path == "/" or path.startswith("/viewer/")  # the page's files carry no data
        if limits.api_key and not public:
            if request.headers.get("authorization") != f"Bearer {limits.api_key}":
                return error(401, "missing or incorrect API key: send Authorization: Bearer <key>")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_body_bytes:
            # Read the body away (not kept) so the client gets the 413 rather than a reset connection.
            if int(length) <= limits.drain_bytes:
                async for _ in request.stream():
                    pass
            return error(413, f"request body of {length} bytes is over the limit of {limits.max_body_bytes}")
        response = await call_next(request)
        metrics = app.state.reasoner.metrics
        route = request.scope["route"].path if request.scope.get("route") else "unmatched"
        metrics.requests.labels(route, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        if response.status_code >= 500:
            metrics.errors.labels(route).inc()
        return response

    @app.exception_handler(StarletteHTTPException)  # ours, and the framework's (unparsable body, no such route)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return error(400, f"{where or 'body'}: {first['msg']}", param=where or None)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/viewer/")

    app.openapi = partial(_openapi, app)
    return app


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, told the truth: request validation errors are 400s here, never 422s."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
