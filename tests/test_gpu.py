"""What only a CUDA GPU can show: 4-bit QLoRA in bf16 on the GPU, NVML samples, the allocator's peak vs the estimate.

Skipped on machines without CUDA (CI); run with ``pytest -m gpu`` where a GPU is lent.
"""

import os
import shlex
import subprocess
import sys

import pytest
import torch

import ftlab
from ftlab.config import Config
from ftlab.models.architecture import inspect_architecture
from ftlab.models.estimate import GB, Hardware, estimate_memory
from ftlab.models.tiny_archs import tiny_model
from ftlab.training.launch import write_launch_files
from ftlab.training.memory_probe import measure_training_step, prepared_model
from ftlab.training.rundir import RunDir

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_qlora_trains_in_bf16_on_the_gpu_and_records_gpu_memory(small_config):
    result = ftlab.train(small_config("method.name=qlora", "train.precision=auto"))
    assert result.results["status"] == "completed" and result.results["final_loss"] < result.results["first_loss"]
    assert next(result.model.parameters()).is_cuda
    assert any("gpu_mem_mb" in row and row["gpu_mem_mb"] > 0 for row in result.run.read("system"))


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_estimate_is_within_15_percent_of_the_cuda_allocator_peak(method):
    run = Config().override([f"method.name={method}", "model.dtype=float32", "train.precision=bf16",
                             "train.batch_size=8", "data.max_length=256", "method.target_modules=all-linear"])
    model = tiny_model("llama", width=8, layers=4, vocab_size=8192)
    prepared = prepared_model(model, run)  # a quantized base is loaded onto the GPU by bitsandbytes already
    measured = measure_training_step(prepared if method == "qlora" else prepared.cuda(), run)
    estimate = estimate_memory(inspect_architecture(model.config), run, Hardware(device="cpu"))  # no CUDA context
    assert estimate.total_gb * GB == pytest.approx(measured.peak, rel=0.15)


@pytest.mark.distributed
@pytest.mark.parametrize("strategy", ["zero2", "zero3"])
def test_deepspeed_zero_trains_from_the_launch_files(small_config, tmp_path, strategy):
    """The DeepSpeed JSON and accelerate file ``ftlab launch-config`` writes, launched on every GPU here."""
    gpus = torch.cuda.device_count()
    config = small_config("train.max_steps=6", "train.logging_steps=3", "train.eval_steps=0", "train.save_steps=3",
                          "eval.at_end=false", "train.precision=bf16", f"train.run_name={strategy}")
    written = write_launch_files(config, tmp_path / "launch", strategy, gpus)
    words = shlex.split(written["command"])
    done = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", *words[2:]], check=False,
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run = RunDir(f"{config.train.output_dir}/{strategy}")
    results = run.read_json("results.json")
    assert results["status"] == "completed" and results["steps"] == 6 and results["processes"] == gpus
    assert results["strategy"] == strategy and results["final_loss"] < results["first_loss"]
    model, _ = ftlab.load_trained(run.path)  # final/ gathered from the ZeRO partitions (16-bit weights on save)
    assert sum(p.numel() for p in model.parameters()) == results["total_params"]
