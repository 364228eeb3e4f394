"""A real two-process data-parallel run of the built-in model (gloo on CPU), launched by accelerate.

``accelerate launch --cpu`` starts several CPU processes only through mpirun; ``--multi_gpu`` starts
them through torch.distributed.run, and on a machine without CUDA ftlab's trainer joins them over gloo.
"""

import os
import subprocess
import sys

import pytest

import ftlab
from ftlab.training.rundir import RunDir

pytestmark = pytest.mark.distributed


def test_two_process_run_matches_one_process(small_config, tmp_path):
    settings = ("train.max_steps=30", "train.eval_steps=15", "train.save_steps=15", "train.logging_steps=5")
    single = ftlab.train(small_config(*settings, "train.batch_size=16", "train.run_name=one"))

    config = small_config(*settings, "train.batch_size=8", "train.run_name=two")  # 2 x 8 = the same 16 per step
    path = config.save(tmp_path / "two.yaml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                           "-m", "ftlab.cli", "train", str(path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    run = RunDir(f"{config.train.output_dir}/two")
    results = run.read_json("results.json")
    assert results["status"] == "completed" and results["processes"] == 2 and results["steps"] == 30
    losses = [row["loss"] for row in run.read("metrics") if "loss" in row]
    single_losses = [row["loss"] for row in single.run.read("metrics") if "loss" in row]
    assert len(losses) == len(single_losses) == 6  # one writer: each step logged once
    assert losses[-1] < 0.7 * losses[0]
    assert abs(losses[-1] - single_losses[-1]) < 0.25 * single_losses[-1]
    assert (run.final_dir / "adapter_model.safetensors").exists()
