"""Writes cvkit/retrieve_moment/imagenet_classes_minilm.npy: the ImageNet class names embedded by MiniLM-L6."""
import numpy as np
import torch

from cvkit.retrieve_moment.concepts import CLASS_EMB_FILE, class_names
from cvkit.retrieve_moment.text import TextEncoder

torch.set_num_threads(1)
np.save(CLASS_EMB_FILE, TextEncoder().sentence(class_names()).numpy().astype(np.float16))
print(CLASS_EMB_FILE)
