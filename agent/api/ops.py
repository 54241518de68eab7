"""Operations: health (with the model server's state), Prometheus metrics, the tools and planners served."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from agent.api.app import AppState, errors, state
from agent.llm.server import ServerError, check_reachable
from tools import TOOLS, ToolInfo

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str  # ok | degraded
    model_server: str | None  # its URL when it answers, or what is wrong with it
    planners: list[str]
    answering: int = 0


class Planners(BaseModel):
    default: str
    planners: list[str]


class Tools(BaseModel):
    tools: list[ToolInfo]  # every tool, with whether it is available
    served: list[str]  # the tools this service answers with


@router.get("/healthz", responses={503: {"model": Health, "description": "the model server does not answer"}})
def healthz(app: AppState = Depends(state)) -> Health:
    url = app.backend.url
    try:
        if url:
            check_reachable(url, timeout=3)
    except ServerError as e:
        problem = (app.backend.server.problem if app.backend.server else None) or str(e)
        return JSONResponse(Health(status="degraded", model_server=problem, planners=list(app.agents)).model_dump(),
                            status_code=503)
    return Health(status="ok", model_server=url, planners=list(app.agents), answering=app.slots.used)


@router.get("/api/planners", responses=errors())
def planners(app: AppState = Depends(state)) -> Planners:
    return Planners(default=app.default_planner, planners=list(app.agents))


@router.get("/api/tools", responses=errors())
def tools(app: AppState = Depends(state)) -> Tools:
    served = sorted({name for agent in app.agents.values() for name in agent.tools})
    return Tools(tools=list(TOOLS.values()), served=served)


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}} | errors())
def metrics(app: AppState = Depends(state)) -> PlainTextResponse:
    return PlainTextResponse(generate_latest(app.metrics.registry), media_type=CONTENT_TYPE_LATEST)
