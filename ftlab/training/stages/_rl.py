"""What the RL stages (grpo, rloo, ppo) share: the reward they optimise, its held-out measure, their settings.

The reward of an answer is the sum of the reward functions ``stage.rewards``
names (:mod:`ftlab.training.rewards`) and, when ``stage.reward_model`` is set,
the score of that reward model (:mod:`ftlab.training.reward_model`).  The
trainer samples several answers per prompt; the measure scores one greedy
answer per held-out prompt with the same reward, before and after training.
"""

from __future__ import annotations

from typing import Any, Callable

from ftlab.data.rows import last_user_turn
from ftlab.training.stages import MeasureInputs, TrainerInputs

# the stage.* settings an RL stage reads
RL_SETTINGS = ("beta", "num_generations", "max_completion_length", "temperature", "rewards", "reward_model")
MEASURE_PROMPTS = 128  # held-out prompts answered by the measure
DEFAULT_BUDGET = 64  # answer tokens when neither the settings nor a built-in task say


def completion_budget(config: Any) -> int:
    """``stage.max_completion_length``, else the built-in task's own answer budget."""
    from ftlab.data.tasks import TASKS

    if config.stage.max_completion_length:
        return config.stage.max_completion_length
    if not config.data.train_file and config.data.task in TASKS:
        return TASKS[config.data.task].max_new_tokens
    return DEFAULT_BUDGET


def _answer(completion: Any) -> str:
    """A TRL completion as plain text: conversational ones are a list of turns, the answer the last."""
    if isinstance(completion, list):
        completion = completion[-1]["content"] if completion else ""
    return completion.strip()


def scorers(config: Any) -> dict[str, Callable[[list, list[str], list[str]], list[float]]]:
    """Each part of the reward by name: (prompt dialogues, answers, references) -> one score per answer."""
    from ftlab.training.rewards import REWARDS, checked

    parts: dict[str, Callable] = {}
    for name in config.stage.rewards:
        parts[name] = lambda prompts, answers, references, reward=REWARDS[name]: checked(reward, answers, references)
    if config.stage.reward_model:
        from ftlab.training.reward_model import load_reward_model

        model = load_reward_model(config.stage.reward_model)
        parts["reward_model"] = lambda prompts, answers, references: model(prompts, answers)
    return parts


class GroupShow:
    """Shows what the model samples and what the reward pays for: one group of answers to one prompt, with the
    reward of each answer in all and by part, emitted as a ``groups`` row (the run's ``groups.jsonl``).

    TRL calls the reward functions one part at a time on the same batch; the first part starts a record, the
    last one completes it, and the record's first group (the answers to the batch's first prompt) goes out.
    One group every ``every`` steps (the logging interval), so a step that scores many batches costs nothing.
    """

    def __init__(self, emit: Callable[[str, dict], None], parts: list[str], every: int):
        self.emit, self.parts, self.every = emit, parts, max(every, 1)
        self._due = 0  # the first step at which the next group is shown
        self._scores: dict[str, list[float]] = {}

    def scored(self, name: str, step: int, prompts: list, answers: list[str], references: list[str],
               scores: list[float]) -> None:
        if step < self._due:
            return
        if name == self.parts[0]:
            self._scores = {}
        self._scores[name] = list(scores)
        if name != self.parts[-1] or len(self._scores) < len(self.parts):
            return
        size = 1
        while size < len(prompts) and prompts[size] == prompts[0]:
            size += 1
        rows = []
        for i in range(size):
            parts = {part: float(self._scores[part][i]) for part in self.parts}
            rows.append({"answer": answers[i], "reward": sum(parts.values()), "parts": parts})
        self.emit("groups", {"step": step, "prompt": last_user_turn(prompts[0]), "reference": references[0],
                             "parts": list(self.parts), "answers": rows})
        self._scores, self._due = {}, step + self.every


def reward_functions(config: Any, emit: Callable[[str, dict], None] | None = None) -> list[Callable]:
    """The reward as TRL reward functions, one per part, named after it (TRL logs each as rewards/<name>).

    TRL passes the dataset's other columns as keyword arguments, so ``reference``
    arrives beside the prompts and the sampled completions, and ``trainer_state``
    says the step.  With ``emit`` (the run monitor's), one scored group every
    ``train.logging_steps`` steps goes to the run record and the dashboard (:class:`GroupShow`).
    """
    parts = scorers(config)
    show = GroupShow(emit, list(parts), config.train.logging_steps) if emit is not None and parts else None
    functions = []
    for name, part in parts.items():
        def reward(prompts, completions, reference=None, trainer_state=None, name=name, part=part, **_):
            answers = [_answer(c) for c in completions]
            references = list(reference) if reference is not None else [""] * len(answers)
            scores = part(prompts, answers, references)
            if show is not None:
                show.scored(name, trainer_state.global_step if trainer_state is not None else 0, prompts, answers,
                            references, scores)
            return scores

        reward.__name__ = name
        functions.append(reward)
    return functions


