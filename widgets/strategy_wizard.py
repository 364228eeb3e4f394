"""The strategy wizard: task and resource questions, the recommendation with its reasons, and a hand-off.

Each answer widget maps to one field of :class:`TaskProfile` or
:class:`Resources`; "Recommend" calls :func:`ftlab.models.strategy.recommend`
and "Use this config" passes the resulting ftlab Config to ``on_config`` (for
example the training stage's config builder) and keeps it in ``.config``.
Both buttons call plain methods, so scripts and tests drive the same path.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as W

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.models.estimate import GPUS
from ftlab.models.strategy import (EXPERTISE, LEVELS, OUTPUT_LENGTHS, PRESETS, TASK_TYPES, Recommendation,
                                   Resources, TaskProfile, recommend)

_STYLE = {"description_width": "150px"}


class StrategyWizard:
    def __init__(self, on_config: Callable[[Config], None] | None = None, model: str = ""):
        self.on_config = on_config
        self.recommendation: Recommendation | None = None
        self.config: Config | None = None
        d = lambda options, value, label: W.Dropdown(options=options, value=value, description=label,  # noqa: E731
                                                     style=_STYLE)
        self.task_type = d(TASK_TYPES, "generation", "task type")
        self.domain = d(LEVELS, "medium", "domain specificity")
        self.output_length = d(OUTPUT_LENGTHS, "medium", "output length")
        self.data_size = W.BoundedIntText(value=2000, min=1, max=10**9, description="examples", style=_STYLE)
        self.quality = d(LEVELS, "medium", "quality needed")
        self.domain_tokens = W.BoundedIntText(value=0, min=0, max=10**13, description="domain text tokens",
                                              style=_STYLE)
        self.preference_data = W.Checkbox(value=False, description="have preference pairs")
        self.gpu = d(["CPU only", *GPUS], "A10G", "GPU")
        self.gpus = W.BoundedIntText(value=1, min=1, max=1024, description="GPUs", style=_STYLE)
        self.time_budget = W.BoundedFloatText(value=0, min=0, max=10**6, description="time budget (h, 0=none)",
                                              style=_STYLE)
        self.budget = d(LEVELS, "medium", "money budget")
        self.expertise = d(EXPERTISE, "intermediate", "team expertise")
        self.preset = d(["(none)", *PRESETS], "(none)", "preset")
        self.model = W.Text(value=model, description="fixed model", placeholder="empty: choose a size band",
                            style=_STYLE)
        self.recommend_button = W.Button(description="Recommend", button_style="primary")
        self.use_button = W.Button(description="Use this config", button_style="success", disabled=True)
        self.output = W.HTML()
        self.recommend_button.on_click(lambda _b: self.recommend())
        self.use_button.on_click(lambda _b: self.hand_on())
        questions = W.VBox([W.HTML("<b>Task</b>"), self.task_type, self.domain, self.output_length,
                            self.data_size, self.quality, self.domain_tokens, self.preference_data])
        resources = W.VBox([W.HTML("<b>Resources</b>"), self.gpu, self.gpus, self.time_budget, self.budget,
                            self.expertise, self.preset, self.model])
        self.widget = W.VBox([W.HBox([questions, resources]), W.HBox([self.recommend_button, self.use_button]),
                              self.output])

    def answers(self) -> tuple[TaskProfile, Resources]:
        on_cpu = self.gpu.value == "CPU only"
        task = TaskProfile(task_type=self.task_type.value, domain_specificity=self.domain.value,
                           output_length=self.output_length.value, data_size=self.data_size.value,
                           quality=self.quality.value, domain_text_tokens=self.domain_tokens.value,
                           preference_data=self.preference_data.value)
        resources = Resources(gpu_memory_gb=0 if on_cpu else GPUS[self.gpu.value].memory_gb,
                              gpus=0 if on_cpu else self.gpus.value, gpu=None if on_cpu else self.gpu.value,
                              time_budget_hours=self.time_budget.value or None, budget=self.budget.value,
                              expertise=self.expertise.value)
        return task, resources

    def recommend(self) -> Recommendation | None:
        task, resources = self.answers()
        try:
            self.recommendation = recommend(task, resources, model=self.model.value.strip() or None,
                                            preset=None if self.preset.value == "(none)" else self.preset.value)
        except FtlabError as exc:
            self.recommendation = None
            self.use_button.disabled = True
            self.output.value = f"<span style='color:crimson'>{html.escape(str(exc))}</span>"
            return None
        self.use_button.disabled = False
        self.output.value = self._render(self.recommendation)
        return self.recommendation

    def hand_on(self) -> Config:
        """Give the recommended config to the next stage."""
        if self.recommendation is None:
            raise FtlabError("Press Recommend first: there is no recommendation to hand on yet.")
        self.config = self.recommendation.config
        if self.on_config is not None:
            self.on_config(self.config)
        self.output.value += f"<p>Config handed on: <code>{html.escape(self.config.model.name)}</code>, " \
                             f"method <code>{self.config.method.name}</code>.</p>"
        return self.config

    @staticmethod
    def _render(rec: Recommendation) -> str:
        rows = "".join(f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(str(c.value))}</td>"
                       f"<td>{html.escape(c.reason)}</td></tr>" for name, c in rec.choices.items())
        stages = "".join(f"<li>{html.escape(s.value)} — {html.escape(s.reason)}</li>" for s in rec.stages)
        fit = (f"Estimated peak memory {rec.memory.total_gb:.1f} GB of {rec.memory_limit_gb:g} GB")
        if rec.time is not None:
            fit += f"; about {rec.time.hours:.2g} h ({rec.time.gpu_hours:.2g} GPU-h, ${rec.time.cost:,.2f})"
        return f"<table>{rows}</table><p>{fit}.</p><ol>{stages}</ol>"

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
