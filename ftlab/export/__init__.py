"""Compression and export: a run's model merged, quantised and converted, each artifact re-checked.

``formats/`` is the registry of artifact kinds (one file each); ``runtime``
opens any artifact or run in the runtime it will be served with, so sizes,
latencies and answers are measured where they will be used; ``exporter``
builds the asked formats (``ftlab export``) and writes ``export.json``;
``quality_recheck`` pairs each artifact's answers with the unquantised model's
item by item; ``gate`` compares what the artifact shows (chat template, EOS,
tokenizer, answers) with the trained model.
"""
