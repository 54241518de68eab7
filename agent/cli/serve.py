"""`reasoner serve`: the HTTP service (trace viewer, chat API and native API) on loopback."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from agent.cli.common import ExamplesOpt, KgOpt, LlmModelOpt, ModelOpt, PlannerOpt, TracesOpt, UrlOpt, err, traces_path
from agent.llm.server import ServerError, port_in_use
from agent.settings import ApiLimits, settings
from kg.demo import DEMO_KB


def serve(
    kg_path: KgOpt = str(DEMO_KB),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    planner: PlannerOpt = "auto",
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    merged: Annotated[Optional[str], typer.Option(help="Tools given a model server of their own with the adapter merged in "
                                                       "(comma-separated; '' for none: one server carries every adapter; "
                                                       "default: REASONER_MERGED, else kg).")] = None,
    examples: ExamplesOpt = None,
    traces: TracesOpt = None,
    api_key: Annotated[Optional[str], typer.Option(help="Require Authorization: Bearer KEY on every route but /healthz "
                                                        "(default: REASONER_API_KEY).")] = None,
    max_in_flight: Annotated[Optional[int], typer.Option(help="Questions answered at once; more get a 503 (default 64).")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds allowed per question (default 120).")] = None,
    tool_option: Annotated[Optional[list[str]], typer.Option(
        "--tool-option", help="A tool's own option, TOOL.NAME=VALUE (repeat for several), e.g. logic.samples=3 for a faster "
                              "logic vote of three translations (default: REASONER_TOOL_OPTIONS).")] = None,
) -> None:
    """Start the model servers and the agent, then serve the trace viewer, the chat API and the native
    API until Ctrl-C. One model server carries the logic, induction and regression adapters; the KG planner
    (the hot tool) has a server of its own with its adapter merged in (see --merged). A managed model server that dies is restarted (its tool's requests wait for it; KG
    questions are answered by the embedding planner meanwhile); /healthz names each server's state.

    `--planner` is the KG tool's default planner. The embedding planner is served beside an LLM planner
    too, when a shipped scorer fits the graph, and a request picks it with `"planner": "embedding"`."""
    import uvicorn

    from agent.api.app import create_app
    from agent.assemble import open_service
    from agent.traces import TraceStore
    from kg.rdf import open_graph
    from tools.kg.search_planner import choose_scorer

    config = settings()
    options = {"api_key": api_key or config.api_key, "max_in_flight": max_in_flight, "timeout_seconds": timeout}
    limits = ApiLimits.model_validate(config.limits.model_dump() | {k: v for k, v in options.items() if v is not None})
    tool_options = tool_options_of(tool_option or [], config.tool_options)
    if port_in_use(port):
        raise ServerError(f"port {port} is already in use: choose another with --port")
    store = TraceStore(traces_path(traces))
    kg = open_graph(kg_path)
    err.print("starting the agent" + ("" if choose_scorer(kg, planner) else " and its model server (about 30 s)") + "…")
    merged_tools = None if merged is None else {t.strip() for t in merged.split(",") if t.strip()}
    with open_service(kg, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples,
                      merged=merged_tools, tool_options=tool_options) as service:
        app = create_app(service.agents, store, backend=service.backend, limits=limits)
        url = f"http://{host}:{port}"
        default = next(iter(service.agents))
        err.print(f"[bold]reasoner is serving at {url}/[/]  (the trace viewer; Ctrl-C stops)", highlight=False)
        err.print(f"  OpenAI base URL {url}/v1 (model 'reasoner'); native API {url}/api/ask; OpenAPI {url}/docs; "
                  f"KG planners: {', '.join(service.agents)} (default {default}); traces in {store.path}", highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="warning")


def tool_options_of(given: list[str], defaults: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`--tool-option TOOL.NAME=VALUE` values over the settings' options. A value is read as JSON when it is
    (3, 0.5, true), else as a string."""
    options = {tool: dict(values) for tool, values in defaults.items()}
    for text in given:
        key, eq, value = text.partition("=")
        tool, dot, name = key.strip().partition(".")
        if not (eq and dot and tool and name):
            raise ValueError(f"--tool-option {text!r}: write TOOL.NAME=VALUE, e.g. logic.samples=3")
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        options.setdefault(tool, {})[name] = parsed
    return options