def measure(inputs: MeasureInputs) -> dict:
    """Mean reward of greedy answers to held-out prompts, in all and by part."""
    from ftlab.data.rows import training_rows
    from ftlab.models.generation import generate

    config = inputs.config
    rows = training_rows(inputs.data[inputs.split], "prompt", config.data.system_prompt)[:MEASURE_PROMPTS]
    if not rows:
        return {}
    prompts, references = [r["prompt"] for r in rows], [r["reference"] for r in rows]
    answers = generate(inputs.model, inputs.tokenizer, prompts, completion_budget(config), config.eval.batch_size)
    parts = {name: part(prompts, answers, references) for name, part in scorers(config).items()}
    totals = [sum(scores) for scores in zip(*parts.values())]
    figures = {"reward": sum(totals) / len(totals)}
    figures.update({f"reward_{name}": sum(scores) / len(scores) for name, scores in parts.items()})
    figures["prompts"] = len(rows)
    return figures


def check(config: Any):
    """The RL settings' own problems, found before any model loads."""
    s, t = config.stage, config.train
    if not s.rewards and not s.reward_model:
        yield "stage.rewards", "is empty and stage.reward_model is not set; name at least one reward."
    if (t.batch_size * t.grad_accum) % s.num_generations:
        yield "stage.num_generations", (f"must divide train.batch_size x train.grad_accum ({t.batch_size} x "
                                        f"{t.grad_accum}): each step trains on whole groups of "
                                        f"{s.num_generations} answers to one prompt.")
    if s.reward_model:
        from ftlab.training.reward_model import not_a_reward_model

        problem = not_a_reward_model(s.reward_model)
        if problem:
            yield "stage.reward_model", problem


def build(inputs: TrainerInputs, config_class: Any, trainer_class: Any, settings: dict | None = None,
          **extra: Any) -> Any:
    """A GRPO, RLOO or PPO trainer: they take the same settings, rewards and arguments; ``settings`` adds to the
    trainer's config, ``extra`` to its own arguments (PPO's value model)."""
    s = inputs.config.stage
    args = config_class(**inputs.arguments, beta=s.beta, num_generations=s.num_generations,
                        max_completion_length=completion_budget(inputs.config), temperature=s.temperature,
                        **(settings or {}))
    return trainer_class(model=inputs.model, reward_funcs=reward_functions(inputs.config, inputs.emit), args=args,
                         train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                         processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                         callbacks=inputs.callbacks, **extra)


PLOTS = (("reward (mean and spread)", ("reward", "reward_std")),
         ("groups with one reward for all answers", ("frac_reward_zero_std",)),
         ("KL to the reference", ("kl",)),
         ("answer length (tokens)", ("completions/mean_length", "completions/clipped_ratio")))
KL_BUDGET = 1.0  # nats per token; past it the policy has left the reference far behind (a KL-penalised run stays below)


def diagnose(metrics: list[dict]) -> list[str]:
    """Plain notes on an RL run's logged rows: no learning signal, drift, and the usual reward hacks.

    Hacks are read off the parts of the reward as TRL logs them (``rewards/<name>/mean``): a learned
    score (``reward_model``) or a shape reward (``format``) that rises while ``correct`` does not is
    the model pleasing the scorer, not solving the task; answers that grow into the length cap are a
    length exploit.
    """
    rows = [m for m in metrics if "reward" in m]
    if len(rows) < 2:
        return []
    notes, first, last = [], rows[0], rows[-1]
    step = last["step"]
    if last.get("frac_reward_zero_std", 0) >= 0.8:
        notes.append(f"In {last['frac_reward_zero_std']:.0%} of the groups every answer got the same reward (step "
                     f"{step}), so they teach nothing: add a denser reward (e.g. letters), sample more answers "
                     "(stage.num_generations) or raise stage.temperature.")
    if last.get("kl", 0) > KL_BUDGET:
        notes.append(f"KL to the reference is {last['kl']:.2f} at step {step}, above the {KL_BUDGET:g} budget: the "
                     "policy drifts far from the model it started as; raise stage.beta or lower the learning rate.")
    if last.get("completions/clipped_ratio", 0) >= 0.5 and \
            last.get("completions/mean_length", 0) > first.get("completions/mean_length", 0):
        notes.append(f"{last['completions/clipped_ratio']:.0%} of the answers run into the length cap and answers "
                     "are getting longer: a length exploit, if a reward pays for length; check the rewards.")
    correct = "rewards/correct/mean"
    for part in ("reward_model", "format", "letters"):
        key = f"rewards/{part}/mean"
        if key in first and key in last and correct in first and correct in last:
            if last[key] - first[key] > 0.1 and last[correct] <= first[correct]:
                notes.append(f"The {part} part of the reward rose ({first[key]:.2f} → {last[key]:.2f}) while "
                             f"correctness did not ({first[correct]:.2f} → {last[correct]:.2f}): the model may be "
                             f"pleasing the {part.replace('_', ' ')} rather than solving the task.")
    return notes
