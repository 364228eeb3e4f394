"""Every setting of a run, as typed dataclasses with their help text and checks.

Each field's metadata (as in PEFT and TRL configs) holds its help text, its
allowed values (a fixed tuple, or a registry's names), its bounds and the
config-builder tab it belongs to, so the CLI's ``config init``, the YAML
comments, validation and the widgets all read one place.  Sections:
``model``, ``data``, ``method``, ``train``, ``eval``; a setting is addressed by
its dotted path, e.g. ``train.max_steps``.

Which ``method.*`` settings apply, and the method's own checks, come from the
method registry (:mod:`ftlab.training.methods`); the training stages from the
stage registry.  Neither imports this module.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

from ftlab.data.tasks import TASKS
from ftlab.errors import ConfigError, FtlabError
from ftlab.eval.metrics import METRICS
from ftlab.eval.suites import SUITES
from ftlab.files import atomic_write_text
from ftlab.training.methods import METHODS
from ftlab.training.rewards import REWARDS
from ftlab.training.stages import STAGES

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def setting(default: Any, help: str, choices: tuple | Callable[[], tuple] | None = None,
            minimum: float | None = None, above: float | None = None, tab: str | None = None) -> Any:
    """A dataclass field carrying its help text, allowed values, bounds and builder tab in metadata.

    ``minimum`` is an inclusive lower bound, ``above`` an exclusive one; ``choices`` may be a
    function returning a registry's names, read when the config is checked.
    """
    metadata = {"help": help, "choices": choices, "minimum": minimum, "above": above, "tab": tab}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


TABS = ("Model", "Data", "Method", "Stage", "Hyper-parameters", "Runtime", "Evaluation")  # the config builder's tabs
HYPER = "Hyper-parameters"


@dataclass
class ModelConfig:
    name: str = setting("ftlab/tiny-chat", "Base model: 'ftlab/tiny-chat' (built in, offline), a hub id, "
                        "or a local folder saved with save_pretrained.", tab="Model")
    dtype: str = setting("auto", "Weight dtype when loading; 'auto' keeps the checkpoint's (fp32 on CPU).",
                         ("auto", "float32", "bfloat16", "float16"), tab="Model")
    trust_remote_code: bool = setting(False, "Allow model code from the hub; only for models you trust.", tab="Model")


@dataclass
class DataConfig:
    task: str | None = setting("cipher", "Built-in synthetic task (used when no train_file is given).",
                               lambda: tuple(TASKS), tab="Data")
    train_file: str | None = setting(None, "Training data: a file in any format ftlab reads (JSON/JSONL/CSV/TSV/"
                                     "Excel/Parquet; Q/A, Alpaca, ShareGPT, messages, CoT...) or a data "
                                     "version folder from `ftlab data prepare`.", tab="Data")
    validation_file: str | None = setting(None, "Held-out file for eval loss; split from train_file if empty.",
                                          tab="Data")
    test_file: str | None = setting(None, "Held-out file for the final metrics; split from train_file if empty.",
                                    tab="Data")
    n_train: int = setting(2000, "Built-in task: number of training examples.", above=0, tab="Data")
    n_validation: int = setting(200, "Built-in task: validation examples (eval loss during training).", minimum=0,
                                tab="Data")
    n_test: int = setting(200, "Built-in task: test examples (base vs tuned metrics).", minimum=0, tab="Data")
    seed: int = setting(0, "Seed for generating and splitting the data.", tab="Data")
    system_prompt: str | None = setting(None, "System message put before every prompt (in training and "
                                        "evaluation) unless a row has its own.", tab="Data")
    max_length: int = setting(128, "Longest training sequence in tokens; longer ones are truncated.", above=0,
                              tab="Data")


@dataclass
class MethodConfig:
    """Settings of the fine-tuning methods; each method reads only some (``Method.reads``)."""

    name: str = setting("lora", "Fine-tuning method: what trains (see ftlab.training.methods).",
                        lambda: METHODS.names(), tab="Method")
    lora_r: int = setting(16, "LoRA rank: capacity of each adapter. 8-64 is typical (AdaLoRA: the average "
                          "rank it prunes down to).", above=0, tab="Method")
    lora_alpha: int = setting(32, "LoRA scaling numerator; the update is scaled by alpha / r (alpha / sqrt(r) "
                              "for rslora).", above=0, tab="Method")
    lora_dropout: float = setting(0.0, "Dropout on the LoRA input; helps against overfitting small data.",
                                  minimum=0, tab="Method")
    target_modules: list[str] = setting(ALL_LINEAR, "Linear layers that get adapters; the model's names "
                                        "(e.g. q_proj, v_proj) or 'all-linear'.", tab="Method")
    bits: int = setting(4, "QLoRA: bits of the frozen base weights.", (4, 8), tab="Method")
    quant_type: str = setting("nf4", "QLoRA 4-bit data type: nf4 (normal float) or fp4.", ("nf4", "fp4"),
                              tab="Method")
    double_quant: bool = setting(True, "QLoRA: quantize the quantization constants too (saves ~0.4 bit/param).",
                                 tab="Method")
    loraplus_lr_ratio: float = setting(16.0, "LoRA+: learning rate of B divided by that of A (the paper "
                                       "suggests 16).", above=0, tab="Method")
    adalora_init_r: int = setting(24, "AdaLoRA: starting rank of every adapter, before pruning to lora_r.", above=0,
                                  tab="Method")
    freeze_layers: int = setting(2, "freeze: number of last transformer layers that train.", above=0, tab="Method")
    trainable_modules: list[str] = setting([], "freeze: train these modules instead (names or name prefixes, "
                                           "e.g. lm_head, model.norm).", tab="Method")
    num_virtual_tokens: int = setting(16, "prompt_tuning / prefix_tuning / p_tuning: number of virtual tokens.",
                                      above=0, tab="Method")
    encoder_hidden_size: int = setting(128, "p_tuning: hidden size of the MLP that produces the virtual tokens.",
                                       above=0, tab="Method")


@dataclass
class TrainConfig:
    stage: str = setting("sft", "Training stage: sft (answers), cpt (raw domain text), rm (reward model), "
                         "dpo / kto / orpo (preferences), grpo / rloo / ppo (a reward); see ftlab.training.stages.",
                         lambda: STAGES.names(), tab="Stage")
    output_dir: str = setting("runs", "Folder that holds one sub-folder per run.", tab="Runtime")
    run_name: str | None = setting(None, "Name of the run folder; a timestamped name if empty.", tab="Runtime")
    learning_rate: float = setting(2e-3, "Peak learning rate. For 1-10B models LoRA starts around 2e-4 and full "
                                   "tuning around 2e-5; each method's starting rate is in its registry entry.",
                                   above=0, tab=HYPER)
    max_steps: int = setting(300, "Optimizer steps to train; 0 means train for num_epochs instead.", minimum=0,
                             tab=HYPER)
    num_epochs: float = setting(1.0, "Passes over the training data when max_steps is 0.", tab=HYPER)
    batch_size: int = setting(16, "Examples per device per step.", above=0, tab=HYPER)
    grad_accum: int = setting(1, "Steps to accumulate before an update; effective batch = batch_size x grad_accum.",
                              above=0, tab=HYPER)
    warmup_ratio: float = setting(0.05, "Fraction of steps with a linearly rising learning rate.", minimum=0,
                                  tab=HYPER)
    lr_scheduler: str = setting("cosine", "How the learning rate decays after warm-up.",
                                ("cosine", "linear", "constant", "constant_with_warmup"), tab=HYPER)
    weight_decay: float = setting(0.0, "AdamW weight decay.", minimum=0, tab=HYPER)
    max_grad_norm: float = setting(1.0, "Clip gradients to this norm; 0 disables clipping.", minimum=0, tab=HYPER)
    seed: int = setting(42, "Seed for weights init, dropout and data order: same seed, same curve.", tab=HYPER)
    logging_steps: int = setting(10, "Log loss, learning rate and grad norm every N steps.", above=0, tab="Runtime")
    eval_steps: int = setting(50, "Compute validation loss every N steps; 0 disables it.", minimum=0, tab="Runtime")
    save_steps: int = setting(100, "Save a checkpoint every N steps; 0 saves only the final model.", minimum=0,
                              tab="Runtime")
    save_total_limit: int = setting(2, "Keep at most this many checkpoints (the best one is always kept).",
                                    above=0, tab="Runtime")
    early_stopping_patience: int = setting(0, "Stop when best_metric has not improved for this many "
                                           "evaluations; 0 trains to the end.", minimum=0, tab=HYPER)
    early_stopping_threshold: float = setting(0.0, "Smallest improvement of best_metric that counts as one "
                                              "for early stopping.", minimum=0, tab=HYPER)
    best_metric: str = setting("eval_loss", "Validation figure that picks the best checkpoint and drives early "
                               "stopping.", ("eval_loss", "eval_mean_token_accuracy"), tab=HYPER)
    optimizer: str = setting("adamw_torch", "Optimizer: AdamW; 8-bit AdamW (bitsandbytes) to save optimizer "
                             "memory; paged 8-bit AdamW (GPU) to survive memory spikes; Adafactor; SGD.",
                             ("adamw_torch", "adamw_bnb_8bit", "paged_adamw_8bit", "adafactor", "sgd"), tab=HYPER)
    precision: str = setting("auto", "auto: bf16 on GPUs that support it, else fp16 on GPU, fp32 on CPU.",
                             ("auto", "fp32", "bf16", "fp16"), tab="Runtime")
    gradient_checkpointing: bool = setting(False, "Recompute activations in backward: less memory, ~30% slower.",
                                           tab="Runtime")
    packing: bool = setting(False, "Pack several short examples into each max_length sequence: fewer padding "
                            "tokens, faster epochs.", tab=HYPER)
    completion_only_loss: bool = setting(True, "Compute the loss on the answer only, not on the prompt.", tab=HYPER)
    report_to: list[str] = setting([], "Experiment trackers to log to as well (tensorboard, mlflow, wandb).",
                                   tab="Runtime")


@dataclass
class StageConfig:
    """Settings of the stages after SFT; each stage reads only some (``Stage.reads``)."""

    beta: float = setting(0.1, "DPO / KTO / ORPO: how strongly the policy is held to the reference model (the "
                          "KL weight; ORPO: the weight of the odds-ratio term). GRPO / RLOO / PPO: the KL "
                          "coefficient against the reference.", minimum=0, tab="Stage")
    loss_type: str = setting("sigmoid", "DPO loss: sigmoid (the paper's), ipo (bounded margins, robust to noisy "
                             "labels), hinge (SLiC), robust (label-noise corrected).",
                             ("sigmoid", "ipo", "hinge", "robust"), tab="Stage")
    sft_weight: float = setting(0.0, "DPO: weight of an SFT (negative log-likelihood) term on the chosen answer "
                                "beside the preference loss (RPO); keeps the chosen answer from becoming less likely "
                                "while the margin grows, which near-miss pairs otherwise invite.", minimum=0,
                                tab="Stage")
    num_generations: int = setting(8, "GRPO / RLOO: answers sampled per prompt; rewards are compared within "
                                   "each group. PPO samples as many but judges each answer by its value model.",
                                   minimum=2, tab="Stage")
    max_completion_length: int | None = setting(None, "GRPO / RLOO / PPO: longest sampled answer in tokens; "
                                                "if empty, the task's generation budget.", above=0, tab="Stage")
    temperature: float = setting(1.0, "GRPO / RLOO / PPO: sampling temperature of the answers.", above=0,
                                 tab="Stage")
    rewards: list[str] = setting(["correct", "format"], "GRPO / RLOO / PPO: reward functions, added up "
                                 "(see ftlab.training.rewards).", lambda: REWARDS.names(), tab="Stage")
    reward_model: str | None = setting(None, "GRPO / RLOO / PPO: a reward-model run directory (stage rm) whose "
                                       "score is the reward, instead of or beside the reward functions.",
                                       tab="Stage")
    replay_tasks: list[str] = setting([], "CPT: built-in tasks the model already knows, mixed into the domain "
                                      "text against forgetting, in equal shares (e.g. reverse,spell).",
                                      lambda: tuple(TASKS), tab="Stage")
    replay_ratio: float = setting(0.0, "CPT: share of training rows drawn from replay_tasks (0 = none, 0.2 = one "
                                  "in five).", minimum=0, tab="Stage")


@dataclass
class EvalConfig:
    at_end: bool = setting(True, "Evaluate the trained model on eval.split when training ends (eval.json in the "
                           "run directory).", tab="Evaluation")
    split: str = setting("test", "The held-out split evaluations score.", ("test", "validation"), tab="Evaluation")
    metrics: list[str] = setting([], "Metrics to compute; empty: every metric that applies to the task.",
                                 lambda: METRICS.names(), tab="Evaluation")
    suites: list[str] = setting([], "Probe suites to run as well, e.g. general_skills (forgetting) and safety.",
                                lambda: SUITES.names(), tab="Evaluation")
    max_new_tokens: int | None = setting(None, "Longest generated answer; if empty, the task's default, or the "
                                         "longest reference plus a margin.", above=0, tab="Evaluation")
    batch_size: int = setting(64, "Prompts generated at once during evaluation.", above=0, tab="Evaluation")
    n_examples: int | None = setting(None, "Evaluate on the first N examples of the split; all if empty.", above=0,
                                     tab="Evaluation")
    resamples: int = setting(1000, "Bootstrap resamples behind each metric's 95% interval; 0 skips intervals.",
                             minimum=0, tab="Evaluation")
    timeline_prompts: int = setting(8, "Validation prompts answered at every evaluation step during training "
                                    "(the generation timeline); 0 turns it off.", minimum=0, tab="Evaluation")


SECTIONS = {"model": ModelConfig, "data": DataConfig, "method": MethodConfig,
            "train": TrainConfig, "stage": StageConfig, "eval": EvalConfig}


@dataclass
class Config:
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    method: MethodConfig = dataclasses.field(default_factory=MethodConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    stage: StageConfig = dataclasses.field(default_factory=StageConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    # --- dotted access -------------------------------------------------
    def get(self, path: str) -> Any:
        section, name = _split_path(path)
        return getattr(getattr(self, section), name)

    def set(self, path: str, value: Any) -> None:
        """Set a field, coercing strings from the command line to the field's type."""
        section, name = _split_path(path)
        setattr(getattr(self, section), name, coerce(path, value))

    def override(self, assignments: list[str]) -> "Config":
        """Apply ``section.field=value`` strings (values parsed as YAML scalars/lists)."""
        import yaml

        for item in assignments:
            path, sep, raw = item.partition("=")
            if not sep:
                raise FtlabError(f"Override {item!r} is not of the form section.field=value "
                                 "(for example train.max_steps=50).")
            self.set(path.strip(), yaml.safe_load(raw) if raw.strip() else None)
        return self

    # --- YAML ------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Config":
        config, errors = cls.read_dict(data)
        if errors:
            raise errors[0]
        return config

    @classmethod
    def read_dict(cls, data: dict | None) -> tuple[Config, list[ConfigError]]:
        """The config a mapping describes, and every entry it could not use (left at its default).

        The config builder shows all of a YAML text's problems at once, each at its control, rather than
        the first one only.
        """
        config, errors = cls(), []
        for section, values in (data or {}).items():
            if section not in SECTIONS:
                errors.append(ConfigError(str(section), f"unknown section; the sections are {', '.join(SECTIONS)}."))
            elif not isinstance(values, dict):
                errors.append(ConfigError(section, f"expected a mapping of settings, got {values!r}."))
            else:
                for name, value in values.items():
                    try:
                        config.set(f"{section}.{name}", value)
                    except ConfigError as exc:
                        errors.append(exc)
        return config, errors

    def to_yaml(self, comments: bool = False) -> str:
        import yaml

        if not comments:
            return yaml.safe_dump(self.to_dict(), sort_keys=False)
        lines = []
        for section in SECTIONS:
            lines.append(f"{section}:")
            for f in fields(getattr(self, section)):
                lines.append(f"  # {help_text(section + '.' + f.name)}")
                dumped = yaml.safe_dump({f.name: getattr(getattr(self, section), f.name)},
                                        default_flow_style=True, width=1000).strip()
                lines.append("  " + dumped[1:-1])
            lines.append("")
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, self.to_yaml())

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        path = Path(path)
        if not path.is_file():
            raise FtlabError(f"Config file {path} does not exist. Create one with "
                             f"`ftlab config init > {path.name}`.")
        return cls.from_dict(parse_yaml(path.read_text(encoding="utf-8"), str(path)))

    # --- validation --------------------------------------------------------
    def validate(self) -> "Config":
        """Check what can be checked without loading the model; raise the first problem."""
        for problem in self.problems():
            raise problem
        return self

    def problems(self):
        """Every problem found, as ConfigErrors naming their field (widgets flag each at its control).

        Bounds and choices come from the fields' metadata; ``method.*`` settings are
        checked only when the chosen method reads them, and the method adds its own checks.
        """
        method = METHODS.get(self.method.name)
        if method is None:
            yield ConfigError("method.name", METHODS.unknown(self.method.name))
        stage = STAGES.get(self.train.stage)
        for path in paths():
            section, name = _split_path(path)
            if section == "method" and name != "name" and (method is None or name not in method.reads):
                continue
            if section == "stage" and (stage is None or name not in stage.reads):
                continue
            yield from _field_problems(path, self.get(path))
        if method is not None:
            for path, message in (method.check(self.method) if method.check else ()):
                yield ConfigError(path, message)
            if not method.supports(self.train.stage):
                yield ConfigError("method.name", f"{method.name} does not support the {self.train.stage!r} stage; "
                                  f"it supports {', '.join(method.stages)}.")
        if stage is not None and stage.check is not None:
            for path, message in stage.check(self):
                yield ConfigError(path, message)
        t = self.train
        if t.early_stopping_patience and not t.eval_steps:
            yield ConfigError("train.early_stopping_patience", "early stopping watches the validation metric; "
                              "set train.eval_steps > 0 as well.")
        if t.eval_steps and t.save_steps and t.save_steps % t.eval_steps:
            yield ConfigError("train.save_steps", f"must be a multiple of train.eval_steps ({t.eval_steps}) so "
                              f"that every checkpoint has a validation figure to rank it by; got {t.save_steps}.")
        if t.max_steps == 0 and t.num_epochs <= 0:
            yield ConfigError("train.num_epochs", "must be greater than 0 when train.max_steps is 0.")
        for path in ("data.train_file", "data.validation_file", "data.test_file"):
            value = self.get(path)
            if value and not Path(value).exists():
                yield ConfigError(path, f"file {value} does not exist (looked in {Path.cwd()}).")
        if not self.data.train_file and not self.data.task:
            yield ConfigError("data.task", "set a built-in task or data.train_file.")


