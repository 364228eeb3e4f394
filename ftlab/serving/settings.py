"""What ``ftlab serve`` was asked to serve: the source, the model id it answers to, where and with what limits.

The settings are a plain dataclass because Ray Serve ships them to every
replica, which opens its own copy of the model there (the backend's ``open_models``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ftlab.serving.model_queue import DEFAULT_QUEUE_SIZE

REGISTRY_PREFIX = "models:/"
DEFAULT_MAX_TOKENS = 256


@dataclass
class ServeSettings:
    source: str  # a model name, model folder, run directory, exported artifact or models:/NAME@ALIAS
    name: str | None = None  # the model id clients ask for; default: derived from the source
    backend: str = "embedded"
    host: str = "127.0.0.1"
    port: int = 8000
    replicas: int | None = None  # Ray Serve replicas (ray: default 2; vllm: given means inside Ray Serve)
    max_tokens: int = DEFAULT_MAX_TOKENS  # the most tokens one answer may ask for
    queue_size: int = DEFAULT_QUEUE_SIZE  # requests that may wait for a model before new ones get 503
    adapters: dict[str, str] = field(default_factory=dict)  # vllm: LoRA adapter id -> run directory
    registry_uri: str | None = None

    def model_id(self) -> str:
        if self.name:
            return self.name
        if self.source.startswith(REGISTRY_PREFIX):
            return self.source[len(REGISTRY_PREFIX):].split("@")[0].split("/")[0]
        path = Path(self.source)
        return path.resolve().name if path.exists() else self.source

    def local_source(self) -> str:
        """The source as a local path or model name (a registry URI resolved; paths absolute, since a Ray
        replica does not share the command's working directory)."""
        if self.source.startswith(REGISTRY_PREFIX):
            from ftlab.ops.model_registry import resolve_uri

            return resolve_uri(self.source, self.registry_uri)
        path = Path(self.source)
        return str(path.resolve()) if path.exists() else self.source
