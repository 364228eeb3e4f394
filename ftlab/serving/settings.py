"""What ``ftlab serve`` was asked to serve: the source, the model id it answers to, where and with what limits.

The settings are a plain dataclass because Ray Serve ships them to every
replica, which opens its own copy of the model there (the backend's ``open_models``).
:meth:`ServeSettings.resolved` looks the registry up once, where the command
runs, so that every replica opens the same folders under the same version
labels even if an alias moves while they start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ftlab.errors import FtlabError
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
    # A/B test: registry version -> its share of the users (the source is then models:/NAME), in the order given
    ab: dict[str, float] = field(default_factory=dict)
    experiment: str | None = None  # the A/B test's name: salts the split and is logged; default the model's name
    log: str | None = None  # the request log (JSON lines) every answer is appended to; absolute
    # version label -> local source, filled by resolved(): what is opened and what each answer is logged under
    versions: dict[str, str] = field(default_factory=dict)

    def model_id(self) -> str:
        if self.name:
            return self.name
        return self.model_name()

    def model_name(self) -> str:
        """The registered model's name for a models:/ source, else the model id derived from the source (what the
        request log calls the model)."""
        if self.source.startswith(REGISTRY_PREFIX):
            return self.source[len(REGISTRY_PREFIX):].split("@")[0].split("/")[0]
        path = Path(self.source)
        return path.resolve().name if path.exists() else self.source

    def split_salt(self) -> str | None:
        """The A/B test's name (what the split hashes with each user id), or None when no A/B test is served."""
        return (self.experiment or self.model_name()) if self.ab else None

    def traffic_note(self) -> str:
        """What the server does besides answering, for its start-up message ("" when nothing)."""
        notes = []
        if self.ab:
            total = sum(self.ab.values()) or 1
            shares = ", ".join(f"version {v} {w / total:.0%}" for v, w in self.ab.items())
            notes.append(f"A/B test {self.split_salt()!r}: {shares} of users, by the request's 'user'")
        if self.log:
            notes.append(f"every answer appended to {self.log}, feedback at POST /v1/feedback")
        return "; ".join(notes)

    def local_source(self) -> str:
        """The source as a local path or model name (a registry URI resolved; paths absolute, since a Ray
        replica does not share the command's working directory); once resolved, the one version's."""
        if len(self.versions) == 1:
            return next(iter(self.versions.values()))
        if self.source.startswith(REGISTRY_PREFIX):
            from ftlab.ops.model_registry import resolve_uri

            return resolve_uri(self.source, self.registry_uri)
        path = Path(self.source)
        return str(path.resolve()) if path.exists() else self.source

    def resolved(self) -> ServeSettings:
        """These settings with every served version looked up once: label -> local source in ``versions``.

        A registry source is labelled with its version number (an alias's as it stands now), an A/B test
        opens ``models:/NAME/VERSION`` for each version it weighs, any other source is labelled with its model id.
        """
        if self.versions:
            return self
        if not self.ab:
            if not self.source.startswith(REGISTRY_PREFIX):
                return replace(self, name=self.model_id(), versions={self.model_id(): self.local_source()})
            from ftlab.ops.model_registry import resolve_version

            info = resolve_version(self.source, self.registry_uri)
            return replace(self, name=self.model_id(), versions={str(info.version): info.run_dir})
        from ftlab.ops.ab_test import check_weights
        from ftlab.ops.model_registry import ModelRegistry, resolve_version

        name = self.source[len(REGISTRY_PREFIX):] if self.source.startswith(REGISTRY_PREFIX) else ""
        if not name or any(c in name for c in "/@"):
            raise FtlabError(f"--ab splits users between registered versions of one model, so the source is "
                             f"models:/NAME (no @ALIAS, no /VERSION), not {self.source!r}; e.g. ftlab serve "
                             "models:/cipher --ab 1=0.9,2=0.1.")
        check_weights(self.ab)
        labels = [version for version in self.ab if not version.isdigit()]
        if labels:
            raise FtlabError(f"--ab: {', '.join(map(repr, labels))} is not a version number; an A/B test weighs "
                             f"registered versions by number (`ftlab registry list --name {name}`), e.g. --ab "
                             "1=0.9,2=0.1.")
        registry = ModelRegistry(self.registry_uri)
        versions = {version: resolve_version(f"{REGISTRY_PREFIX}{name}/{version}", registry=registry).run_dir
                    for version in self.ab}
        return replace(self, name=self.model_id(), versions=versions)
