"""The one LLM client: constrained multi-sample calls to an OpenAI-compatible server (vLLM), each
returned as an `LLMCall` with the prompt, the raw outputs, their log-probabilities, token usage and time."""

from __future__ import annotations

import json
import math
import time

from openai import APIConnectionError, APIResponseValidationError, InternalServerError, OpenAI

from tools.base import Constraint, LLMCall, LLMUnavailable

MAX_OUTPUT_CHARS = 20_000  # of one output, kept (the rest is cut, as at max_tokens)


class LLMClient:
    """Samples from `model` at `base_url`; a call may name another served model (a LoRA adapter)."""

    def __init__(self, base_url: str, model: str, *, timeout: float = 120.0, max_retries: int = 1) -> None:
        self.base_url = base_url
        self.model = model
        self.openai = OpenAI(base_url=base_url, api_key="unused", timeout=timeout, max_retries=max_retries)

    def sample(self, *, messages: list[dict] | None = None, prompt: str | list[str] | None = None, n: int = 1,
               temperature: float = 0.0, max_tokens: int = 64, constraint: Constraint | None = None,
               model: str | None = None) -> LLMCall:
        """`n` samples for a chat (`messages`) or a plain completion (`prompt`; a list of prompts is one batch, its
        outputs `n` per prompt in order), decoding constrained by `constraint`.
        A server that cannot be reached, times out or fails (5xx) raises `LLMUnavailable`."""
        if (messages is None) == (prompt is None):
            raise TypeError("give either messages (a chat) or prompt (a plain completion)")
        try:
            return self._sample(messages=messages, prompt=prompt, n=n, temperature=temperature, max_tokens=max_tokens,
                                constraint=constraint, model=model)
        except (APIConnectionError, InternalServerError) as e:
            raise LLMUnavailable(f"{type(e).__name__}: {e}") from e
        except (APIResponseValidationError, json.JSONDecodeError) as e:  # a body that is not OpenAI's format
            raise LLMUnavailable(f"the model server's answer is not in OpenAI's format ({type(e).__name__})") from e

    def _sample(self, *, messages: list[dict] | None, prompt: str | list[str] | None, n: int, temperature: float, max_tokens: int,
                constraint: Constraint | None, model: str | None) -> LLMCall:
        model = model or self.model
        extra = {"structured_outputs": _structured(constraint)} if constraint else None
        started = time.perf_counter()
        if messages is not None:
            response = self.openai.chat.completions.create(model=model, messages=messages, n=n, temperature=temperature,
                                                           max_tokens=max_tokens, logprobs=True, extra_body=extra)
            raw = [c.message.content or "" for c in response.choices]
            logprobs = [sum(t.logprob for t in c.logprobs.content) if c.logprobs and c.logprobs.content else -math.inf
                        for c in response.choices]
            sent = messages
        else:
            response = self.openai.completions.create(model=model, prompt=prompt, n=n, temperature=temperature,
                                                      max_tokens=max_tokens, logprobs=1, extra_body=extra)
            choices = sorted(response.choices, key=lambda c: c.index)
            raw = [c.text for c in choices]
            logprobs = [sum(x for x in c.logprobs.token_logprobs if x is not None) if c.logprobs else -math.inf
                        for c in choices]
            sent = [{"role": "prompt", "content": p} for p in ([prompt] if isinstance(prompt, str) else prompt)]
        finish = [c.finish_reason or "" for c in sorted(response.choices, key=lambda c: c.index)]
        for i, text in enumerate(raw):  # what no call of ours asks for (max_tokens is small): a server ignoring it
            if len(text) > MAX_OUTPUT_CHARS:
                raw[i], finish[i] = text[:MAX_OUTPUT_CHARS], "length"
        wanted = n * (1 if messages is not None or isinstance(prompt, str) else len(prompt))
        if len(raw) != wanted:  # a server that is not vLLM, or not well: the tools index the outputs
            raise LLMUnavailable(f"the model server returned {len(raw)} outputs where {wanted} were asked")
        usage = response.usage
        return LLMCall(model=model, messages=sent, raw=raw, logprobs=logprobs, finish=finish,
                       constraint=constraint.kind if constraint else None,
                       usage={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens} if usage else {},
                       seconds=round(time.perf_counter() - started, 4))


def _structured(constraint: Constraint) -> dict:
    if constraint.kind == "json":
        return {"json": constraint.value, "disable_any_whitespace": True}
    return {constraint.kind: constraint.value}
