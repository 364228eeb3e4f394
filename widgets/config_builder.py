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

Beside the tabs, the same config as YAML text (what ``Config.save`` writes), in
sync both ways: a control's change rewrites the text, and an edit of the text
that reads without errors is the new config, shown in the controls.  An edit
that does not read changes nothing; its problems are listed under the text,
with their line, and each bad value is flagged at its control.  Below, the
settings that differ from an earlier run's ``config.yaml``.
"""

from __future__ import annotations

import dataclasses
import html
import types
import typing
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as W

from ftlab.config import (
    SECTIONS,
    TABS,
    Config,
    SettingChange,
    changed_settings,
    closest_setting,
    help_text,
    parse_yaml,
    paths,
    tab,
    yaml_lines,
)
from ftlab.errors import ConfigError, FtlabError
from ftlab.training.compare import list_runs as runs_under
from ftlab.training.launch import STRATEGIES, train_command, write_launch_files
from ftlab.training.methods import METHODS
from ftlab.training.stages import STAGES
from ftlab.widgets.html_table import table


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


_STYLE = W.HTML("<style>.ftlab-invalid input, .ftlab-invalid select, .ftlab-invalid textarea "
                "{border: 2px solid #d62728 !important}"
                ".ftlab-help {color: #666; font-size: 0.85em; line-height: 1.2}"
                ".ftlab-yaml textarea {font-family: monospace; font-size: 12px; white-space: pre}</style>")
YAML_SOURCE = "the YAML text"  # how errors in the builder's text area name it


def _field_type(path: str):
    section, name = path.split(".")
    hint = typing.get_type_hints(SECTIONS[section])[name]
    if not isinstance(hint, types.UnionType):
        return hint, False
    return next(a for a in typing.get_args(hint) if a is not type(None)), True


def _shown(value) -> str:
    """A setting's value as the diff table shows it."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(empty)"
    return str(value)


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
        self._syncing = False  # set while the builder itself writes controls or text: their observers stand still
        self._rejected: dict[str, str] = {}  # values a control shows that the config could not take
        self.yaml_problems: list[str] = []  # why the text's last edit was not applied ([] when it was)
        self._yaml_flags: dict[str, str] = {}  # those problems at the controls they concern
        self._earlier: dict[str, Config] = {}  # earlier runs' configs, read once
        self._runs_root: Path | None = None
        self._counts: dict[str, tuple[int, int]] = {}  # building a model on the meta device takes ~0.1 s
        self._estimates: dict[str, object] = {}
        tabs = tab_paths()
        self.used_by = used_by()
        for group in tabs.values():
            for path in group:
                self._add_control(path)
        self.tabs = W.Tab(children=[W.VBox([self.rows[p] for p in group]) for group in tabs.values()],
                          titles=list(tabs), layout=W.Layout(flex="1 1 560px"))
        # Read on change (leaving the box), not on every key: half-typed text ("0.0" on the way to "0.001", a key
        # with its colon not yet typed) would be flagged or even applied, and rewriting the text in its canonical
        # form while the person types would move their cursor.
        self.yaml = W.Textarea(value=self.config.to_yaml(), continuous_update=False, rows=50,
                               layout=W.Layout(width="360px"))
        self.yaml.add_class("ftlab-yaml")
        self.yaml.observe(lambda change: self._yaml_edited(change["new"]), names="value")
        self.yaml_message = W.HTML(layout=W.Layout(width="360px"))
        yaml_panel = W.VBox([W.HTML("<b>YAML</b> <span class='ftlab-help'>edit it, then click outside the box: "
                                    "the controls follow</span>"), self.yaml, self.yaml_message])
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
        # "" for no run: a dropdown whose value is None shows no label at all
        self.runs = W.Dropdown(options=[("(none)", "")], value="", description="diff against run",
                               style={"description_width": "120px"}, layout=W.Layout(width="520px"))
        self.runs.add_class("ftlab-runs")
        self.runs.observe(lambda _: self._show_diff(), names="value")
        self.runs_button = W.Button(description="List runs", icon="refresh",
                                    tooltip="list the runs in train.output_dir again")
        self.runs_button.on_click(lambda _: self.list_runs())
        self.diff_view = W.HTML()
        self.save_button.on_click(lambda _: self._guard(self.save))
        self.load_button.on_click(lambda _: self._guard(self.load))
        self.export_button.on_click(lambda _: self._guard(self.export))
        self.widget = W.VBox([
            _STYLE, W.HBox([self.tabs, yaml_panel], layout=W.Layout(flex_flow="row wrap")), self.summary,
            W.HBox([self.path_box, self.save_button, self.load_button]),
            W.HBox([self.strategy, self.gpus, self.export_button]), self.export_output, self.message,
            W.HBox([self.runs, self.runs_button]), self.diff_view])
        self.refresh()

    # --- controls <-> config -------------------------------------------------------------------
    def _add_control(self, path: str) -> None:
        from ftlab.config import choices

        control = _control(path, self.config.get(path), choices(path))
        control.add_class("ftlab-setting-" + path.replace(".", "-"))  # for the browser tests and styling
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
            self._rejected[path] = exc.message
            self.refresh()
            return
        self._rejected.pop(path, None)
        self._clear_yaml_problems()  # the control is the newer word: the text is rewritten from the config
        self.refresh()

    def set(self, path: str, value) -> None:
        """Set a control as a person would (the config follows through the control's observer)."""
        control = self.controls[path]
        if isinstance(control, W.Text) and isinstance(value, (list, tuple)):
            value = ", ".join(value)
        control.value = value

    def refresh(self) -> None:
        """Re-check the whole config, flag each problem at its control, update the read-outs, the YAML text
        (unless it holds an edit that was not applied) and the diff."""
        problems = {}
        for problem in self.config.problems():
            problems.setdefault(problem.field, problem.message)
        self._flag({**problems, **self._rejected, **self._yaml_flags})
        for path, (chooser, names) in self.used_by.items():
            self.rows[path].layout.display = None if self.config.get(chooser) in names else "none"
        self.summary.value = self._summary(self.problems, valid=not problems)
        if not self.yaml_problems:
            with self._quietly():
                self.yaml.value = self.config.to_yaml()
        if Path(self.config.train.output_dir) != self._runs_root:
            self.list_runs()
        else:
            self._show_diff()

    @contextmanager
    def _quietly(self):
        """Write controls or text without their observers writing the config back."""
        before, self._syncing = self._syncing, True
        try:
            yield
        finally:
            self._syncing = before

    def _flag(self, problems: dict[str, str]) -> None:
        self.problems = problems
        for path, control in self.controls.items():
            message = problems.get(path)
            shown = html.escape(message, quote=False) if message else ""  # values typed by a person are in it
            self.errors[path].value = f"<span style='color:#d62728'>&#9888; {shown}</span>" if message else ""
            if message:
                control.add_class("ftlab-invalid")
            else:
                control.remove_class("ftlab-invalid")

    def _summary(self, problems: dict[str, str], valid: bool) -> str:
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
        parts.append(self._memory_readout(valid))
        if problems:
            parts.append(f"<span style='color:#d62728'>{len(problems)} setting(s) to fix</span>")
        else:
            parts.append("<span style='color:#2ca02c'>config is valid</span>")
        return " &middot; ".join(parts)

    def _memory_readout(self, valid: bool) -> str:
        """The estimate for the config as it is (``valid``: it breaks no rule; a value a control or the YAML text
        could not write leaves the config, and so the estimate, as it was)."""
        from ftlab.training.advice import estimate_for_config

        key = repr((self.config.model, self.config.method, self.config.train, self.config.data.max_length))
        if valid and key not in self._estimates:
            self._estimates[key] = estimate_for_config(self.config)
        estimate = self._estimates.get(key) if valid else None
        if estimate is None:
            return "memory estimate: not available for this method or config"
        parts = ", ".join(f"{name} {gb:.3g}" for name, gb in estimate.breakdown.items() if gb)
        return f"estimated peak training memory: <b>{estimate.total_gb:.3g} GB</b> ({parts})"

    def sync_controls(self) -> None:
        """Show the config's values in the controls (after loading a file or reading the YAML text)."""
        with self._quietly():
            for path, control in self.controls.items():
                value = self.config.get(path)
                if isinstance(value, list) and isinstance(control, W.Text):
                    value = ", ".join(value)
                control.value = "" if value is None and isinstance(control, W.Text) else value
        self._rejected.clear()
        self.refresh()

    # --- YAML text <-> config ---------------------------------------------------------------------
    def set_yaml(self, text: str) -> None:
        """Edit the YAML text as a person would (the config follows through the text area's observer)."""
        self.yaml.value = text

    def _yaml_edited(self, text: str) -> None:
        """Read the whole text as the new config; if anything in it does not read, keep the config as it was.

        All or nothing, so the config is always one the text once described in full; values that read but break
        a rule (a negative learning rate) are taken and flagged, as a control would.
        """
        if self._syncing:
            return
        try:
            config, errors = Config.read_dict(parse_yaml(text, YAML_SOURCE))
        except FtlabError as exc:
            self._show_yaml_problems([str(exc)], {})
            return
        if errors:
            lines = yaml_lines(text)
            listed, flags = [], {}
            for exc in errors:
                where = f"line {lines[exc.field]}: " if exc.field in lines else ""
                listed.append(f"{where}{exc}")
                meant = closest_setting(exc.field)  # a mistyped name: flag the setting it resembles
                if exc.field in self.controls:
                    flags[exc.field] = f"in the YAML, {where}{exc.message}"
                elif meant in self.controls:
                    flags[meant] = f"in the YAML, {where}{exc.field} is not a setting; did you mean this one?"
            self._show_yaml_problems(listed, flags)
            return
        for section in SECTIONS:  # in place: whoever holds builder.config sees the new values
            setattr(self.config, section, getattr(config, section))
        self._clear_yaml_problems()
        self.sync_controls()  # ends in refresh(), which writes the text back in its canonical form

    def _show_yaml_problems(self, problems: list[str], flags: dict[str, str]) -> None:
        self.yaml_problems, self._yaml_flags = problems, flags
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.yaml_message.value = ("<div class='ftlab-yaml-error' style='color:#d62728;line-height:1.3'>&#9888; Not "
                                   "applied: the config keeps its last good values until the text reads."
                                   f"<ul>{items}</ul></div>")
        self.yaml.add_class("ftlab-invalid")
        self.refresh()

    def _clear_yaml_problems(self) -> None:
        self.yaml_problems, self._yaml_flags, self.yaml_message.value = [], {}, ""
        self.yaml.remove_class("ftlab-invalid")

    # --- diff against an earlier run --------------------------------------------------------------
    def list_runs(self) -> list[str]:
        """Offer the runs in ``train.output_dir`` (newest first) to diff against; returns their folders."""
        self._runs_root = root = Path(self.config.train.output_dir)
        runs = [str(run.path) for run in runs_under(root)] if root.is_dir() else []
        self._earlier.clear()  # a run resumed since may have a new config.yaml
        options = [("(none)", "")] + [(str(Path(run).relative_to(root)), run) for run in runs]
        keep = self.runs.value if self.runs.value in runs else ""
        with self._quietly():
            self.runs.options, self.runs.value = options, keep
        self._show_diff()
        return runs

    def _show_diff(self) -> None:
        """The diff for the run picked in the dropdown; a run whose config does not read says why instead."""
        try:
            self.diff_against(self.runs.value or None)
        except FtlabError as exc:
            self.diff_view.value = f"<span style='color:#d62728'>{html.escape(str(exc))}</span>"

    def diff_against(self, run: str | Path | None) -> list[SettingChange]:
        """The settings that differ between the run's ``config.yaml`` (a run directory or a YAML file) and the
        config as built now; shown as a table under the builder."""
        if run is None:
            self.diff_view.value = ""
            return []
        key = str(run)
        if key not in self._earlier:
            self._earlier[key] = Config.load(Path(run, "config.yaml") if Path(run).is_dir() else run)
        changes = changed_settings(self._earlier[key], self.config)
        name = html.escape(Path(run).name)
        if not changes:
            self.diff_view.value = f"<div class='ftlab-diff'>the same settings as <b>{name}</b></div>"
            return changes
        rows = [[f"<code>{c.path}</code>", html.escape(_shown(c.before)), html.escape(_shown(c.after))]
                for c in changes]
        self.diff_view.value = (f"<div class='ftlab-diff'>{len(changes)} setting(s) differ from <b>{name}</b>"
                                f"{table(['setting', name, 'now'], rows)}</div>")
        return changes

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
        self._clear_yaml_problems()
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
