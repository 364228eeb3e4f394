"""Training controls, tested by stopping, breaking and resuming real runs."""

import pytest
import torch

import ftlab
from ftlab.training.rundir import RunDir


def _losses(run, key="loss"):
    return [row[key] for row in run.read("metrics") if key in row]


class StopAt:
    """Raises ``error`` (or asks for a polite stop) once training logs ``step``."""

    def __init__(self, step, error=None):
        self.step, self.error, self.reached = step, error, False

    def update(self, kind, row):
        if kind == "metrics" and row.get("step", 0) >= self.step:
            self.reached = True
            if self.error is not None:
                raise self.error

    def stop_requested(self):
        return "test asked" if self.reached and self.error is None else None


def test_interrupted_run_resumes_on_the_same_curve(small_config):
    settings = ("train.max_steps=20", "train.logging_steps=1", "train.save_steps=5", "train.eval_steps=5")
    straight = ftlab.train(small_config(*settings, "train.run_name=straight"))
    config = small_config(*settings, "train.run_name=cut")
    with pytest.raises(KeyboardInterrupt):
        ftlab.train(config, listeners=[StopAt(12, KeyboardInterrupt())])
    run = RunDir(f"{config.train.output_dir}/cut")
    assert run.read_json("results.json")["status"] == "interrupted"

    resumed = ftlab.resume(run.path)
    assert resumed.results["status"] == "completed" and resumed.results["resumed"][0]["from_step"] == 10
    assert [row["step"] for row in run.read("metrics") if "loss" in row] == list(range(1, 21))
    assert _losses(run) == pytest.approx(_losses(straight.run), rel=1e-5)


def test_stop_request_saves_a_checkpoint_and_resume_finishes(small_config):
    from ftlab.widgets import TrainingDashboard

    dashboard = TrainingDashboard(refresh_s=0.0)

    class ClickStopAtStep7:
        def update(self, kind, row):
            if kind == "metrics" and row.get("step") == 7:
                dashboard.stop_button.click()

    config = small_config("train.max_steps=20", "train.logging_steps=1", "train.eval_steps=0",
                          "train.save_steps=5", "train.run_name=stopped")
    result = ftlab.train(config, listeners=[dashboard, ClickStopAtStep7()])
    assert result.results["stop_reason"] == "stopped: stop button" and result.results["steps"] == 7
    assert (result.run.checkpoints_dir / "checkpoint-7").is_dir()
    assert dashboard.stop_button.description == "Stopped" and "checkpoint saved" in dashboard.status.value

    finished = ftlab.resume(result.run.path)
    assert finished.results["steps"] == 20 and finished.results["stop_reason"] == "finished"


def test_early_stopping_keeps_best_and_final(small_config):
    config = small_config("train.max_steps=60", "train.eval_steps=5", "train.save_steps=5",
                          "train.early_stopping_patience=2", "train.early_stopping_threshold=10",
                          "train.save_total_limit=1")
    result = ftlab.train(config)
    run = result.run
    assert result.results["stop_reason"] == "early_stopping"
    assert result.results["steps"] == 15  # first evaluation sets the bar; two more fail to beat it by 10
    eval_losses = {row["step"]: row["eval_loss"] for row in run.read("metrics") if "eval_loss" in row}
    best_step = min(eval_losses, key=eval_losses.get)
    assert result.results["best_step"] == best_step
    assert result.results["best_metric"] == pytest.approx(eval_losses[best_step])
    assert (run.path / "best" / "adapter_model.safetensors").exists()
    assert (run.final_dir / "adapter_model.safetensors").exists()
    kept = sorted(p.name for p in run.checkpoints_dir.glob("checkpoint-*"))
    assert f"checkpoint-{best_step}" in kept and "checkpoint-15" in kept and len(kept) <= 2
    best, _ = ftlab.load_trained(run.path, "best")
    assert best is not None


def test_nan_loss_stops_the_run_with_advice(small_config):
    config = small_config("method.name=full", "train.learning_rate=1e5", "train.max_grad_norm=0",
                          "train.logging_steps=1", "train.eval_steps=0", "train.save_steps=0",
                          "train.lr_scheduler=constant", "train.warmup_ratio=0", "train.run_name=nan")
    with pytest.raises(ftlab.FtlabError) as err:
        ftlab.train(config)
    message = str(err.value)
    assert "The training loss became NaN or infinite at step" in message
    assert "lower train.learning_rate (now 100000; try 10000)" in message
    assert "turn gradient clipping on with train.max_grad_norm=1.0" in message
    results = RunDir(f"{config.train.output_dir}/nan").read_json("results.json")
    assert results["status"] == "failed" and "NaN" in results["error"]


def test_out_of_memory_becomes_advice_and_keeps_the_run(small_config):
    config = small_config("train.batch_size=16", "train.save_steps=5", "train.eval_steps=5",
                          "train.run_name=oom")
    with pytest.raises(ftlab.FtlabError) as err:
        ftlab.train(config, listeners=[StopAt(10, torch.OutOfMemoryError("CUDA out of memory"))])
    message = str(err.value)
    assert message.startswith("Training ran out of memory. Try, in this order: set train.batch_size=8 and "
                              "train.grad_accum=2 (same effective batch of 16")
    assert "train.gradient_checkpointing=true" in message and "method.name=qlora" in message
    run = RunDir(f"{config.train.output_dir}/oom")
    assert run.read_json("results.json")["status"] == "failed"
    assert (run.checkpoints_dir / "checkpoint-5").is_dir()


@pytest.mark.parametrize("setting", ["train.gradient_checkpointing=true", "train.packing=true",
                                     "train.optimizer=adafactor", "train.completion_only_loss=false"])
def test_training_options_train(small_config, setting):
    result = ftlab.train(small_config(setting, "train.eval_steps=0", "train.save_steps=0"))
    losses = _losses(result.run)
    assert losses[-1] < 0.8 * losses[0]


def test_report_to_tensorboard_writes_event_files(small_config):
    result = ftlab.train(small_config("train.report_to=tensorboard", "train.max_steps=10",
                                      "train.eval_steps=0", "train.save_steps=0"))
    assert list((result.run.path / "logs").glob("events.out.tfevents.*"))
