"""The config builder: every setting of a run as a control, bound to a :class:`ftlab.Config`.

The config is the truth.  Each control is made from its dataclass field (a
dropdown for fields with choices, a checkbox for booleans, a number box, a
comma-separated text for lists) with the field's help text as tooltip and a
help line; a change is written into the config at once, and the whole config is
re-checked, so a wrong value is flagged at the control that holds it.
Controls that the chosen method ignores are hidden.  Tabs, tooltips and
which control shows for which method all come from the config's field
metadata and the method registry, so a new setting or method needs no change
here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import ipywidgets as W

from ftlab.config import SECTIONS, TABS, Config, help_text, paths, tab
from ftlab.errors import ConfigError, FtlabError
from ftlab.training.launch import STRATEGIES, train_command, write_launch_files
from ftlab.training.methods import METHODS
from ftlab.training.stages import STAGES


def tab_paths() -> dict[str, list[str]]:
    """The builder's tabs and their settings, in order, from the fields' ``tab`` metadata."""
    return {name: [p for p in paths() if tab(p) == name] for name in TABS}


def used_by() -> dict[str, tuple[str, set[str]]]:
    """method.* and stage.* settings, each with the setting that chooses (method.name, train.stage) and the
    methods or stages that read it; for the others the control hides.  From the registries."""
    methods = {f"method.{f.name}": ("method.name", {m.name for m in METHODS.values() if f.name in m.reads})
               for f in dataclasses.fields(SECTIONS["method"]) if f.name != "name"}
    stages = {f"stage.{f.name}": ("train.stage", {s.name for s in STAGES.values() if f.name in s.reads})
              for f in dataclasses.fields(SECTIONS["stage"])}
    return {**methods, **stages}


_STYLE = W.HTML("<style>.ftlab-invalid input, .ftlab-invalid select {border: 2px solid #d62728 !important}"
                ".ftlab-help {color: #666; font-size: 0.85em; line-height: 1.2}</style>")


def _field_type(path: str):
    section, name = path.split(".")
    hint = typing.get_type_hints(SECTIONS[section])[name]
    if not isinstance(hint, types.UnionType):
        return hint, False
    return next(a for a in typing.get_args(hint) if a is not type(None)), True


def _control(path: str, value, choices) -> W.Widget:
    kind, optional = _field_type(path)
    name = path.split(".")[1]
    common = {"description": name, "tooltip": help_text(path), "style": {"description_width": "170px"},
              "layout": W.Layout(width="420px")}
    if choices and typing.get_origin(kind) is list:
        return W.TagsInput(value=list(value), allowed_tags=list(choices), allow_duplicates=False, **common)
    if choices:
        options = ([("(none)", None)] if optional else []) + [(str(c), c) for c in choices]
        return W.Dropdown(options=options, value=value, **common)
    if kind is bool:
        return W.Checkbox(value=value, indent=True, **common)
    if kind is int and not optional:
        return W.IntText(value=value, **common)
    if kind is float:
        return W.FloatText(value=value, **common)
    if typing.get_origin(kind) is list:
        return W.Text(value=", ".join(value), placeholder="comma-separated", **common)
    return W.Text(value="" if value is None else str(value), placeholder="(none)", **common)


class ConfigBuilder:
    """Build, check, save and export a run config with widgets; ``builder.config`` is the result."""

    def __init__(self, config: Config | None = None, export_dir: str | Path = "launch"):
        self.config = config or Config()
        self.export_dir = Path(export_dir)
        self.controls: dict[str, W.Widget] = {}
        self.errors: dict[str, W.HTML] = {}
        self.rows: dict[str, W.Widget] = {}
        self._syncing = False
        self._counts: dict[str, tuple[int, int]] = {}  # building a model on the meta device takes ~0.1 s
        self._estimates: dict[str, object] = {}
        tabs = tab_paths()
        self.used_by = used_by()
        for group in tabs.values():
            for path in group:
                self._add_control(path)
        self.tabs = W.Tab(children=[W.VBox([self.rows[p] for p in group]) for group in tabs.values()],
                          titles=list(tabs))
        self.summary = W.HTML()
        self.path_box = W.Text(value="config.yaml", description="file", layout=W.Layout(width="320px"))
        self.save_button = W.Button(description="Save YAML", icon="save")
        self.load_button = W.Button(description="Load YAML", icon="folder-open")
        self.strategy = W.Dropdown(options=[("one device (ftlab train)", "single")] +
                                   [(s, s) for s in STRATEGIES], value="single", description="launch")
        self.gpus = W.BoundedIntText(value=2, min=1, max=64, description="GPUs", layout=W.Layout(width="160px"))
        self.export_button = W.Button(description="Export command", icon="terminal")
        self.export_output = W.HTML()
        self.message = W.HTML()
        self.save_button.on_click(lambda _: self._guard(self.save))
        self.load_button.on_click(lambda _: self._guard(self.load))
        self.export_button.on_click(lambda _: self._guard(self.export))
        self.widget = W.VBox([
            _STYLE, self.tabs, self.summary,
            W.HBox([self.path_box, self.save_button, self.load_button]),
            W.HBox([self.strategy, self.gpus, self.export_button]), self.export_output, self.message])
        self.refresh()

    # --- controls <-> config -------------------------------------------------------------------
    def _add_control(self, path: str) -> None:
        from ftlab.config import choices

        control = _control(path, self.config.get(path), choices(path))
        error = W.HTML()
        help_line = W.HTML(f"<div class='ftlab-help'>{help_text(path)}</div>", layout=W.Layout(width="520px"))
        control.observe(lambda change, p=path: self._changed(p, change["new"]), names="value")
        self.controls[path], self.errors[path] = control, error
        self.rows[path] = W.VBox([W.HBox([control, error]), help_line])

    def _changed(self, path: str, value) -> None:
        if self._syncing:
            return
        try:
            self.config.set(path, value)
        except ConfigError as exc:
            self._flag({path: exc.message})
            return
        self.refresh()

    def set(self, path: str, value) -> None:
        """Set a control as a person would (the config follows through the control's observer)."""
        control = self.controls[path]
        if isinstance(control, W.Text) and isinstance(value, (list, tuple)):
            value = ", ".join(value)
        control.value = value

    def refresh(self) -> None:
        """Re-check the whole config, flag each problem at its control, update the read-outs."""
        problems = {}
        for problem in self.config.problems():
            problems.setdefault(problem.field, problem.message)
        self._flag(problems)
        for path, (chooser, names) in self.used_by.items():
            self.rows[path].layout.display = None if self.config.get(chooser) in names else "none"
        self.summary.value = self._summary(problems)

    def _flag(self, problems: dict[str, str]) -> None:
        self.problems = problems
        for path, control in self.controls.items():
            message = problems.get(path)
            self.errors[path].value = f"<span style='color:#d62728'>&#9888; {message}</span>" if message else ""
            if message:
                control.add_class("ftlab-invalid")
            else:
                control.remove_class("ftlab-invalid")

    def _summary(self, problems: dict[str, str]) -> str:
        from ftlab.training.preparation import trainable_parameters

        method = METHODS.get(self.config.method.name)
        parts = [f"<b>{self.config.method.name}</b>: {method.summary if method else ''}"]
        if method:
            parts.append(f"starting learning rate: {method.lr:g} for 1-10B models, {method.builtin_lr:g} for the "
                         "built-in model")
        key = repr((self.config.model, self.config.method))
        try:
            if key not in self._counts:
                self._counts[key] = trainable_parameters(self.config)
            trainable, total = self._counts[key]
            parts.append(f"trainable parameters: <b>{trainable:,}</b> of {total:,} ({100 * trainable / total:.3g}%)")
        except (FtlabError, OSError, ValueError) as exc:
            parts.append(f"trainable parameters: unknown ({exc})")
        t = self.config.train
        parts.append(f"effective batch {t.batch_size * t.grad_accum}")
        parts.append(self._memory_readout())
        if problems:
            parts.append(f"<span style='color:#d62728'>{len(problems)} setting(s) to fix</span>")
        else:
            parts.append("<span style='color:#2ca02c'>config is valid</span>")
        return " &middot; ".join(parts)

    def _memory_readout(self) -> str:
        from ftlab.training.advice import estimate_for_config

        key = repr((self.config.model, self.config.method, self.config.train, self.config.data.max_length))
        if key not in self._estimates:
            self._estimates[key] = estimate_for_config(self.config) if not self.problems else None
        estimate = self._estimates[key]
        if estimate is None:
            return "memory estimate: not available for this method or config"
        parts = ", ".join(f"{name} {gb:.3g}" for name, gb in estimate.breakdown.items() if gb)
        return f"estimated peak training memory: <b>{estimate.total_gb:.3g} GB</b> ({parts})"

    def sync_controls(self) -> None:
        """Show the config's values in the controls (after loading a file)."""
        self._syncing = True
        try:
            for path, control in self.controls.items():
                value = self.config.get(path)
                if isinstance(value, list) and isinstance(control, W.Text):
                    value = ", ".join(value)
                control.value = "" if value is None and isinstance(control, W.Text) else value
        finally:
            self._syncing = False
        self.refresh()

    # --- files and commands ---------------------------------------------------------------------
    def _guard(self, action) -> None:
        try:
            action()
        except FtlabError as exc:
            self.message.value = f"<span style='color:#d62728'>{exc}</span>"

    def save(self, path: str | Path | None = None) -> Path:
        self.config.validate()
        saved = self.config.save(path or self.path_box.value)
        self.message.value = f"saved {saved}"
        return saved

    def load(self, path: str | Path | None = None) -> Config:
        self.config = Config.load(path or self.path_box.value)
        self.sync_controls()
        self.message.value = f"loaded {path or self.path_box.value}"
        return self.config

    def export(self) -> str:
        """Write the files a launch needs and show the command that runs the config as built."""
        self.config.validate()
        if self.strategy.value == "single":
            saved = self.config.save(self.export_dir / "config.yaml")
            command, files = train_command(saved), {"config": str(saved)}
        else:
            out = write_launch_files(self.config, self.export_dir, self.strategy.value, self.gpus.value)
            command, files = out["command"], out["files"]
        listing = "".join(f"<li>{kind}: <code>{path}</code></li>" for kind, path in files.items())
        self.export_output.value = f"<pre>{command}</pre><ul>{listing}</ul>"
        self.command = command
        return command

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
