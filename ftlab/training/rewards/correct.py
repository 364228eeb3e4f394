"""1 when the answer is the reference exactly (after trimming spaces), else 0: the task's own success."""

from ftlab.training.rewards import Reward


def score(answers, references):
    return [float(a.strip() == r.strip()) for a, r in zip(answers, references)]


ENTRY = Reward("correct", "1 for exactly the right answer, 0 otherwise.", score)
