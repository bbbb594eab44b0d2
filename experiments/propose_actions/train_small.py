"""Run the synthetic recipe exactly as `cvkit train propose-actions --data synthetic` does (used before the CLI
existed; same code path: cvkit.propose_actions.train)."""
import sys

import torch

from cvkit.propose_actions.train import (
    TrainConfig,
    build_model_config,
    profile_dim,
    save_bcgnn,
    synthetic_samples,
    train_bcgnn,
)

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
out = sys.argv[2] if len(sys.argv) > 2 else "assets/propose-actions/bcgnn-small-synth"
cfg = TrainConfig(data="synthetic", size="small", input="profile", videos=3000, steps=steps, batch=16, lr=1e-3,
                  weight_decay=1e-4, seed=0, threads=1)
torch.set_num_threads(1)
samples = synthetic_samples(cfg)
mc = build_model_config(cfg, profile_dim(), 100)


def log(step, total, loss, el):
    if step % 25 == 0 or step == total - 1:
        print(f"step {step + 1}/{total} loss {loss:.3f} {el:.0f} s", flush=True)


model, summary = train_bcgnn(cfg, samples, mc, log)
cmd = (f"cvkit train propose-actions --data synthetic --size small --videos 3000 --steps {steps} --batch 16 "
       f"--lr 1e-3 --weight-decay 1e-4 --seed 0 -o {out}")
print(save_bcgnn(model, summary, out, "bcgnn-small-synth", cmd, "synthetic:3000 videos (seed 1000)", 0))
print(summary)
