"""`reasoner serve`: the HTTP service (chat API and native API) on loopback."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from agent.cli.answer import TracesOpt, traces_path
from agent.cli.common import DEFAULT_KG, DEFAULT_LLM_MODEL, ExamplesOpt, KgOpt, LlmModelOpt, ModelOpt, PlannerOpt, UrlOpt, err
from agent.server import ServerError, port_in_use
from agent.service import open_agent
from agent.traces import TraceStore


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
    API until Ctrl-C. A managed model server that dies is restarted; meanwhile questions get a 502."""
    import uvicorn

    from serve import Limits, create_app

    if port_in_use(port):
        raise ServerError(f"port {port} is already in use: choose another with --port")
    store = TraceStore(traces_path(traces))
    err.print("starting the model server and the agent (about 30 s)…")
    with open_agent(kg_path, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples,
                    watch_server=True) as agent:
        limits = Limits(api_key=api_key, max_in_flight=max_in_flight, timeout_seconds=timeout)
        app = create_app(agent, store, llm_url=str(agent.planner.client.base_url), limits=limits)
        url = f"http://{host}:{port}"
        err.print(f"[bold]reasoner is serving at {url}/[/]  (the trace viewer; Ctrl-C stops)", highlight=False)
        err.print(f"  OpenAI base URL {url}/v1 (model 'reasoner'); native API {url}/api/ask; traces in {store.path}",
                  highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="warning")
