"""ROUGE-1: overlap of single words (single characters in Chinese); see ``_rouge`` for the tokenizer."""

from ftlab.eval.metrics._rouge import rouge_metric

ENTRY = rouge_metric("rouge1", "ROUGE-1 F-measure (word overlap; Chinese by character), mean over examples, 0-1.",
                     order=4)
