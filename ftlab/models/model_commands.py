"""``ftlab model-info``, ``ftlab estimate`` and ``ftlab recommend``: the model-selection stage as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftlab.config import Config


def _print(data: dict) -> None:
    print(json.dumps(data, indent=2, default=str))


def _has_config(source: str) -> bool:
    from ftlab.models.tiny import BUILTIN_MODEL

    return source == BUILTIN_MODEL or Path(source).exists()


def model_info(source: str) -> dict:
    """Parsed name plus, when a config is at hand (local folder, built-in), the architecture facts."""
    from ftlab.models.architecture import inspect_architecture
    from ftlab.models.names import parse_model_name

    info = parse_model_name(source).to_dict()
    info["architecture"] = None
    if _has_config(source):
        arch = inspect_architecture(source)
        info["architecture"] = arch.to_dict()
        info["params_b"] = round(arch.params / 1e9, 6)
    return info


def _cmd_model_info(args) -> None:
    _print(model_info(args.model))


# Flags of `ftlab estimate` that set a config field directly; anything else goes through --set.
ESTIMATE_FLAGS = {"method": "method.name", "batch_size": "train.batch_size", "max_length": "data.max_length",
                  "gradient_checkpointing": "train.gradient_checkpointing", "optimizer": "train.optimizer",
                  "precision": "train.precision", "dtype": "model.dtype", "lora_r": "method.lora_r",
                  "bits": "method.bits", "target_modules": "method.target_modules"}


def estimate_config(args) -> "Config":
    """The config to price: a YAML file or the defaults, then the flags, then --set, in that order."""
    from ftlab.config import Config

    config = Config.load(args.config) if args.config else Config()
    for flag, path in ESTIMATE_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            config.set(path, value)
    config.override(args.set or [])
    config.model.name = args.model or config.model.name
    return config


def _cmd_estimate(args) -> None:
    from ftlab.models.estimate import Hardware, estimate_inference, estimate_memory, estimate_time, get_gpu

    config = estimate_config(args)
    hardware = Hardware(gpus=args.gpus, strategy=args.strategy, device="cpu" if args.cpu else "cuda")
    memory = estimate_memory(config.model.name, config, hardware)
    out = memory.to_dict()
    out["mode"] = "config" if _has_config(config.model.name) else "name only"
    if args.gpu:
        gpu = get_gpu(args.gpu)
        out["gpu"] = {"name": gpu.name, "memory_gb": gpu.memory_gb, "fits": memory.fits(gpu.memory_gb)}
    out["inference"] = estimate_inference(config.model.name, context=args.context)
    out["time"] = None
    if args.tokens:
        out["time"] = estimate_time(config.model.name, config, tokens=args.tokens, gpu=args.gpu or "A100-80GB",
                                    epochs=args.epochs, hardware=hardware).to_dict()
    _print(out)


def _cmd_recommend(args) -> None:
    from ftlab.models.strategy import Resources, TaskProfile, recommend

    task = TaskProfile(task_type=args.task, domain_specificity=args.domain, output_length=args.output_length,
                       data_size=args.data_size, quality=args.quality, domain_text_tokens=args.domain_tokens,
                       preference_data=args.preference_data)
    resources = Resources(gpu_memory_gb=args.gpu_memory, gpus=args.gpus, gpu=args.gpu,
                          time_budget_hours=args.time_budget, budget=args.budget, expertise=args.expertise)
    rec = recommend(task, resources, model=args.model, preset=args.preset, train_file=args.train_file)
    out = rec.to_dict()
    out["reasons"] = rec.reasons()
    if args.save:
        out["saved"] = str(rec.config.save(args.save))
    _print(out)


def add_commands(commands) -> None:
    """Register the stage's subcommands on ``ftlab``'s sub-parser set."""
    info = commands.add_parser("model-info", help="what a model id (or local folder) says: family, size, "
                               "variant, quantization; architecture facts when a config is available")
    info.add_argument("model", metavar="NAME_OR_PATH")
    info.set_defaults(run=_cmd_model_info)

    est = commands.add_parser("estimate", help="training memory (breakdown in GB) of a config, inference memory, "
                              "and time/cost for a token count")
    est.add_argument("--model", default=None, metavar="NAME_OR_PATH", help="model.name (default: the config's)")
    est.add_argument("--config", default=None, metavar="CONFIG.yaml", help="price this run config")
    est.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override a setting (repeatable)")
    est.add_argument("--method", default=None, help="method.name")
    est.add_argument("--batch-size", type=int, default=None, help="train.batch_size (per device)")
    est.add_argument("--max-length", type=int, default=None, help="data.max_length (tokens per sequence)")
    est.add_argument("--gradient-checkpointing", action="store_const", const=True, default=None,
                     help="train.gradient_checkpointing=true")
    est.add_argument("--optimizer", default=None, help="train.optimizer")
    est.add_argument("--precision", default=None, help="train.precision: auto, fp32, bf16, fp16")
    est.add_argument("--dtype", default=None, help="model.dtype: auto, float32, bfloat16, float16")
    est.add_argument("--lora-r", type=int, default=None, help="method.lora_r")
    est.add_argument("--bits", type=int, default=None, help="method.bits (QLoRA base)")
    est.add_argument("--target-modules", default=None, help="method.target_modules, comma-separated or all-linear")
    est.add_argument("--gpus", type=int, default=1)
    est.add_argument("--strategy", default="ddp", choices=["ddp", "fsdp", "zero2", "zero3"],
                     help="how several GPUs share the model, as in `ftlab launch-config`")
    est.add_argument("--gpu", default=None, help="GPU type from the table, for fits / time / cost")
    est.add_argument("--tokens", type=int, default=None, help="training tokens per epoch, for time and cost")
    est.add_argument("--epochs", type=float, default=1.0)
    est.add_argument("--context", type=int, default=4096, help="context length for the inference KV cache")
    est.add_argument("--cpu", action="store_true", help="training on the CPU: no CUDA overhead")
    est.set_defaults(run=_cmd_estimate)

    rec = commands.add_parser("recommend", help="method, model size and hyper-parameters for a task and "
                              "resources, each with its reason, as an ftlab config")
    rec.add_argument("--task", required=True, choices=["classification", "generation", "multi-task"])
    rec.add_argument("--gpu-memory", type=float, required=True, help="GB per GPU (0: train on the CPU)")
    rec.add_argument("--gpus", type=int, default=1)
    rec.add_argument("--gpu", default=None, help="GPU type, for the time and cost estimate")
    rec.add_argument("--domain", default="medium", choices=["low", "medium", "high"], help="domain specificity")
    rec.add_argument("--output-length", default="medium", choices=["short", "medium", "long"])
    rec.add_argument("--data-size", type=int, default=2000, help="training examples")
    rec.add_argument("--quality", default="medium", choices=["low", "medium", "high"])
    rec.add_argument("--domain-tokens", type=int, default=0, help="unlabelled domain text available, in tokens")
    rec.add_argument("--preference-data", action="store_true", help="preference pairs are available (for DPO)")
    rec.add_argument("--time-budget", type=float, default=None, help="hours")
    rec.add_argument("--budget", default="medium", choices=["low", "medium", "high"])
    rec.add_argument("--expertise", default="intermediate", choices=["beginner", "intermediate", "expert"])
    rec.add_argument("--model", default=None, help="a fixed base model (else a size band is chosen)")
    rec.add_argument("--preset", default=None, choices=["quick experiment", "production", "resource constrained"])
    rec.add_argument("--train-file", default=None)
    rec.add_argument("--save", default=None, metavar="CONFIG.yaml", help="also write the config here")
    rec.set_defaults(run=_cmd_recommend)

