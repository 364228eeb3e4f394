"""FSDP when the processes of a launch run on CPUs: accelerate's own FSDP2 path, over gloo.

``accelerate launch`` with an FSDP config sets ``ACCELERATE_USE_FSDP=true`` in
every process, but accelerate (1.x) turns on its FSDP plugin only for GPU-like
devices: on CPUs its state becomes plain multi-CPU data parallelism and the
Trainer wraps the model in DDP, so a run whose file says FSDP would silently
hold the whole model in every process.  torch's FSDP2 (``fully_shard``) itself
works on CPUs over gloo, so ftlab lets accelerate take its FSDP path there too:
before the Trainer builds its Accelerator, the process state (already joined
over gloo) is marked as a multi-device one, which accelerate turns into FSDP
with the plugin read from the launcher's ``FSDP_*`` settings.  From then on it
is accelerate's and the Trainer's FSDP code that shards, checkpoints (sharded,
through torch.distributed.checkpoint) and gathers the final model — the same
code a GPU launch runs.  Settings that cannot work on CPUs stop the run here.
"""

from __future__ import annotations

import os

from ftlab.errors import FtlabError

# FSDP settings of accelerate's launcher (``FSDP_*`` environment variables) that cannot work on CPUs:
# (variable, the value that is a problem, what to set in the accelerate config file instead).
UNSUPPORTED_ON_CPU = (
    ("FSDP_OFFLOAD_PARAMS", "true", "fsdp_offload_params: false (the parameters already live in CPU memory)"),
    ("FSDP_VERSION", "1", "fsdp_version: 2 (ftlab shards on CPUs with FSDP2 only)"),
)


def requested() -> bool:
    """Whether the launcher asked this process for FSDP (``distributed_type: FSDP`` in its config)."""
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"


def cpu_fsdp(quantized: bool = False) -> bool:
    """Whether this process is one of an FSDP launch on CPUs (so ftlab has to turn accelerate's FSDP on);
    stops with what to change when the launch asks for something that cannot shard on CPUs (DeepSpeed,
    which accelerate would also turn into DDP there, among them)."""
    import torch

    if torch.cuda.is_available():
        return False
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true":
        raise FtlabError("This launch asks for DeepSpeed ZeRO, which needs CUDA GPUs: on CPUs accelerate would run "
                         "plain DDP instead. Launch with the FSDP files (ftlab launch-config --strategy fsdp), which "
                         "shard on CPUs too.")
    if not requested() or int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return False
    problems = [f"{name}={os.environ[name]} (set {fix})" for name, bad, fix in UNSUPPORTED_ON_CPU
                if os.environ.get(name, "").lower() == bad]
    if quantized:
        problems.append("the method quantizes the base, and FSDP cannot shard packed 4/8-bit weights on CPUs "
                        "(use method lora, or launch with the DDP config)")
    if problems:
        raise FtlabError("This launch asks for FSDP on CPUs, which cannot work as it is: " + "; ".join(problems)
                         + ".")
    return True


def enable_cpu_fsdp(quantized: bool = False) -> bool:
    """Make accelerate shard with FSDP2 in an FSDP launch on CPUs; call before the Trainer is built.

    Returns whether it did.  accelerate's AcceleratorState turns a multi-device
    process state into FSDP when the launcher asked for it, and a multi-CPU one
    into nothing; the process group (gloo) and the device (cpu) stay as they are.
    """
    if not cpu_fsdp(quantized):
        return False
    from accelerate import PartialState
    from accelerate.utils import DistributedType

    state = PartialState(cpu=True)  # joins the gloo group; shared by every later Accelerator of this process
    if state.distributed_type == DistributedType.MULTI_CPU:
        state.distributed_type = DistributedType.MULTI_GPU
    return True


def layout(trainer) -> dict:
    """How a finished run's processes held the model, for results.json: the strategy and, when several
    processes trained, the tensors one process held (``per_rank_*``: its shards under FSDP, everything
    under DDP).  DeepSpeed keeps its partitions outside the parameters, so it gets no per-rank figures."""
    from ftlab.training.tensor_memory import tensor_memory

    processes = trainer.args.world_size
    if getattr(trainer, "is_deepspeed_enabled", False):
        return {"strategy": f"zero{trainer.accelerator.state.deepspeed_plugin.zero_stage}"}
    if processes < 2:
        return {"strategy": "single"}
    strategy = "fsdp" if getattr(trainer, "is_fsdp_enabled", False) else "ddp"
    return {"strategy": strategy, **tensor_memory(trainer.model, trainer.optimizer, per_rank=True)}
