"""``ftlab model-info``, ``ftlab estimate`` and ``ftlab recommend``: the model-selection stage as JSON."""

from __future__ import annotations

import json
from pathlib import Path


def _print(data: dict) -> None:
    print(json.dumps(data, indent=2, default=str))


def _has_config(source: str) -> bool:
    from ftlab.models.tiny import BUILTIN_MODEL

    return source == BUILTIN_MODEL or Path(source).exists()


def model_info(source: str) -> dict:
    """Parsed name plus, when a config is at hand (local folder, built-in), the architecture facts."""
    from ftlab.models.inspect import inspect_architecture
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


def _cmd_estimate(args) -> None:
    from ftlab.models.estimate import TrainingSetup, estimate_inference, estimate_memory, estimate_time, get_gpu

    targets = args.targets if args.targets in ("attention", "attention_mlp", "all_linear") else args.targets.split(",")
    setup = TrainingSetup(method=args.method, precision=args.precision, bits=args.bits, batch_size=args.batch_size,
                          seq_len=args.seq_len, grad_accum=args.grad_accum, grad_ckpt=args.grad_ckpt,
                          optimizer=args.optimizer, lora_r=args.lora_r, lora_targets=targets, gpus=args.gpus,
                          zero=args.zero, fsdp=args.fsdp, device="cpu" if args.cpu else "cuda")
    memory = estimate_memory(args.model, setup)
    out = memory.to_dict()
    out["mode"] = "config" if _has_config(args.model) else "name only"
    if args.gpu:
        gpu = get_gpu(args.gpu)
        out["gpu"] = {"name": gpu.name, "memory_gb": gpu.memory_gb, "fits": memory.fits(gpu.memory_gb)}
    out["inference"] = estimate_inference(args.model, context=args.context)
    out["time"] = None
    if args.tokens:
        out["time"] = estimate_time(args.model, setup, tokens=args.tokens, gpu=args.gpu or "A100-80GB",
                                    epochs=args.epochs).to_dict()
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

    est = commands.add_parser("estimate", help="training memory (breakdown in GB), inference memory, "
                              "and time/cost for a token count")
    est.add_argument("--model", required=True, metavar="NAME_OR_PATH")
    est.add_argument("--method", default="lora", choices=["full", "freeze", "lora", "qlora"])
    est.add_argument("--bits", type=int, default=4, choices=[4, 8], help="QLoRA base bits")
    est.add_argument("--precision", default="mixed", choices=["fp32", "mixed", "bf16"])
    est.add_argument("--batch-size", type=int, default=1, help="per device")
    est.add_argument("--seq-len", type=int, default=2048)
    est.add_argument("--grad-accum", type=int, default=1)
    est.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing")
    est.add_argument("--optimizer", default="adamw",
                     choices=["adamw", "adamw_8bit", "paged_adamw", "paged_adamw_8bit", "adafactor", "sgd"])
    est.add_argument("--lora-r", type=int, default=16)
    est.add_argument("--targets", default="all_linear",
                     help="attention | attention_mlp | all_linear, or module names separated by commas")
    est.add_argument("--gpus", type=int, default=1)
    est.add_argument("--zero", type=int, default=0, choices=[0, 1, 2, 3], help="DeepSpeed ZeRO stage")
    est.add_argument("--fsdp", action="store_true", help="FSDP full sharding (like ZeRO-3)")
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

