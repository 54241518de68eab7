"""Batch runs on a Ray cluster: the same items, output lines, resume and summary as agent/batch.py, answered by a
pool of agents on the cluster's workers.

The items not yet answered become a Ray Dataset; `map_batches` sends batches of them to a pool of actors, each
holding one agent built by `recipe` (a picklable function that opens the agent: the graph, the planner and the
tools, and the model servers they talk to: a vLLM replica each worker starts for itself, or the URL given; given
several, the agents take them in turn).
Ray Data restarts an actor whose process dies and sends its unfinished batch again, and an actor returns a
batch's lines only when all are done, so a worker lost mid-job costs time, not an answer. The driver writes
each line as it arrives. Without an address a local cluster is started on this machine (and stopped after).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

from agent import telemetry
from agent.batch import answer_lines, prepare
from agent.graph import Agent
from agent.traces import TraceStore
from tools.base import BatchItem
from tools.registry import spec

log = logging.getLogger(__name__)

LOCAL = "local"  # the address that starts a cluster on this machine
OBJECT_STORE_BYTES = 256 * 2**20  # a local cluster's object store: items and lines are small


def replicas(llm_url: str | None, ray: str | None) -> list[str]:
    """The model servers of `--llm-url`: several, separated by commas, are shared out over the agents of a Ray run."""
    urls = [url.strip() for url in (llm_url or "").split(",") if url.strip()]
    if len(urls) > 1 and ray is None:
        raise ValueError("several --llm-url servers are shared out over the agents of a Ray run: add --ray, or give one URL")
    return urls


class _Turns:
    """A Ray actor handing out 0, 1, 2, ...: which replica the next agent takes."""

    def __init__(self) -> None:
        self.taken = 0

    def take(self) -> int:
        self.taken += 1
        return self.taken - 1


class _Answerer:
    """A Ray actor: one agent, answering a batch of items (JSON) into their lines, `concurrency` at once."""

    def __init__(self, recipe: Callable[..., AbstractContextManager[Agent]], tool: str, traces: str | None,
                 concurrency: int, urls: list[str], turns) -> None:
        import ray

        telemetry.setup()
        self.stack = contextlib.ExitStack()
        if len(urls) > 1:  # this agent's model server: the next replica in turn
            recipe = partial(recipe, llm_url=urls[ray.get(turns.take.remote()) % len(urls)])
        self.agent = self.stack.enter_context(recipe())
        self.files = spec(tool).files
        self.tool = tool
        self.store = TraceStore(traces) if traces else None
        self.concurrency = concurrency

    def __call__(self, batch: dict) -> dict:
        items = [BatchItem.model_validate_json(text) for text in batch["item"]]
        prepare(self.agent, self.tool, items)
        lines = list(answer_lines(self.agent, self.store, self.files, items, min(self.concurrency, len(items))))
        telemetry.flush()
        return {"line": lines}


def on_ray(address: str, recipe: Callable[..., AbstractContextManager[Agent]], tool: str, traces: Path | None, *,
           workers: int | None, concurrency: int, cpus: float = 1.0, urls: list[str] = ()) -> Callable[[list[BatchItem]], Iterator[str]]:
    """An `answer` for `agent.batch.write_lines`: the items' lines from `workers` agents (default: one per `cpus`
    of the cluster) on the cluster at `address` (LOCAL: one started here), about four batches per agent. With
    several model server `urls`, `recipe(llm_url=URL)` builds each agent on the next in turn."""

    def answer(todo: list[BatchItem]) -> Iterator[str]:
        import ray

        logging.getLogger("ray").setLevel(logging.WARNING)
        local = address == LOCAL
        ray.init(address=None if local else address, object_store_memory=OBJECT_STORE_BYTES if local else None,
                 include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 runtime_env={"env_vars": {k: v for k, v in os.environ.items() if k.startswith(("REASONER_", "OTEL_"))}})
        try:
            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False  # the command shows its own
            data = ray.data.from_items([{"item": item.model_dump_json()} for item in todo])
            pool = workers or max(1, int(ray.cluster_resources().get("CPU", 1) // cpus))
            batch = max(1, min(64, len(todo) // (4 * pool)))  # small enough to share out, and a lost one costs little
            lines = data.map_batches(_Answerer, batch_size=batch, compute=ray.data.ActorPoolStrategy(size=pool), num_cpus=cpus,
                                     fn_constructor_kwargs={"recipe": recipe, "tool": tool, "concurrency": concurrency,
                                                            "traces": str(traces) if traces else None, "urls": list(urls),
                                                            "turns": ray.remote(_Turns).remote() if len(urls) > 1 else None})
            for row in lines.iter_rows():
                yield row["line"]
        finally:
            ray.shutdown()

    return answer
