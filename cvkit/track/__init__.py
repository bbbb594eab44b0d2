"""Single-object tracking: SiamFC-family trackers on a shared Siamese core, metrics, data and training."""
