"""Commands and launcher configs that run a saved ftlab config elsewhere.

The same YAML runs with ``ftlab train`` on one device, or under ``accelerate
launch`` on several GPUs with plain data parallelism (DDP), FSDP, or DeepSpeed
ZeRO-2/3.  The DeepSpeed JSON leaves batch size, accumulation, clipping and
precision as "auto", so the Trainer fills them from the ftlab config and the
two can never disagree.

On several machines each node gets its own accelerate file (its
``machine_rank``; the same first node's address and port in all of them) and
its own command; every node starts its command, and accelerate's launcher runs
torchrun there with ``--nnodes/--node_rank/--master_addr``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
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


@dataclass
class Nodes:
    """The machines of a launch: how many, and where the first one (rank 0) listens for the others."""

    count: int = 1
    main_address: str | None = None  # an address of node 0 every node can reach
    main_port: int = 29500

    def check(self) -> "Nodes":
        if self.count < 1:
            raise FtlabError(f"The number of nodes must be at least 1, got {self.count}.")
        if self.count > 1 and not self.main_address:
            raise FtlabError(f"A launch on {self.count} nodes needs --main-address HOST: the address of node 0 "
                             "that every node can reach (its hostname or IP).")
        if not 0 < self.main_port < 65536:
            raise FtlabError(f"--main-port must be a TCP port (1-65535), got {self.main_port}.")
        return self


def accelerate_config(config: "Config", strategy: str, num_gpus: int, deepspeed_file: str | None = None,
                      nodes: Nodes | None = None, node_rank: int = 0) -> dict:
    """An ``accelerate launch --config_file`` mapping for ``strategy`` on ``num_gpus`` GPUs per machine,
    for machine ``node_rank`` of ``nodes`` (one machine unless given)."""
    nodes = (nodes or Nodes()).check()
    if strategy not in STRATEGIES:
        raise FtlabError(f"Unknown launch strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    if num_gpus < 1:
        raise FtlabError(f"The number of GPUs must be at least 1, got {num_gpus}.")
    if not 0 <= node_rank < nodes.count:
        raise FtlabError(f"--node-rank must be between 0 and {nodes.count - 1} for {nodes.count} nodes, "
                         f"got {node_rank}.")
    processes = num_gpus * nodes.count  # accelerate counts the processes of all machines together
    base = {"compute_environment": "LOCAL_MACHINE", "debug": False, "machine_rank": node_rank,
            "num_machines": nodes.count, "num_processes": processes, "mixed_precision": _mixed_precision(config),
            "use_cpu": False, "rdzv_backend": "static", "same_network": True, "main_training_function": "main"}
    if nodes.count > 1:
        base.update(main_process_ip=nodes.main_address, main_process_port=nodes.main_port)
    if strategy == "ddp":
        return {**base, "distributed_type": "MULTI_GPU" if processes > 1 else "NO", "gpu_ids": "all"}
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
    deepspeed = {"deepspeed_config_file": deepspeed_file or f"ds_zero{stage}.json", "zero3_init_flag": stage == 3}
    if nodes.count > 1:  # each node starts its own launcher, as for DDP and FSDP (no pdsh/ssh from node 0)
        deepspeed["deepspeed_multinode_launcher"] = "standard"
    return {**base, "distributed_type": "DEEPSPEED", "deepspeed_config": deepspeed}


def write_launch_files(config: "Config", folder: str | Path, strategy: str = "ddp", num_gpus: int = 2,
                       nodes: Nodes | None = None, node_rank: int | None = None) -> dict:
    """Write config.yaml, the accelerate config (and DeepSpeed JSON); return the files and the command.

    On several nodes there is one accelerate file and one command per node (only
    ``node_rank``'s when given); the folder has to be at the same path on every node.
    """
    nodes = (nodes or Nodes()).check()
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
    ranks = [node_rank] if node_rank is not None else list(range(nodes.count))
    commands = {}
    for rank in ranks:
        acc = accelerate_config(config, strategy, num_gpus, str(ds_file) if ds_file else None, nodes, rank)
        name = f"accelerate_{strategy}_node{rank}.yaml" if nodes.count > 1 else f"accelerate_{strategy}.yaml"
        acc_path = folder / name
        atomic_write_text(acc_path, yaml.safe_dump(acc, sort_keys=False))
        files["accelerate" if nodes.count == 1 else f"accelerate_node{rank}"] = acc_path
        commands[rank] = (f"accelerate launch --config_file {shlex.quote(str(acc_path))} -m ftlab.cli train "
                          f"{shlex.quote(str(config_path))}")
    written = {"files": {k: str(v) for k, v in files.items()}}
    if nodes.count == 1:
        return {**written, "command": commands[0]}
    return {**written, "commands": {f"node{rank}": command for rank, command in commands.items()}}
