"""vLLM on a GPU: one engine, one base model, several LoRA runs served as adapters on it, batched together.

A runtime answers one request at a time; vLLM batches every request in
flight (continuous batching) and keeps several LoRA adapters on one set of
base weights, so ``ftlab serve BASE --backend vllm --lora a=RUN_A --lora
b=RUN_B`` serves the base model and each run under its own model id from one
GPU.  A LoRA run given as SOURCE is served as its base model plus its adapter.
With ``--replicas N`` the same app runs inside Ray Serve, one GPU per replica,
as the source material deploys it.

The prompt goes through the base model's chat template (ftlab's tokenizer
loader), so vLLM answers the dialogue a runtime would; decoding is greedy,
like the runtimes'.  Only the code path runs on a CPU machine: there
``unavailable()`` says why the backend cannot start, and the test is marked gpu.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.serving.answer import Answer
from ftlab.serving.backends import Backend
from ftlab.serving.settings import ServeSettings
from ftlab.serving.traffic import TrafficSplit
from ftlab.serving.wire import ApiError, context_error


def unavailable() -> str | None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        return "vLLM is not installed; on a machine with a CUDA GPU: pip install vllm."
    import torch

    if not torch.cuda.is_available():
        return "vLLM needs a CUDA GPU and this machine has none (torch.cuda.is_available() is False)."
    return None


def _base_and_adapter(source: str, name: str) -> tuple[str, str, str | None]:
    """(base model path, its model id, LoRA adapter folder or None) for a model name/folder or a run directory;
    ``name`` is the id of the source itself (the base model's, or the run's when it holds an adapter)."""
    from ftlab.config import Config
    from ftlab.models.tiny import resolve_model_path

    folder = Path(source)
    if not folder_is_run(source):
        return resolve_model_path(source), name, None
    final = folder / "final"
    if not (final / "adapter_config.json").exists():
        return str(final), name, None  # a full fine-tune saved its whole model
    base = Config.load(folder / "config.yaml").model.name
    return resolve_model_path(base), base, str(final)


class VllmModel:
    """One model id on the shared engine: the base model, or the base with one LoRA adapter."""

    def __init__(self, engine, tokenizer, name: str, lora, context: int, max_tokens: int):
        self.engine, self.tokenizer, self.name, self.lora = engine, tokenizer, name, lora
        self.context, self.max_tokens = context, max_tokens

    def submit(self, messages: list[dict], max_tokens: int | None) -> Answer:
        answer = Answer(asyncio.get_running_loop())
        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_tokens = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        if prompt_tokens + (max_tokens or 1) > self.context:
            answer.fail(context_error(self.context, prompt_tokens, max_tokens))
            return answer
        budget = max_tokens or min(self.max_tokens, self.context - prompt_tokens)
        answer.start(prompt_tokens, budget)
        asyncio.get_running_loop().create_task(self._generate(prompt, budget, answer))
        return answer

    async def _generate(self, prompt: str, budget: int, answer: Answer) -> None:
        from vllm import SamplingParams

        sent, output = "", None
        try:
            async for result in self.engine.generate(prompt, SamplingParams(temperature=0.0, max_tokens=budget),
                                                     uuid.uuid4().hex, lora_request=self.lora):
                output = result.outputs[0]
                if len(output.text) > len(sent):  # the text so far (vLLM's default, cumulative output)
                    answer.piece(output.text[len(sent):])
                    sent = output.text
            answer.finish(len(output.token_ids) if output else 0, truncated=bool(output and output.finish_reason ==
                                                                                 "length"))
        except Exception as exc:  # noqa: BLE001 - the request gets a 500 that says what broke; the server goes on
            answer.fail(ApiError(500, f"vLLM failed on this request: {type(exc).__name__}: {exc}",
                                 kind="server_error", code="model_error"))

    def close(self) -> None:
        if self.lora is None:  # the base model's entry owns the engine
            self.engine.shutdown()


def open_vllm_models(settings: ServeSettings) -> dict[str, TrafficSplit]:
    """The base model and every adapter as model ids on one vLLM engine, one version each (the source's is
    labelled as :meth:`ServeSettings.resolved` says, the others by their model id)."""
    reason = unavailable()
    if reason:
        raise FtlabError(f"--backend vllm cannot start here: {reason}")
    settings = settings.resolved()
    from transformers import AutoConfig
    from vllm import AsyncEngineArgs, AsyncLLMEngine
    from vllm.lora.request import LoRARequest

    from ftlab.models.loader import load_tokenizer

    base, base_name, own_adapter = _base_and_adapter(settings.local_source(), settings.model_id())
    adapters = dict(settings.adapters)
    if own_adapter is not None:
        adapters[settings.model_id()] = own_adapter
    loras = {}
    for name, run in adapters.items():
        run_base, _, folder = _base_and_adapter(run, name) if folder_is_run(run) else (base, name, run)
        if folder is None or run_base != base:
            raise FtlabError(f"--lora {name}={run}: vLLM serves LoRA adapters trained on the base model {base_name}; "
                             f"this run {'has no adapter' if folder is None else 'was trained on ' + run_base}.")
        loras[name] = folder
    ranks = [_rank(folder) for folder in loras.values()]
    engine = AsyncLLMEngine.from_engine_args(AsyncEngineArgs(
        model=base, enable_lora=bool(loras), max_loras=max(len(loras), 1), max_lora_rank=max(ranks, default=16)))
    tokenizer = load_tokenizer(base)
    context = int(getattr(AutoConfig.from_pretrained(base), "max_position_embeddings", 2048))
    models = {base_name: VllmModel(engine, tokenizer, base_name, None, context, settings.max_tokens)}
    for i, (name, folder) in enumerate(loras.items(), start=1):
        models[name] = VllmModel(engine, tokenizer, name, LoRARequest(name, i, folder), context, settings.max_tokens)
    own = settings.model_id()
    return {name: TrafficSplit({next(iter(settings.versions)): model}, settings.model_name()) if name == own
            else TrafficSplit({name: model}, name) for name, model in models.items()}


def folder_is_run(path: str) -> bool:
    return (Path(path) / "config.yaml").exists()


def _rank(adapter: str) -> int:
    import json

    return int(json.loads((Path(adapter) / "adapter_config.json").read_text()).get("r", 16))


def run(settings: ServeSettings) -> None:
    if settings.replicas:
        from ftlab.serving.backends.ray_serve import run as run_on_ray

        run_on_ray(settings, gpus_per_replica=1)
        return
    from ftlab.serving.backends.embedded import run as run_here

    run_here(settings)


ENTRY = Backend("vllm", "vLLM on a CUDA GPU, LoRA runs as adapters on one base (--lora NAME=RUN_DIR); "
                "--replicas N runs it inside Ray Serve", run, open_models=open_vllm_models, unavailable=unavailable,
                order=2)
