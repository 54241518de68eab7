"""`reasoner serve`: the HTTP service (trace viewer, chat API and native API) on loopback."""

from __future__ import annotations

import contextlib
from typing import Annotated, Optional

import typer

from agent.cli.answer import TracesOpt, traces_path
from agent.cli.common import DEFAULT_KG, DEFAULT_LLM_MODEL, ExamplesOpt, KgOpt, LlmModelOpt, ModelOpt, PlannerOpt, UrlOpt, err
from agent.search_planner import choose_scorer, find_search_scorer
from agent.server import ServerError, port_in_use
from agent.service import open_agent
from agent.traces import TraceStore
from kg.store import KnowledgeGraph


def serve(
    kg_path: KgOpt = DEFAULT_KG,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    planner: PlannerOpt = "auto",
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = DEFAULT_LLM_MODEL,
    examples: ExamplesOpt = None,
    traces: TracesOpt = None,
    api_key: Annotated[Optional[str], typer.Option(envvar="REASONER_API_KEY", help="Require Authorization: Bearer KEY on every route but /healthz.")] = None,
    max_in_flight: Annotated[int, typer.Option(help="Questions answered at once; more get a 503.")] = 64,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per question.")] = 120.0,
) -> None:
    """Start the model server and the agent, then serve the trace viewer, the chat API and the native
    API until Ctrl-C. A managed model server that dies is restarted; meanwhile questions get a 502.

    `--planner` is the default planner. The embedding planner is served beside an LLM planner too,
    when a shipped scorer fits the graph, and a request picks it with `"planner": "embedding"`."""
    import uvicorn

    from serve import Limits, create_app

    if port_in_use(port):
        raise ServerError(f"port {port} is already in use: choose another with --port")
    store = TraceStore(traces_path(traces))
    kg = KnowledgeGraph.load(kg_path)
    with contextlib.ExitStack() as stack:
        err.print("starting the agent" + ("" if choose_scorer(kg, planner) else " and its model server (about 30 s)") + "…")
        default = stack.enter_context(open_agent(kg, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model,
                                                 examples=examples, watch_server=True))
        agents = {default.planner_name: default}
        if default.planner_name != "embedding" and find_search_scorer(kg):
            agents["embedding"] = stack.enter_context(open_agent(kg, planner="embedding"))
        limits = Limits(api_key=api_key, max_in_flight=max_in_flight, timeout_seconds=timeout)
        client = getattr(default.planner, "client", None)
        app = create_app(agents, store, llm_url=str(client.base_url) if client else None, limits=limits,
                         model_server=getattr(default.planner, "server", None))
        url = f"http://{host}:{port}"
        err.print(f"[bold]reasoner is serving at {url}/[/]  (the trace viewer; Ctrl-C stops)", highlight=False)
        err.print(f"  OpenAI base URL {url}/v1 (model 'reasoner'); native API {url}/api/ask; planners: {', '.join(agents)}"
                  f" (default {default.planner_name}); traces in {store.path}", highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="warning")