def parse_yaml(text: str, source: str) -> dict | None:
    """The mapping a config's YAML text holds; a syntax error names the line and column (counted from 1)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark, ""
        if exc.context and exc.context_mark and exc.context_mark.line != mark.line:
            context = f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise FtlabError(f"{source} is not valid YAML at line {mark.line + 1}, column {mark.column + 1}: "
                         f"{exc.problem}{context}. Fix the text there (indent with spaces, "
                         "one `name: value` per line).") from None
    except yaml.YAMLError as exc:
        raise FtlabError(f"{source} is not valid YAML: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise FtlabError(f"{source} should hold a mapping with sections {', '.join(SECTIONS)}.")
    return data


def yaml_lines(text: str) -> dict[str, int]:
    """Where each section and setting is written in a config's YAML text: dotted path -> line (from 1).

    Lets a problem with a value point at the line that holds it; text that does not parse has none.
    """
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        lines[str(key.value)] = key.start_mark.line + 1
        for name, _ in value.value if isinstance(value, yaml.MappingNode) else ():
            lines[f"{key.value}.{name.value}"] = name.start_mark.line + 1
    return lines


def closest_setting(path: str) -> str | None:
    """The existing setting a mistyped dotted path most likely meant (same section), or None."""
    section, _, name = path.partition(".")
    if section not in SECTIONS:
        return None
    close = difflib.get_close_matches(name, [f.name for f in fields(SECTIONS[section])], n=1)
    return f"{section}.{close[0]}" if close else None


@dataclass(frozen=True)
class SettingChange:
    """One setting that differs between two configs."""

    path: str
    before: Any
    after: Any


def changed_settings(before: Config, after: Config) -> list[SettingChange]:
    """The settings whose values differ between two configs, in the order the sections list them.

    What the config builder shows against an earlier run and ``ftlab config diff`` prints; every setting
    counts, run name and output folder included, so "no changes" means the same config.
    """
    return [SettingChange(path, before.get(path), after.get(path)) for path in paths()
            if before.get(path) != after.get(path)]


def paths() -> list[str]:
    """Every setting's dotted path, section by section."""
    return [f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in fields(cls)]


