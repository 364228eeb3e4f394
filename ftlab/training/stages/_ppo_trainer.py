"""PPO with a learned value model (Schulman et al. 2017; the RLHF recipe of Ouyang et al. 2022), as a subclass of
TRL's ``GRPOTrainer``.

Why a subclass: TRL removed its ``PPOTrainer`` in 1.13, and ftlab trains on TRL
1.16.  PPO and GRPO share everything but the advantage: sampling, the reward
functions, the reference model (a PEFT adapter switched off), the clipped
policy objective, logging and checkpoints.  GRPO's advantage is an answer's
reward against its group's mean; PPO's is per token, from a value model by
generalised advantage estimation (GAE).  ``GRPOTrainer._compute_loss``
accepts per-token advantages of shape (B, T) for subclasses, so this class only

- scores each sampled answer (the reward functions and reward model, summed,
  as GRPO does) and places the score on the answer's last token;
- takes a per-token KL penalty against the reference, ``-beta * (log pi -
  log pi_ref)``, into the reward (PPO's way) instead of into the loss (GRPO's);
- estimates each token's value with the value model and turns rewards and
  values into whitened GAE advantages and returns;
- adds the value model's clipped squared-error loss to the policy loss and
  trains the value model's parameters in the same optimizer.

The value model is a copy of the reward model when ``stage.reward_model`` is
set (InstructGPT's choice: it already reads answers for quality), else the
stage's starting model with a fresh one-output head.  It is saved in each
checkpoint (``value_model.safetensors``) so that a resumed run continues with
it.  TRL's sampler draws at least two answers per prompt; PPO does not compare
them, each answer is one episode.
"""

from __future__ import annotations

import os

import torch
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import GRPOTrainer

GAMMA = 1.0  # no discount inside an answer of a few dozen tokens (as in TRL's old PPOTrainer and InstructGPT)
LAM = 0.95  # GAE's bias-variance trade-off
VALUE_COEF = 0.1  # weight of the value loss beside the policy loss
VALUE_CLIP = 0.2  # how far a value estimate may move from the sampled one in one update
VALUE_FILE = "value_model.safetensors"


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = GAMMA,
        lam: float = LAM) -> torch.Tensor:
    """Per-token advantages by GAE; rewards, values and mask are (B, T), the mask 1 on answer tokens."""
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.size(1))):
        following = values[:, t + 1] if t + 1 < rewards.size(1) else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * following - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages


def whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` scaled to mean 0 and variance 1 over the masked tokens (zero elsewhere)."""
    count = mask.sum().clamp(min=1.0)
    mean = (x * mask).sum() / count
    var = (((x - mean) * mask) ** 2).sum() / count
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


class PPOTrainer(GRPOTrainer):
    """GRPOTrainer with PPO's per-token advantages from a value model; ``value_model`` is a score-head model."""

    def __init__(self, *args, value_model, **kwargs):
        super().__init__(*args, **kwargs)
        self.value_model = value_model.to(self.accelerator.device).train()
        self.value_model.requires_grad_(True)
        self._sequence_rewards: torch.Tensor | None = None

    # -- optimisation: the value model's parameters train beside the policy's
    def create_optimizer(self, model=None):
        optimizer = super().create_optimizer(model)
        values = list(self.value_model.parameters())
        if not any(p is values[0] for group in optimizer.param_groups for p in group["params"]):
            optimizer.add_param_group({"params": values, "weight_decay": 0.0})
            # the Trainer zeroes the policy's gradients after each step, not the value model's
            optimizer.register_step_post_hook(lambda *_: self.value_model.zero_grad(set_to_none=True))
        return optimizer

    def _values(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, answer_tokens: int) -> torch.Tensor:
        """The value model's estimate at each answer token: read at the position that predicts that token."""
        body = getattr(self.value_model, self.value_model.base_model_prefix)
        hidden = body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        values = self.value_model.score(hidden).squeeze(-1).float()
        return values[:, -answer_tokens - 1:-1]

    # -- rollouts: rewards, KL penalty, values, GAE
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        per_function = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        total = (per_function * self.reward_weights.to(per_function.device).unsqueeze(0)).nansum(dim=1)
        start = self.accelerator.process_index * len(prompts)
        self._sequence_rewards = total[start:start + len(prompts)]
        return per_function

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        prompt_ids, completion_ids = output["prompt_ids"], output["completion_ids"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
        answer_tokens = completion_ids.size(1)
        mask = output["completion_mask"].float()
        with torch.no_grad():
            old = output.get("old_per_token_logps")
            if old is None:  # TRL skips it when the policy has not moved since sampling; PPO's penalty needs it
                old, _, _ = self._get_per_token_logps_and_entropies(self.model, input_ids, attention_mask,
                                                                    answer_tokens)
                output["old_per_token_logps"] = old
            values = self._values(input_ids, attention_mask, answer_tokens)
        reference = output.get("ref_per_token_logps")
        log_ratio = (old - reference) if reference is not None else torch.zeros_like(old)
        rewards = -self.beta * log_ratio * mask
        last = (mask.sum(dim=1) - 1).clamp(min=0).long()
        rewards[torch.arange(len(last), device=last.device), last] += self._sequence_rewards.to(rewards.device)
        advantages = gae(rewards, values, mask)
        output["returns"] = advantages + values * mask
        output["values"] = values
        output["advantages"] = whiten(advantages, mask)
        self._metrics[mode]["kl"].append(masked_mean(log_ratio, mask).item())
        self._metrics[mode]["value_mean"].append(masked_mean(values, mask).item())
        return output

    # -- loss: GRPO's clipped policy term (advantages per token, no KL term) plus the value loss
    def _compute_loss(self, model, inputs):
        beta, self.beta = self.beta, 0.0  # the KL penalty is in the reward already
        try:
            loss = super()._compute_loss(model, inputs)
        finally:
            self.beta = beta
        mask = inputs["completion_mask"].float()
        input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        predicted = self._values(input_ids, attention_mask, inputs["completion_ids"].size(1))
        old, returns = inputs["values"], inputs["returns"]
        clipped = old + (predicted - old).clamp(-VALUE_CLIP, VALUE_CLIP)
        value_loss = 0.5 * masked_mean(torch.max((predicted - returns) ** 2, (clipped - returns) ** 2), mask)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["value_loss"].append(value_loss.item())
        normalizer = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        return loss + VALUE_COEF * value_loss / normalizer

    # -- checkpoints carry the value model, so that a resumed run goes on with it
    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            from safetensors.torch import save_model

            folder = os.path.join(self._get_output_dir(trial=trial), f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
            save_model(self.value_model, os.path.join(folder, VALUE_FILE))

    def _load_optimizer_and_scheduler(self, checkpoint):
        if checkpoint is not None and os.path.exists(os.path.join(checkpoint, VALUE_FILE)):
            from safetensors.torch import load_model

            load_model(self.value_model, os.path.join(checkpoint, VALUE_FILE), device=str(self.accelerator.device))
        super()._load_optimizer_and_scheduler(checkpoint)
