""""Will it fit?": the estimator's memory breakdown per method, stacked, against a GPU's memory.

A thin view over :func:`ftlab.models.estimate.estimate_memory`: every control
change re-runs the estimate for each method and redraws one bar per method.
The estimates themselves are kept in ``.estimates`` so a notebook (or test)
reads the same numbers the bars show.
"""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.errors import FtlabError
from ftlab.config import Config
from ftlab.models.estimate import GPUS, MemoryEstimate, estimate_memory
from ftlab.widgets.figure_widget import FigureWidget

# Bar label -> the config settings that make that way of training (16-bit weights: pure bf16; fp32 weights
# under bf16 precision: mixed precision with fp32 masters).
METHOD_SETTINGS = {
    "full (mixed)": {"method.name": "full", "model.dtype": "float32", "train.precision": "bf16"},
    "full (bf16)": {"method.name": "full", "model.dtype": "bfloat16", "train.precision": "bf16"},
    "freeze": {"method.name": "freeze", "model.dtype": "bfloat16"},
    "LoRA": {"method.name": "lora", "model.dtype": "bfloat16"},
    "QLoRA 8-bit": {"method.name": "qlora", "method.bits": 8, "model.dtype": "bfloat16"},
    "QLoRA 4-bit": {"method.name": "qlora", "method.bits": 4, "model.dtype": "bfloat16"},
}
PARTS = ["weights", "gradients", "optimizer", "activations", "adapter", "overhead"]
COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#bab0ac"]


def fit_figure(estimates: dict[str, MemoryEstimate], gpu_memory_gb: float, title: str = "",
               widget: bool = False):
    """Stacked bars of the breakdown per method, the peak as a marker and the GPU's memory as a line."""
    labels = list(estimates)
    figure = FigureWidget() if widget else go.Figure()
    for part, color in zip(PARTS, COLORS):
        figure.add_bar(name=part, x=labels, y=[estimates[m].breakdown[part] for m in labels], marker_color=color)
    figure.add_scatter(name="peak (parts overlap)", x=labels, y=[estimates[m].total_gb for m in labels],
                       mode="markers", marker=dict(symbol="line-ew-open", size=28, color="black"))
    figure.add_hline(y=gpu_memory_gb, line_dash="dash", line_color="crimson",
                     annotation_text=f"GPU memory {gpu_memory_gb:g} GB", annotation_position="top left")
    figure.update_layout(barmode="stack", title=title, yaxis_title="GB", height=420,
                         legend=dict(orientation="h", y=-0.15), margin=dict(t=50, b=40))
    return figure


class ModelPicker:
    def __init__(self, model: str = "meta-llama/Llama-3.1-8B-Instruct", gpu: str = "A100-40GB",
                 batch_size: int = 1, max_length: int = 1024, gradient_checkpointing: bool = False, lora_r: int = 16):
        self.model = W.Text(value=model, description="model", continuous_update=False,
                            layout=W.Layout(width="420px"))
        self.gpu = W.Dropdown(options=list(GPUS), value=gpu, description="GPU")
        self.batch_size = W.IntSlider(value=batch_size, min=1, max=64, description="batch size",
                                      continuous_update=False)
        self.max_length = W.Dropdown(options=[256, 512, 1024, 2048, 4096, 8192], value=max_length,
                                     description="max length")
        self.gradient_checkpointing = W.Checkbox(value=gradient_checkpointing, description="gradient checkpointing")
        self.lora_r = W.Dropdown(options=[4, 8, 16, 32, 64, 128], value=lora_r, description="LoRA r")
        self.status = W.HTML()
        self.estimates: dict[str, MemoryEstimate] = {}
        self.figure = fit_figure({}, GPUS[gpu].memory_gb, widget=True)
        for control in (self.model, self.gpu, self.batch_size, self.max_length, self.gradient_checkpointing,
                        self.lora_r):
            control.observe(lambda _change: self.refresh(), names="value")
        self.widget = W.VBox([W.HBox([self.model, self.gpu]), W.HBox([self.batch_size, self.max_length]),
                              W.HBox([self.gradient_checkpointing, self.lora_r]), self.status, self.figure])
        self.refresh()

    def config(self, settings: dict) -> Config:
        """The run config a bar prices: the controls' values plus the bar's own settings."""
        config = Config()
        for path, value in {"model.name": self.model.value, "train.batch_size": self.batch_size.value,
                            "data.max_length": self.max_length.value,
                            "train.gradient_checkpointing": self.gradient_checkpointing.value,
                            "method.lora_r": self.lora_r.value, **settings}.items():
            config.set(path, value)
        return config

    def fitting(self) -> list[str]:
        memory = GPUS[self.gpu.value].memory_gb
        return [label for label, est in self.estimates.items() if est.fits(memory)]

    def refresh(self) -> None:
        try:
            self.estimates = {label: estimate_memory(self.model.value, self.config(settings))
                              for label, settings in METHOD_SETTINGS.items()}
        except FtlabError as exc:
            self.estimates = {}
            self.status.value = f"<span style='color:crimson'>{exc}</span>"
            return
        memory = GPUS[self.gpu.value].memory_gb
        labels = list(self.estimates)
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x = labels
                if trace.name in PARTS:
                    trace.y = [self.estimates[m].breakdown[trace.name] for m in labels]
                else:
                    trace.y = [self.estimates[m].total_gb for m in labels]
            self.figure.layout.shapes[0].y0 = self.figure.layout.shapes[0].y1 = memory
            self.figure.layout.annotations[0].y = memory
            self.figure.layout.annotations[0].text = f"{self.gpu.value}: {memory:g} GB"
            self.figure.layout.title.text = f"Will {self.model.value} fit on a {self.gpu.value}?"
        fits = self.fitting()
        self.status.value = (f"Fits on the {self.gpu.value}: <b>{', '.join(fits) or 'nothing'}</b>"
                             + ("" if fits else " — try gradient checkpointing, a smaller batch or QLoRA."))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
