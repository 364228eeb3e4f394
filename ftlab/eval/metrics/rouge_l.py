"""ROUGE-L: the longest common subsequence of words: order counts, gaps are allowed."""

from ftlab.eval.metrics._rouge import rouge_metric

ENTRY = rouge_metric("rougeL", "ROUGE-L F-measure (longest common word subsequence), mean over examples, 0-1.",
                     order=6)
