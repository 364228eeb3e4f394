"""FSDP on two CPU processes over gloo, launched with the files and the command ``ftlab launch-config --strategy
fsdp`` writes.

accelerate turns its FSDP plugin on only for GPUs; on CPUs ftlab makes it take the same FSDP2 path
(:mod:`ftlab.training.sharding`), so these runs shard for real: each process holds half of the
parameters, gradients and optimizer state, checkpoints are sharded (one piece per process), and
final/ is gathered into one model that loads in a single process.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from unittest import mock

import pytest
from safetensors.torch import load_file

import ftlab
from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.training.launch import write_launch_files
from ftlab.training.memory_probe import compare_sharded_run
from ftlab.training.rundir import RunDir

pytestmark = pytest.mark.distributed

# Six steps of 16 rows (8 per process), logged and checkpointed every 3 (a resumed run's first logged loss
# averages the steps since the checkpoint, so the two intervals line up).
SETTINGS = ("data.n_train=128", "data.n_validation=16", "data.n_test=16", "train.max_steps=6",
            "train.logging_steps=3", "train.eval_steps=0", "train.save_steps=3", "eval.at_end=false",
            "eval.timeline_prompts=2")
LEARNING_RATES = {"full": "1e-3", "lora": "3e-3"}
# Same global batch, same data order: the two-process losses are the one-process losses up to float rounding
# of the reduce-scatter (measured: 3e-7 relative); 1e-3 would still catch one wrong shard or a lost gradient.
LOSS_TOLERANCE = 1e-3


def launch(command: str) -> subprocess.CompletedProcess:
    """Run a printed ``accelerate launch ...`` command with this interpreter, one thread per process."""
    words = shlex.split(command)
    assert words[:2] == ["accelerate", "launch"]
    done = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", *words[2:]], check=False,
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def config_for(root, method: str, batch_size: int) -> Config:
    return Config().override([f"train.output_dir={root}", f"method.name={method}", f"train.run_name={method}",
                              f"train.batch_size={batch_size}", f"train.learning_rate={LEARNING_RATES[method]}",
                              *SETTINGS])


@pytest.fixture(scope="module")
def fsdp_runs(tmp_path_factory):
    """Full fine-tuning and LoRA, each launched on two processes from the FSDP files; their launch outputs."""
    root = tmp_path_factory.mktemp("fsdp")
    runs = {}
    for method in ("full", "lora"):
        written = write_launch_files(config_for(root / "runs", method, 8), root / method, "fsdp", 2)
        runs[method] = {"run": RunDir(root / "runs" / method), "launch": launch(written["command"]),
                        "command": written["command"], "accelerate": written["files"]["accelerate"]}
    return runs


def losses(run: RunDir) -> list[float]:
    return [row["loss"] for row in run.read("metrics") if "loss" in row]


@pytest.mark.parametrize("method", ["full", "lora"])
def test_fsdp_launch_shards_parameters_gradients_and_optimizer_state(fsdp_runs, method):
    run, log = fsdp_runs[method]["run"], fsdp_runs[method]["launch"]
    results = run.read_json("results.json")
    assert results["status"] == "completed" and results["processes"] == 2 and results["steps"] == 6
    assert results["strategy"] == "fsdp"
    assert "find_unused_parameters" not in log.stderr  # the DDP constructor's warning: no DDP here
    assert json.loads(log.stdout)["run_dir"] == str(run.path)  # the results, printed once (by rank 0)
    for part in ("weights", "gradients", "optimizer"):
        whole, held = results[f"{part}_mb"], results[f"per_rank_{part}_mb"]
        assert held == pytest.approx(whole / 2, rel=0.02), part  # rotary buffers stay whole: under 1%
    checkpoint = run.checkpoints_dir / "checkpoint-3"
    for folder in ("pytorch_model_fsdp_0", "optimizer_0"):  # torch.distributed.checkpoint: one file per process
        assert sorted(p.name for p in (checkpoint / folder).glob("*.distcp")) == ["__0_0.distcp", "__1_0.distcp"]
    assert len(losses(run)) == 2  # one writer: each logged step once


def test_fsdp_lora_matches_one_process_and_its_final_adapter_loads_in_one(fsdp_runs, tmp_path):
    # the same 16 rows per step in one process; sharded runs take the plain forward, so this one does too (the
    # shared prefix changes float rounding, and the adapters are compared to 1e-3)
    with mock.patch("ftlab.training.shared_prefix.share_prefix", lambda model: False):
        single = ftlab.train(config_for(tmp_path, "lora", 16))
    sharded = fsdp_runs["lora"]["run"]
    assert losses(sharded) == pytest.approx(losses(single.run), rel=LOSS_TOLERANCE)
    assert losses(sharded)[-1] < 0.7 * losses(sharded)[0]
    # final/ holds the gathered adapter: every tensor whole, and the same as the one-process run's
    gathered = load_file(sharded.final_dir / "adapter_model.safetensors")
    alone = load_file(single.run.final_dir / "adapter_model.safetensors")
    assert gathered.keys() == alone.keys() and len(gathered) > 0
    for name, tensor in gathered.items():
        assert tensor.shape == alone[name].shape
        assert tensor.float().sub(alone[name].float()).abs().max() < 1e-3, name
    model, _ = ftlab.load_trained(sharded.path)
    assert sum(p.numel() for p in model.parameters()) == sharded.read_json("results.json")["total_params"]


def test_fsdp_full_run_resumes_from_its_sharded_checkpoint(fsdp_runs, tmp_path):
    finished = fsdp_runs["full"]["run"]
    copy = RunDir(shutil.copytree(finished.path, tmp_path / "full"))
    shutil.rmtree(copy.checkpoints_dir / "checkpoint-6")  # as if stopped after step 3's checkpoint
    shutil.rmtree(copy.final_dir)
    with pytest.raises(FtlabError, match=r"checkpoint-3 holds FSDP-sharded weights and optimizer state \(one piece "
                                         r"per process\); resume it under an FSDP launch"):
        ftlab.resume(copy.path)

    command = fsdp_runs["full"]["command"].replace(" train ", " resume ").rsplit(" ", 1)[0] + f" {copy.path}"
    launch(command)
    results = copy.read_json("results.json")
    assert results["status"] == "completed" and results["steps"] == 6 and results["strategy"] == "fsdp"
    assert [r["from_step"] for r in results["resumed"]] == [3]  # written once, by the first process
    assert losses(copy) == pytest.approx(losses(finished), rel=1e-5)  # the same curve as without the stop
    model, _ = ftlab.load_trained(copy.path)  # final/ gathered into one model.safetensors
    assert sum(p.numel() for p in model.parameters()) == results["total_params"]


@pytest.mark.parametrize("method", ["full", "lora"])
def test_sharded_rows_of_estimate_vs_measured(fsdp_runs, method):
    row = compare_sharded_run(fsdp_runs[method]["run"].path)
    assert row["strategy"] == "fsdp x2" and row["method"] == method
    for part in ("gradients", "optimizer"):  # sharded alike by the estimator and by FSDP2
        assert row[f"{part} MB/rank measured"] == pytest.approx(row[f"{part} MB/rank estimated"], abs=0.002)
    # the estimate adds one decoder layer gathered in full while it computes; the shard at rest is below it
    assert row["weights MB/rank measured"] < row["weights MB/rank estimated"] < 1.3 * row["weights MB/rank measured"]
