"""What the preference stages (dpo, kto, orpo) share: their held-out figures and their checks.

Two accuracies on held-out pairs, because they answer different questions:

``preference_accuracy``  the model itself finds the chosen answer more likely than the
                         rejected one (sum of token log-probabilities).  It means the same
                         before and after training, so it is the before/after figure.
``reward_accuracy``      DPO's implicit reward ranks the pair right: the chosen answer gained
                         more log-probability over the reference than the rejected one.
                         It is what TRL reports during training; before training it is 0
                         (policy and reference are the same model).  Measured only where the
                         reference is the same model with its adapter turned off (LoRA, QLoRA).
"""

from __future__ import annotations

import contextlib

from ftlab.data.rows import training_rows
from ftlab.training.stages import MeasureInputs

HELD_OUT_PAIRS = 200  # enough for a ±0.04 interval on an accuracy near 0.9, and a few seconds on a CPU


def _answer(turns: list[dict]) -> str:
    return turns[-1]["content"]


def measure(inputs: MeasureInputs) -> dict:
    """The held-out pair figures; none for unpaired data (KTO feedback labelled one answer at a time)."""
    from ftlab.models.likelihood import completion_logprobs

    records = [r for r in inputs.data[inputs.split] if r.format == "preference"]
    rows = training_rows(records, "preference", inputs.config.data.system_prompt)
    rows = rows[:HELD_OUT_PAIRS]
    if not rows:
        return {}
    prompts = [row["prompt"] + row["chosen"][:-1] for row in rows]
    both = prompts + prompts
    answers = [_answer(row["chosen"]) for row in rows] + [_answer(row["rejected"]) for row in rows]
    n = len(rows)
    policy, _ = completion_logprobs(inputs.model, inputs.tokenizer, both, answers)
    margins = [policy[i] - policy[n + i] for i in range(n)]
    figures = {"preference_accuracy": sum(m > 0 for m in margins) / n,
               "logprob_margin": sum(margins) / n, "pairs": n}
    reference = _reference(inputs.model)
    if reference is not None:
        with reference:
            ref, _ = completion_logprobs(inputs.model, inputs.tokenizer, both, answers)
        gains = [(policy[i] - ref[i]) - (policy[n + i] - ref[n + i]) for i in range(n)]
        figures["reward_accuracy"] = sum(g > 0 for g in gains) / n
        figures["chosen_logprob_change"] = sum(policy[i] - ref[i] for i in range(n)) / n
        figures["rejected_logprob_change"] = sum(policy[n + i] - ref[n + i] for i in range(n)) / n
    return figures


PLOTS = (("rewards (chosen vs rejected)", ("rewards/chosen", "rewards/rejected")),
         ("reward margin", ("rewards/margins",)),
         ("pair accuracy (train batches)", ("rewards/accuracies",)))


def diagnose(metrics: list[dict]) -> list[str]:
    """Plain notes on a preference run's logged rows.

    A falling chosen reward means the model makes the preferred answer less
    likely than the reference did and wins the margin by pushing the rejected
    one down faster; it is common in DPO and harmless while the task metric
    holds, but with it the model can drift from both answers.
    """
    rows = [m for m in metrics if "rewards/chosen" in m]
    notes = []
    if len(rows) >= 2:
        chosen = [m["rewards/chosen"] for m in rows]
        if chosen[-1] < 0 and chosen[-1] < chosen[0]:
            notes.append(f"The chosen answers' reward is falling ({chosen[0]:+.3f} → {chosen[-1]:+.3f} by step "
                         f"{rows[-1]['step']}): the model makes even the preferred answers less likely than the "
                         "reference does, and wins the margin by lowering the rejected ones faster. Watch the task "
                         "metric; if it drops, lower the learning rate or raise stage.beta.")
        accuracy = [m["rewards/accuracies"] for m in rows if "rewards/accuracies" in m]
        if len(accuracy) >= 3 and max(accuracy[-3:]) <= 0.55:
            notes.append(f"Pair accuracy is still {accuracy[-1]:.2f} at step {rows[-1]['step']}: the model does not "
                         "yet tell chosen from rejected. Check the pairs (ftlab data check) and the learning rate.")
    return notes


def _reference(model) -> contextlib.AbstractContextManager | None:
    """The adapter turned off: the reference of a PEFT policy, without a second copy of the model."""
    disable = getattr(model, "disable_adapter", None)
    return disable() if callable(disable) and hasattr(model, "peft_config") else None