def _field_problems(path: str, value: Any):
    meta = _field(*_split_path(path)).metadata
    allowed = choices(path)
    if path == "data.task" and value is None:
        return
    if allowed is not None and isinstance(value, list):
        for item in value:
            if item not in allowed:
                close = difflib.get_close_matches(str(item), allowed, n=1)
                guess = f" (did you mean {close[0]}?)" if close else ""
                yield ConfigError(path, f"{item!r} is not one of {', '.join(map(str, allowed))}{guess}.")
    elif allowed is not None and value not in allowed:
        if path == "data.task":
            yield ConfigError(path, f"unknown task {value!r}; built-in tasks: {', '.join(sorted(allowed))}.")
        elif path == "method.name":
            return  # named by the registry's own message above
        else:
            yield ConfigError(path, f"{value!r} is not one of {', '.join(map(str, allowed))}.")
    if value is None or isinstance(value, (bool, str, list)):
        return
    if meta["above"] is not None and value <= meta["above"]:
        yield ConfigError(path, f"must be greater than {meta['above']:g}, got {value}.")
    if meta["minimum"] is not None and value < meta["minimum"]:
        floor = "must not be negative" if meta["minimum"] == 0 else f"must be at least {meta['minimum']:g}"
        yield ConfigError(path, f"{floor}, got {value}.")


