"""The served model of the embedded and Ray backends: what ``open_runtime`` opens, behind a queue."""

from __future__ import annotations

from ftlab.errors import FtlabError
from ftlab.serving.model_queue import QueuedModel
from ftlab.serving.settings import ServeSettings


def open_runtime_models(settings: ServeSettings) -> dict[str, QueuedModel]:
    """Model id -> the source opened as a runtime (a model, run, exported artifact or registry version)."""
    from ftlab.export.opening import open_runtime

    if settings.adapters:
        raise FtlabError("--lora serves LoRA adapters on one base model with vLLM; add --backend vllm (on a "
                         "GPU machine), or serve each run on its own port.")
    name = settings.model_id()
    return {name: QueuedModel(open_runtime(settings.local_source(), name), name, settings.max_tokens,
                              settings.queue_size)}
