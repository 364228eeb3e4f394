"""Launch files for several nodes, checked by accelerate's own launcher, and the FSDP settings a CPU launch refuses."""

import shlex

import pytest
import torch

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.training.launch import Nodes, write_launch_files
from ftlab.training.sharding import cpu_fsdp

on_cpus = pytest.mark.skipif(torch.cuda.is_available(), reason="what a launch on CPUs refuses")


def _validated(command: str):
    """accelerate's launcher reads the printed command as ``accelerate launch`` would, and checks it."""
    from accelerate.commands.launch import (
        _validate_launch_command,
        launch_command_parser,
    )

    words = shlex.split(command)
    assert words[:2] == ["accelerate", "launch"]
    args, *_ = _validate_launch_command(launch_command_parser().parse_args(words[2:]))
    return args


@pytest.mark.parametrize("strategy", ["ddp", "fsdp", "zero3"])
def test_two_nodes_get_one_file_and_one_command_each_that_accelerate_accepts(tmp_path, strategy):
    from accelerate.utils.launch import prepare_multi_gpu_env

    written = write_launch_files(Config(), tmp_path, strategy, 8, Nodes(2, "10.1.2.3", 29555))
    assert sorted(written["commands"]) == ["node0", "node1"]
    for rank in (0, 1):
        command = written["commands"][f"node{rank}"]
        assert command.startswith(f"accelerate launch --config_file {tmp_path}/accelerate_{strategy}_node{rank}.yaml "
                                  f"-m ftlab.cli train {tmp_path}/config.yaml")
        args = _validated(command)
        assert (args.num_machines, args.machine_rank, args.num_processes) == (2, rank, 16)
        assert (args.main_process_ip, args.main_process_port) == ("10.1.2.3", 29555)
        assert args.use_fsdp == (strategy == "fsdp") and args.use_deepspeed == (strategy == "zero3")
        if strategy == "zero3":  # each node starts its own launcher instead of node 0 reaching the others by ssh
            assert args.deepspeed_multinode_launcher == "standard"
        if rank == 1 and strategy != "zero3":  # what accelerate hands torchrun on the second node
            prepare_multi_gpu_env(args)
            assert (args.nnodes, args.node_rank, args.nproc_per_node) == ("2", 1, "8")
            # torchrun's static rendezvous at node 0 (the config's same_network never reaches the parsed args)
            assert (args.rdzv_backend, args.rdzv_endpoint) == ("static", "10.1.2.3:29555")


def test_one_node_of_several_and_what_a_multi_node_launch_needs(tmp_path):
    written = write_launch_files(Config(), tmp_path, "fsdp", 4, Nodes(3, "head"), node_rank=2)
    assert list(written["commands"]) == ["node2"] and _validated(written["commands"]["node2"]).machine_rank == 2
    assert not (tmp_path / "accelerate_fsdp_node0.yaml").exists()
    with pytest.raises(FtlabError, match=r"^A launch on 2 nodes needs --main-address HOST: the address of node 0 "
                                         r"that every node can reach \(its hostname or IP\)\.$"):
        write_launch_files(Config(), tmp_path, "ddp", 2, Nodes(2))
    with pytest.raises(FtlabError, match=r"^--node-rank must be between 0 and 1 for 2 nodes, got 2\.$"):
        write_launch_files(Config(), tmp_path, "ddp", 2, Nodes(2, "head"), node_rank=2)


@on_cpus
def test_an_fsdp_launch_on_cpus_stops_on_what_cannot_shard_there(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("FSDP_VERSION", "2")
    assert cpu_fsdp() is True
    monkeypatch.setenv("FSDP_OFFLOAD_PARAMS", "true")
    with pytest.raises(FtlabError, match=r"^This launch asks for FSDP on CPUs, which cannot work as it is: "
                                         r"FSDP_OFFLOAD_PARAMS=true \(set fsdp_offload_params: false \(the parameters "
                                         r"already live in CPU memory\)\)\.$"):
        cpu_fsdp()
    monkeypatch.setenv("FSDP_OFFLOAD_PARAMS", "false")
    with pytest.raises(FtlabError, match=r"the method quantizes the base, and FSDP cannot shard packed 4/8-bit "
                                         r"weights on CPUs \(use method lora, or launch with the DDP config\)"):
        cpu_fsdp(quantized=True)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert cpu_fsdp(quantized=True) is False  # one process: nothing to shard, nothing to refuse


@on_cpus
def test_a_deepspeed_launch_on_cpus_stops_instead_of_running_ddp(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(FtlabError, match=r"^This launch asks for DeepSpeed ZeRO, which needs CUDA GPUs: on CPUs "
                                         r"accelerate would run plain DDP instead\. Launch with the FSDP files "
                                         r"\(ftlab launch-config --strategy fsdp\), which shard on CPUs too\.$"):
        cpu_fsdp()
