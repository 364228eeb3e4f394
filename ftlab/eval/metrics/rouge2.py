"""ROUGE-2: overlap of word pairs (character pairs in Chinese): rewards getting the order locally right."""

from ftlab.eval.metrics._rouge import rouge_metric

ENTRY = rouge_metric("rouge2", "ROUGE-2 F-measure (word-pair overlap), mean over examples, 0-1.", order=5)
