"""Commands and launcher configs that run a saved ftlab config elsewhere.

The same YAML runs with ``ftlab train`` on one device, or under ``accelerate
launch`` on several GPUs with plain data parallelism (DDP), FSDP, or DeepSpeed
ZeRO-2/3.  The DeepSpeed JSON leaves batch size, accumulation, clipping and
precision as "auto", so the Trainer fills them from the ftlab config and the
two can never disagree.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ftlab.errors import FtlabError
from ftlab.files import atomic_write_text

if TYPE_CHECKING:
    from ftlab.config import Config

STRATEGIES = ("ddp", "fsdp", "zero2", "zero3")


def train_command(config_path: str | Path) -> str:
    return f"ftlab train {shlex.quote(str(config_path))}"


def _mixed_precision(config: "Config") -> str:
    return {"bf16": "bf16", "fp16": "fp16"}.get(config.train.precision, "no")


def _layer_class(config: "Config") -> str | None:
    """The decoder block class FSDP wraps one by one, read from the model's own metadata."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from ftlab.models.tiny import resolve_model_path

    try:
        model_config = AutoConfig.from_pretrained(resolve_model_path(config.model.name),
                                                  trust_remote_code=config.model.trust_remote_code)
        model_class = AutoModelForCausalLM._model_mapping[type(model_config)]
    except (OSError, ValueError, KeyError):
        return None
    blocks = getattr(model_class, "_no_split_modules", None) or []
    return blocks[0] if blocks else None


def deepspeed_config(stage: int, offload: bool = False) -> dict:
    zero: dict = {"stage": stage, "overlap_comm": True, "contiguous_gradients": True,
                  "reduce_bucket_size": "auto"}
    if stage == 3:
        zero.update({"stage3_prefetch_bucket_size": "auto", "stage3_param_persistence_threshold": "auto",
                     "stage3_gather_16bit_weights_on_model_save": True})
    if offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if stage == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    return {"zero_optimization": zero, "bf16": {"enabled": "auto"}, "fp16": {"enabled": "auto"},
            "train_batch_size": "auto", "train_micro_batch_size_per_gpu": "auto",
            "gradient_accumulation_steps": "auto", "gradient_clipping": "auto"}


def accelerate_config(config: "Config", strategy: str, num_gpus: int, deepspeed_file: str | None = None) -> dict:
    """An ``accelerate launch --config_file`` mapping for ``strategy`` on ``num_gpus`` GPUs of one machine."""
    if strategy not in STRATEGIES:
        raise FtlabError(f"Unknown launch strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    if num_gpus < 1:
        raise FtlabError(f"The number of GPUs must be at least 1, got {num_gpus}.")
    base = {"compute_environment": "LOCAL_MACHINE", "debug": False, "machine_rank": 0, "num_machines": 1,
            "num_processes": num_gpus, "mixed_precision": _mixed_precision(config), "use_cpu": False,
            "rdzv_backend": "static", "same_network": True, "main_training_function": "main"}
    if strategy == "ddp":
        return {**base, "distributed_type": "MULTI_GPU" if num_gpus > 1 else "NO", "gpu_ids": "all"}
    if strategy == "fsdp":
        fsdp = {"fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
                "fsdp_state_dict_type": "SHARDED_STATE_DICT", "fsdp_offload_params": False,
                "fsdp_cpu_ram_efficient_loading": True, "fsdp_reshard_after_forward": True,
                "fsdp_activation_checkpointing": config.train.gradient_checkpointing}
        layer = _layer_class(config)
        if layer:
            fsdp["fsdp_transformer_layer_cls_to_wrap"] = layer
        else:
            fsdp["fsdp_auto_wrap_policy"] = "SIZE_BASED_WRAP"
            fsdp["fsdp_min_num_params"] = 10_000_000
        return {**base, "distributed_type": "FSDP", "fsdp_config": fsdp}
    stage = 2 if strategy == "zero2" else 3
    return {**base, "distributed_type": "DEEPSPEED",
            "deepspeed_config": {"deepspeed_config_file": deepspeed_file or f"ds_zero{stage}.json",
                                 "zero3_init_flag": stage == 3}}


def write_launch_files(config: "Config", folder: str | Path, strategy: str = "ddp", num_gpus: int = 2) -> dict:
    """Write config.yaml, the accelerate config (and DeepSpeed JSON); return the files and the command."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config_path = config.save(folder / "config.yaml")
    files = {"config": config_path}
    ds_file = None
    if strategy in ("zero2", "zero3"):
        stage = int(strategy[-1])
        ds_file = folder / f"ds_zero{stage}.json"
        atomic_write_text(ds_file, json.dumps(deepspeed_config(stage), indent=2) + "\n")
        files["deepspeed"] = ds_file
    acc = accelerate_config(config, strategy, num_gpus, str(ds_file) if ds_file else None)
    acc_path = folder / f"accelerate_{strategy}.yaml"
    atomic_write_text(acc_path, yaml.safe_dump(acc, sort_keys=False))
    files["accelerate"] = acc_path
    command = (f"accelerate launch --config_file {shlex.quote(str(acc_path))} -m ftlab.cli train "
               f"{shlex.quote(str(config_path))}")
    return {"files": {k: str(v) for k, v in files.items()}, "command": command}

