"""``ftlab.train(config)``: one training stage of a run, through the TRL trainer of that stage.

ftlab's part is around the trainer, not inside it: load the data (any source,
any format) and turn it into the rows the stage reads, load and prepare the
model the way the method says, and record everything in a run directory.
The stage (``train.stage``, :mod:`ftlab.training.stages`) picks the trainer;
the method (``method.name``, :mod:`ftlab.training.methods`) picks what trains.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftlab.config import Config
from ftlab.errors import ConfigError, FtlabError
from ftlab.training.run_callback import Listener, RunMonitor
from ftlab.training.rundir import RunDir
from ftlab.training.stages import STAGES, Stage


@dataclass
class TrainResult:
    run: RunDir
    model: Any
    tokenizer: Any
    results: dict


def precision_flags(precision: str) -> dict:
    """Trainer flags for a precision; both always given, since TRL defaults bf16 to on."""
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        precision = "fp32" if not cuda else "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and not cuda:
        raise ConfigError("train.precision", "fp16 mixed precision needs a CUDA GPU; on a CPU use bf16 or fp32.")
    if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ConfigError("train.precision", "this GPU has no bf16 support (it needs Ampere or newer); "
                          "use fp16 or fp32.")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


# AdamW runs as transformers runs it by default: the fused kernel, one call for all parameters, on a CPU as on a
# GPU.  On the built-in model's LoRA adapters the loop over parameters that "adamw_torch" names takes 3.4 ms a
# step, the fused kernel 0.6 ms (2% of a step).
TRAINER_OPTIMIZERS = {"adamw_torch": "adamw_torch_fused"}


def training_arguments(config: Config, run: RunDir) -> dict:
    """The TrainingArguments every stage shares; a stage adds its own (max_length, packing, beta...)."""
    import torch

    t = config.train
    evaluate = t.eval_steps > 0
    return dict(
        output_dir=str(run.checkpoints_dir),
        max_steps=t.max_steps if t.max_steps > 0 else -1,
        num_train_epochs=t.num_epochs,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size * 2,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        optim=TRAINER_OPTIMIZERS.get(t.optimizer, t.optimizer),
        seed=t.seed,
        data_seed=t.seed,
        logging_steps=t.logging_steps,
        logging_nan_inf_filter=False,  # a NaN must reach the log so the guard can stop the run
        eval_strategy="steps" if evaluate else "no",
        eval_steps=t.eval_steps if evaluate else None,
        metric_for_best_model=t.best_metric if evaluate else None,
        greater_is_better=t.best_metric != "eval_loss" if evaluate else None,
        load_best_model_at_end=False,  # final/ is the last model; best/ is kept beside it
        save_strategy="steps" if t.save_steps > 0 else "no",
        save_steps=t.save_steps or None,
        save_total_limit=t.save_total_limit,
        activation_checkpointing=t.gradient_checkpointing,  # transformers 5's name (gradient_... is deprecated)
        report_to=t.report_to or "none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        use_cpu=not torch.cuda.is_available(),  # also makes a multi-process launch on CPUs use gloo
        **precision_flags(t.precision),
    )


def build_trainer(config: Config, run: RunDir, callbacks: list, emit=None):
    """Load data and model as the stage and method say and wrap them in the stage's TRL trainer;
    returns the trainer and the data (the stage's held-out figures read it before and after training).

    Records the data version in the run directory on the way.  With ``emit`` (the
    run monitor's), the generation timeline answers validation prompts at every evaluation,
    and the stage may emit rows of its own (an RL stage's scored groups).
    """
    from transformers import PrinterCallback, set_seed

    from ftlab.data.rows import to_dataset
    from ftlab.data.sources import load_data
    from ftlab.models.loader import load_tokenizer
    from ftlab.training import preparation
    from ftlab.training.shared_prefix import share_prefix
    from ftlab.training.sharding import enable_cpu_fsdp
    from ftlab.training.stages import TrainerInputs

    stage = STAGES[config.train.stage]
    data = load_data(config.data, stage.rows)
    run.write_json("data.json", {
        "version": data.version, "source": data.source,
        "task": None if config.data.train_file else config.data.task,
        "files": {k: config.get(f"data.{k}") for k in ("train_file", "validation_file", "test_file")},
        "rows": data.sizes()})
    system = config.data.system_prompt
    train_rows = to_dataset(data["train"], stage.rows, system, config.data.train_file or config.data.task)
    eval_rows = to_dataset(data["validation"], stage.rows, system, "the validation split") \
        if config.train.eval_steps > 0 else None
    tokenizer = load_tokenizer(config.model.name, config.model.trust_remote_code, chat=stage.needs_chat_template)
    set_seed(config.train.seed)  # adapter init (and PiSSA's randomized SVD) must repeat on resume
    model = preparation.load_base(config, head=stage.head)
    model = preparation.prepare_model(model, config, preparation.total_optimizer_steps(config, len(train_rows)))
    preparation.remember_initial_adapter(model, config, run.path / "initial_adapter")
    extra = preparation.method_callbacks(model, config)
    if emit is not None and stage.generates and config.eval.timeline_prompts > 0 and data["validation"]:
        from ftlab.data.rows import examples
        from ftlab.eval.evaluation import default_max_new_tokens
        from ftlab.eval.timeline import GenerationTimeline

        shown = examples(data["validation"], system)[:config.eval.timeline_prompts]
        budget = default_max_new_tokens(config) or 64
        extra.append(GenerationTimeline(emit, shown, tokenizer, budget, config.eval.batch_size))
    arguments = training_arguments(config, run)
    sharded = enable_cpu_fsdp(preparation.method_of(config).quantized)
    if sharded:
        arguments["accelerator_config"] = {"use_configured_state": True}  # the FSDP state made above
    trainer = stage.build_trainer(TrainerInputs(
        config=config, model=model, tokenizer=tokenizer, train_rows=train_rows, eval_rows=eval_rows,
        arguments=arguments, callbacks=callbacks + extra,
        optimizer=preparation.make_optimizer(model, config), emit=emit))
    if not sharded and trainer.args.device.type == "cpu":  # measured on CPUs only
        share_prefix(trainer.model)
    trainer.remove_callback(PrinterCallback)  # ftlab's monitor reports instead of raw dict prints
    for callback in trainer.callback_handler.callbacks:
        if type(callback).__name__ == "TensorBoardCallback":
            callback.logging_dir = str(run.path / "logs")  # beside the run's own record, not in checkpoints/
    return trainer, data


def _keep_best(trainer, run: RunDir) -> dict:
    """Link the best checkpoint's weights into best/ (no optimizer state) and say which it was."""
    import os
    import shutil

    state = trainer.state
    if not run.writer or not state.best_model_checkpoint or not Path(state.best_model_checkpoint).is_dir():
        return {}
    best = run.path / "best"
    shutil.rmtree(best, ignore_errors=True)
    best.mkdir()
    skip = ("optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json", "training_args.bin")
    for file in Path(state.best_model_checkpoint).iterdir():
        if file.is_file() and file.name not in skip:
            try:
                os.link(file, best / file.name)
            except OSError:
                shutil.copy2(file, best / file.name)
    return {"best_step": state.best_global_step, "best_metric": state.best_metric,
            "best_checkpoint": str(Path(state.best_model_checkpoint).relative_to(run.path))}


_training: RunDir | None = None  # the run training in this process now; a second is refused (one kernel, one run)


def _refuse_while_training() -> None:
    """A widget's callback runs while a run trains (the dashboard lets the kernel read clicks); it cannot start a
    second run beside it, which would share the process' threads and memory and the one dashboard."""
    if _training is not None:
        raise FtlabError(f"A run is already training in this process ({_training.path}); stop it (the dashboard's "
                         "Stop button) or wait for it to end, then start this one.")


def _run(config: Config, run: RunDir, listeners, resume_from: str | None) -> TrainResult:
    from ftlab.training.run_log import run_log

    global _training
    _refuse_while_training()
    monitor = RunMonitor(run, listeners, stage=config.train.stage)
    _training = run
    try:
        with run_log(run.path / "log.txt" if run.writer else None, monitor.log_sink()) as log:
            return _train(config, run, monitor, resume_from, log)
    finally:
        _training = None


def _train(config: Config, run: RunDir, monitor: RunMonitor, resume_from: str | None, log) -> TrainResult:
    from transformers import EarlyStoppingCallback

    from ftlab.monitor.sampling import peak_rss_mb
    from ftlab.training.advice import explain_failure
    from ftlab.training.preparation import count_parameters, save_final
    from ftlab.training.sharding import layout
    from ftlab.training.tensor_memory import tensor_memory

    first_step = int(Path(resume_from).name.split("-")[-1]) if resume_from else 0
    try:
        precision_flags(config.train.precision)
        callbacks = [monitor]
        early = None
        if config.train.early_stopping_patience:
            early = EarlyStoppingCallback(early_stopping_patience=config.train.early_stopping_patience,
                                          early_stopping_threshold=config.train.early_stopping_threshold)
            callbacks.append(early)
        start = time.time()
        trainer, data = build_trainer(config, run, callbacks, monitor.emit)
        log(f"data, model and trainer ready in {time.time() - start:.1f} s: " + ", ".join(
            f"{len(rows)} {split} rows" for split, rows in data.splits.items() if rows)
            + f" (the {config.train.stage} trainer tokenized them)")
        stage = STAGES[config.train.stage]
        if stage.measure is not None and "stage_before" not in run.read_json("results.json"):  # kept on resume
            run.update_results(stage_before=_measure(stage, trainer.model, trainer.processing_class, config, data))
        trainable, total = count_parameters(trainer.model)
        run.update_results(trainable_params=trainable, total_params=total)
        start = time.time()
        trainer.train(resume_from_checkpoint=resume_from)
        seconds = time.time() - start - monitor.paused_s
        log(f"trained to step {trainer.state.global_step} in {seconds:.1f} s"
            + (f" (paused {monitor.paused_s:.1f} s)" if monitor.paused_s else ""))
        if monitor.stop_reason == "nan_loss":
            raise explain_failure(config, "nan_loss", step=monitor.nan_step)
        save_final(trainer, config, run.final_dir, run.path / "initial_adapter")
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        advice = explain_failure(config, exc)
        run.update_results(status=status, error=str(advice or f"{type(exc).__name__}: {exc}"),
                           peak_rss_mb=round(peak_rss_mb(), 1))
        log(f"{status}: {advice or f'{type(exc).__name__}: {exc}'}")
        if advice is not None and advice is not exc:
            raise advice from exc
        raise
    stop_reason = monitor.stop_reason
    if stop_reason is None:
        stopped_early = early is not None and early.early_stopping_patience_counter >= early.early_stopping_patience
        stop_reason = "early_stopping" if stopped_early else "finished"
    metrics = run.read("metrics")
    losses = [m["loss"] for m in metrics if "loss" in m]
    eval_losses = [m["eval_loss"] for m in metrics if "eval_loss" in m]
    results = run.update_results(
        status="completed", stop_reason=stop_reason, train_seconds=round(seconds, 2),
        paused_seconds=round(monitor.paused_s, 2),
        steps=trainer.state.global_step, max_steps=trainer.state.max_steps,
        first_loss=losses[0] if losses else None, final_loss=losses[-1] if losses else None,
        final_eval_loss=eval_losses[-1] if eval_losses else None, peak_rss_mb=round(peak_rss_mb(), 1),
        seconds_per_step=round(seconds / max(trainer.state.global_step - first_step, 1), 4),
        **tensor_memory(trainer.model, trainer.optimizer), **layout(trainer), **_keep_best(trainer, run))
    if stage.measure is not None and run.writer:
        results = run.update_results(stage_after=_measure(stage, trainer.model, trainer.processing_class, config,
                                                          data))
    if config.eval.at_end and stage.generates and run.writer:
        results = run.update_results(**record_evaluation(trainer.model, trainer.processing_class, config, run))
    return TrainResult(run, trainer.model, trainer.processing_class, results)


def _measure(stage: Stage, model, tokenizer, config: Config, data) -> dict:
    """The stage's held-out figures for the model as it is now (eval mode, no gradients)."""
    import torch

    from ftlab.training.stages import MeasureInputs

    was_training = model.training
    model.eval()
    with torch.no_grad():
        figures = stage.measure(MeasureInputs(config, model, tokenizer, data))
    model.train(was_training)
    return figures


def stage_headline(stage: Stage, results: dict) -> dict:
    """A finished run's headline figures as one flat dict: the task metrics of its evaluation, the
    stage's figures after training, and before/after pairs for the figures the stage compares."""
    figures = dict(results.get("eval") or {})
    before, after = results.get("stage_before") or {}, results.get("stage_after") or {}
    for name, value in after.items():
        if name in stage.compared:
            figures[f"{name}_before"], figures[f"{name}_after"] = before.get(name), value
        else:
            figures[name] = value
    return figures


def record_evaluation(model, tokenizer, config: Config, run: RunDir, data=None, report=None,
                      started: float | None = None) -> dict:
    """eval.json for the trained model (from ``report`` when it was already evaluated, see
    :func:`ftlab.eval.stage.evaluate_target`); returns the figures results.json repeats from it."""
    from ftlab.eval.stage import evaluate_trained, headline

    start = started or time.time()
    record = evaluate_trained(model, tokenizer, config, run.path, data, report)
    return {"eval": headline(record), "eval_seconds": round(time.time() - start, 2)}


def train(config: Config, listeners: list[Listener] | tuple = ()) -> TrainResult:
    """Fine-tune as ``config`` says and return the trained model with its run record.

    The run directory is written even when training fails or is interrupted:
    results.json then says so, and checkpoints and metrics stay, so
    :func:`resume` can continue it.
    """
    config.validate()
    _refuse_while_training()  # before a run directory is made for it
    return _run(config, RunDir.create(config), listeners, resume_from=None)


def resume(run_dir: str | Path, listeners: list[Listener] | tuple = ()) -> TrainResult:
    """Continue an interrupted or stopped run from its last checkpoint, in the same run directory.

    Optimizer, scheduler, data order and random state come back from the
    checkpoint, so the loss curve continues as if the run had not stopped.
    """
    from transformers.trainer_utils import get_last_checkpoint

    from ftlab.training import sharding

    _refuse_while_training()
    run = RunDir.reopen(run_dir)
    if not (run.path / "config.yaml").is_file():
        raise FtlabError(f"{run.path} is not a run directory (it has no config.yaml).")
    checkpoint = get_last_checkpoint(str(run.checkpoints_dir)) if run.checkpoints_dir.is_dir() else None
    if checkpoint is None:
        raise FtlabError(f"{run.path} has no checkpoint to resume from; train it again with "
                         "train.save_steps > 0 so that checkpoints are written.")
    if any(Path(checkpoint).glob("pytorch_model_fsdp_*")) and not sharding.requested():
        raise FtlabError(f"{checkpoint} holds FSDP-sharded weights and optimizer state (one piece per process); "
                         "resume it under an FSDP launch, as it was trained: accelerate launch --config_file "
                         f"<its accelerate_fsdp.yaml> -m ftlab.cli resume {run.path}")
    step = int(Path(checkpoint).name.split("-")[-1])
    run.truncate("metrics", after_step=step)  # the resumed run logs these steps again
    run.truncate("generations", after_step=step - 1)  # the timeline answers again at the resumed step
    run.truncate("groups", after_step=step - 1)  # an RL stage scores its next group at the resumed step
    run.truncate("events", after_step=step)  # what was done after the checkpoint did not last
    previous = run.read_json("results.json")
    run.update_results(status="running", resumed=previous.get("resumed", []) + [
        {"from_step": step, "previous_status": previous.get("status"), "time": time.time()}])
    config = run.config()
    config.validate()
    return _run(config, run, listeners, resume_from=checkpoint)
