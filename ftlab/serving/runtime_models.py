"""The served model of the embedded and Ray backends: what ``open_runtime`` opens, behind a queue, one per version."""

from __future__ import annotations

from ftlab.errors import FtlabError
from ftlab.serving.model_queue import QueuedModel
from ftlab.serving.settings import ServeSettings
from ftlab.serving.traffic import TrafficSplit


def open_runtime_models(settings: ServeSettings) -> dict[str, TrafficSplit]:
    """Model id -> its versions opened as runtimes (a model, run, exported artifact or registry version each;
    several for an A/B test), each behind its own queue."""
    from ftlab.export.opening import open_runtime

    if settings.adapters:
        raise FtlabError("--lora serves LoRA adapters on one base model with vLLM; add --backend vllm (on a "
                         "GPU machine), or serve each run on its own port.")
    settings = settings.resolved()
    name = settings.model_id()
    versions = {}
    try:
        for label, source in settings.versions.items():
            versions[label] = QueuedModel(open_runtime(source, name), name, settings.max_tokens, settings.queue_size)
    except BaseException:
        for model in versions.values():
            model.close()
        raise
    return {name: TrafficSplit(versions, settings.model_name(), settings.ab, settings.split_salt())}
