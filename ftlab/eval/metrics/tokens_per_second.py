"""Generation throughput: answer tokens produced per second of generation."""

from ftlab.eval.metrics import Metric


def compute(seconds: list[float], answer_tokens: list[int]) -> float:
    return sum(answer_tokens) / sum(seconds) if sum(seconds) else float("nan")


ENTRY = Metric("tokens_per_second", "Answer tokens generated per second.", compute,
               needs=("seconds", "answer_tokens"), kind="cost", order=2)
