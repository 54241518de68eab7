"""An LLM client whose model server starts on first use, so a tool that is never asked costs nothing."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from agent.llm.client import LLMClient
from agent.llm.server import ServerError
from tools.base import LLMCall, LLMUnavailable

log = logging.getLogger(__name__)


class LazyLLM:
    """Implements the tools' `LLM` protocol; `start` opens the server and yields its client (once)."""

    def __init__(self, start: Callable[[], AbstractContextManager[LLMClient]], what: str) -> None:
        self._start = start
        self.what = what
        self._client: LLMClient | None = None
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()

    def client(self) -> LLMClient:
        with self._lock:
            if self._client is None:
                log.warning("starting the model server for %s", self.what)
                self._client = self._stack.enter_context(self._start())
            return self._client

    def warm(self) -> None:
        """Start the server now, in the background; a failure is logged, and met again on first use."""
        threading.Thread(target=self._try_start, daemon=True).start()

    def _try_start(self) -> None:
        try:
            self.client()
        except ServerError as e:
            log.warning("the model server for %s did not start: %s", self.what, e)

    def sample(self, **kwargs) -> LLMCall:
        try:
            client = self.client()
        except ServerError as e:
            raise LLMUnavailable(f"the model server for {self.what} did not start: {e}") from e
        return client.sample(**kwargs)

    def close(self) -> None:
        with self._lock:
            self._stack.close()
            self._client = None
