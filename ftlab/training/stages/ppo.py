"""PPO with a learned value model: listed so that asking for it gets a reason and a way forward, not an unknown name.

TRL moved ``PPOTrainer`` to ``trl.experimental.ppo`` and removed it in TRL
1.13; ftlab trains on TRL 1.16 or newer, which has no PPO trainer.  ftlab does
not carry a PPO trainer of its own (DESIGN: use the ecosystem's trainers), and
the maintained PPO libraries for Hugging Face models (OpenRLHF, verl) are
multi-GPU systems built on Ray and vLLM, not a notebook on a CPU.  GRPO and
RLOO optimise the same rewards and reward models (``stage.rewards``,
``stage.reward_model``) with PPO's clipped objective or REINFORCE, and need no
value model: a group of answers to the same prompt is the baseline instead.
"""

from __future__ import annotations

from ftlab.errors import FtlabError
from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._rl import RL_SETTINGS


def unavailable() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = f"TRL {version('trl')}"
    except PackageNotFoundError:
        installed = "this environment (no TRL installed)"
    return (f"the ppo stage needs TRL's PPOTrainer, which {installed} does not have (TRL removed "
            "trl.experimental.ppo in 1.13). Use train.stage=grpo or rloo: they take the same stage.rewards and "
            "stage.reward_model, and need no value model.")


def check(config):
    yield "train.stage", unavailable()


def build_trainer(inputs: TrainerInputs):
    raise FtlabError(unavailable())


ENTRY = Stage("ppo", "PPO with a value model: not available on TRL 1.13 or newer; use grpo or rloo.", rows="prompt",
              build_trainer=build_trainer, reads=RL_SETTINGS, reference=True, check=check, order=7)