def help_text(path: str) -> str:
    """The field's help; for a field whose values come from a registry, followed by the current names."""
    meta = _field(*_split_path(path)).metadata
    if callable(meta["choices"]):
        return f"{meta['help']} One of: {', '.join(map(str, meta['choices']()))}."
    return meta["help"]


def choices(path: str) -> tuple | None:
    """The allowed values of a field (a registry's names are read now), or None if any value of its type goes."""
    found = _field(*_split_path(path)).metadata["choices"]
    return tuple(found()) if callable(found) else found


def tab(path: str) -> str:
    return _field(*_split_path(path)).metadata["tab"]


def _split_path(path: str) -> tuple[str, str]:
    section, _, name = path.partition(".")
    if section not in SECTIONS:
        raise ConfigError(path, f"unknown section {section!r}; the sections are {', '.join(SECTIONS)}.")
    _field(section, name)
    return section, name


def _field(section: str, name: str) -> dataclasses.Field:
    by_name = {f.name: f for f in fields(SECTIONS[section])}
    if name not in by_name:
        close = closest_setting(f"{section}.{name}")
        listing = f"did you mean {close}?" if close else f"{section} has {', '.join(by_name)}."
        raise ConfigError(f"{section}.{name}", f"no such setting; {listing}")
    return by_name[name]


def coerce(path: str, value: Any) -> Any:
    """Convert ``value`` to the declared type of ``path`` or say why it cannot be."""
    section, name = _split_path(path)
    hint = typing.get_type_hints(SECTIONS[section])[name]
    args = typing.get_args(hint)
    optional = isinstance(hint, types.UnionType) and type(None) in args
    base = next(a for a in args if a is not type(None)) if optional else hint
    origin = typing.get_origin(base)
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if optional:
            return None
        if origin is list:
            return []
        raise ConfigError(path, "needs a value; it cannot be empty.")
    try:
        if origin is list:
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)):
                raise TypeError
            return [str(v) for v in value]
        if base is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
                return value.lower() in ("true", "yes", "1")
            raise TypeError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        kind = getattr(base, "__name__", str(base))
        raise ConfigError(path, f"expected {kind}, got {value!r}.") from None
