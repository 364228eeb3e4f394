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
from ftlab.models.estimate import GPUS, MemoryEstimate, TrainingSetup, estimate_memory

# Bar label -> the setup fields that make that method.
METHOD_SETUPS = {
    "full (mixed)": dict(method="full", precision="mixed"),
    "full (bf16)": dict(method="full", precision="bf16"),
    "freeze": dict(method="freeze"),
    "LoRA": dict(method="lora"),
    "QLoRA 8-bit": dict(method="qlora", bits=8),
    "QLoRA 4-bit": dict(method="qlora", bits=4),
}
PARTS = ["weights", "gradients", "optimizer", "activations", "adapter", "overhead"]
COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#bab0ac"]


def fit_figure(estimates: dict[str, MemoryEstimate], gpu_memory_gb: float, title: str = "",
               widget: bool = False):
    """Stacked bars of the breakdown per method, the peak as a marker and the GPU's memory as a line."""
    labels = list(estimates)
    figure = go.FigureWidget() if widget else go.Figure()
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
                 batch_size: int = 1, seq_len: int = 1024, grad_ckpt: bool = False, lora_r: int = 16):
        self.model = W.Text(value=model, description="model", continuous_update=False,
                            layout=W.Layout(width="420px"))
        self.gpu = W.Dropdown(options=list(GPUS), value=gpu, description="GPU")
        self.batch_size = W.IntSlider(value=batch_size, min=1, max=64, description="batch size",
                                      continuous_update=False)
        self.seq_len = W.Dropdown(options=[256, 512, 1024, 2048, 4096, 8192], value=seq_len, description="seq len")
        self.grad_ckpt = W.Checkbox(value=grad_ckpt, description="gradient checkpointing")
        self.lora_r = W.Dropdown(options=[4, 8, 16, 32, 64, 128], value=lora_r, description="LoRA r")
        self.status = W.HTML()
        self.estimates: dict[str, MemoryEstimate] = {}
        self.figure = fit_figure({}, GPUS[gpu].memory_gb, widget=True)
        for control in (self.model, self.gpu, self.batch_size, self.seq_len, self.grad_ckpt, self.lora_r):
            control.observe(lambda _change: self.refresh(), names="value")
        self.widget = W.VBox([W.HBox([self.model, self.gpu]), W.HBox([self.batch_size, self.seq_len]),
                              W.HBox([self.grad_ckpt, self.lora_r]), self.status, self.figure])
        self.refresh()

    def setup(self, **method) -> TrainingSetup:
        return TrainingSetup(batch_size=self.batch_size.value, seq_len=self.seq_len.value,
                             grad_ckpt=self.grad_ckpt.value, lora_r=self.lora_r.value, **method)

    def fitting(self) -> list[str]:
        memory = GPUS[self.gpu.value].memory_gb
        return [label for label, est in self.estimates.items() if est.fits(memory)]

    def refresh(self) -> None:
        try:
            self.estimates = {label: estimate_memory(self.model.value, self.setup(**fields))
                              for label, fields in METHOD_SETUPS.items()}
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
