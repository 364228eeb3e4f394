"""Memory of a TRL DPO step on the built-in tiny model, full tuning vs LoRA, against the estimator's stage terms.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/dpo_reference_memory.py full   # or lora

The policy, the reference copy TRL makes and the optimizer state are read from
the trainer's objects after step 1; the second step's peak above them comes
from PyTorch's profiler (as ftlab.training.memory_probe does).  Measured on a
2-core CPU (batch 4 pairs, max_length 64, fp32):

    full: policy 3,283,456  reference 3,283,456 (estimate 3,283,456)  optimizer 6,566,912 (exact)
          step peak above them 39.3 MB (estimate: grads + activations + reference pass - overlap = 31.3 MB)
          total 52.4 MB, estimate 44.4 MB (-15%)
    lora: reference 0 (no copy: the adapter is disabled; estimate 0)  policy+adapter 3,594,752 (exact)
          step peak above them 38.9 MB (estimate 28.8 MB); total 43.1 MB, estimate 33.0 MB (-23%)

The parameter terms are exact; the step's transient is under-estimated by about 10 MB in both, the same
amount, so it is not the reference term (TRL's DPO also computes entropy and token-accuracy metrics).
"""
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset
from transformers import TrainerCallback
from trl import DPOConfig, DPOTrainer

from ftlab.config import Config
from ftlab.models.estimate import GB, Hardware, estimate_memory
from ftlab.models.loader import load_tokenizer
from ftlab.training.memory_probe import _nbytes
from ftlab.training.preparation import load_base

method = sys.argv[1]
B, L = 4, 64
cfg = Config().override([f"method.name={method}", "train.stage=dpo", "model.dtype=float32", "train.precision=fp32",
                         f"train.batch_size={B}", f"data.max_length={L}", "method.lora_r=8"])
tok = load_tokenizer("ftlab/tiny-chat")
model = load_base(cfg, name="ftlab/tiny-chat")
rows = [json.loads(line) for line in Path("examples/data/preference.jsonl").read_text().splitlines()] * 8
# long enough answers that every sequence is padded/truncated to max_length
data = Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}],
                           "chosen": [{"role": "assistant", "content": (r["chosen"] + " ") * 6}],
                           "rejected": [{"role": "assistant", "content": (r["rejected"] + " ") * 12}]} for r in rows])
peft_config = None
if method == "lora":
    from peft import LoraConfig
    peft_config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")


class Probe(TrainerCallback):
    def __init__(self):
        from torch.profiler import ProfilerActivity, profile
        self.prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
        self.static = None

    def on_step_begin(self, args, state, control, **kw):
        if state.global_step == 1:
            tr = trainer
            opt = tr.optimizer
            states = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0]
            ref = list(tr.ref_model.parameters()) if getattr(tr, "ref_model", None) is not None else []
            self.static = {"policy": _nbytes(list(tr.model.parameters())), "reference": _nbytes(ref),
                           "optimizer": _nbytes(states)}
            self.prof.start()

    def on_step_end(self, args, state, control, **kw):
        if state.global_step == 2:
            self.prof.stop()


probe = Probe()
args = DPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=B, max_length=L, max_steps=2,
                 report_to=[], logging_steps=1, save_strategy="no", use_cpu=True, beta=0.1,
                 learning_rate=1e-4, gradient_accumulation_steps=1, dataloader_num_workers=0)
trainer = DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tok, peft_config=peft_config,
                     callbacks=[probe])
t = time.time()
trainer.train()
records = sorted((e.start_ns(), e.nbytes()) for e in probe.prof.profiler.kineto_results.events() if e.name() == "[memory]")
live = peak = 0
for _, n in records:
    live += n; peak = max(peak, live)
est = estimate_memory("ftlab/tiny-chat", cfg, Hardware(device="cpu"))
b = est.breakdown
out = {"method": method, "seconds": round(time.time() - t, 1), "measured": {**probe.static, "step_peak_above_static": peak,
       "total": sum(probe.static.values()) + peak},
       "estimate": {k: round(v * GB) for k, v in b.items()}, "estimate_total": round(est.total_gb * GB),
       "overlap": round(est.overlap_gb * GB)}
print(json.dumps(out, indent=1))
