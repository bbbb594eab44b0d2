"""Produces assets/retrieve-moment/vlanet-small-synth (same recipe as `cvkit train retrieve-moment --synthetic`)."""
import json
import sys

import torch

from cvkit.retrieve_moment.train import train_synth

torch.set_num_threads(1)
out = sys.argv[1] if len(sys.argv) > 1 else "assets/retrieve-moment/vlanet-small-synth"
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 40
budget = float(sys.argv[3]) if len(sys.argv) > 3 else None
r = train_synth(out, n_train=800, n_test=300, epochs=epochs, seed=0, budget_s=budget,
                log=lambda m: print(m, flush=True))
print(json.dumps({k: r[k] for k in ("model", "prior", "random", "seconds")}, indent=1))
