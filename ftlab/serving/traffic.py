"""The versions behind one served model id, and which of them answers a user.

A plain source is one version (its registry version number, or the model id)
and answers everyone.  An A/B test (``ftlab serve models:/NAME --ab
1=0.9,2=0.1``) holds one model per registered version and routes each user
with :func:`ftlab.ops.ab_test.choose_version`: a hash of the user id and the
experiment's name, so a user meets the same version in every request, on
every replica, and after a restart.  The version that answered is what the
request log records and what the ``x-ftlab-version`` header says.
"""

from __future__ import annotations

from typing import Any

from ftlab.ops.ab_test import choose_version

ANONYMOUS = "anonymous"  # the user of a request that names none (OpenAI's optional ``user`` field)


class TrafficSplit:
    """``versions``: label -> served model (``submit``/``close``); ``weights`` and ``experiment`` for an A/B test.
    ``name`` is what the request log calls the model (the registered name)."""

    def __init__(self, versions: dict[str, Any], name: str, weights: dict[str, float] | None = None,
                 experiment: str | None = None):
        self.versions, self.name, self.experiment = versions, name, experiment
        self.weights = dict(weights) if weights else {label: 1.0 for label in versions}

    def route(self, user: str) -> tuple[str, Any]:
        """(version label, model) that answers ``user``."""
        if len(self.versions) == 1:
            return next(iter(self.versions.items()))
        version = choose_version(user, self.weights, self.experiment or "")
        return version, self.versions[version]

    @property
    def waiting(self) -> int:
        return sum(getattr(model, "waiting", 0) for model in self.versions.values())

    def health(self) -> dict:
        state = {"waiting": self.waiting, "versions": list(self.versions)}
        if self.experiment is not None:
            state["ab"] = {"experiment": self.experiment, "weights": self.weights}
        return state

    def close(self) -> None:
        for model in self.versions.values():
            model.close()
