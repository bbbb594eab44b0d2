"""The SiamFC family: the shared Siamese core and tracker (siamfc.py), SE-SiamFC (paper size), its lite version on
the frozen EfficientNet-Lite0 trunk, the training-free siam-lite, and their training recipe (train.py)."""
