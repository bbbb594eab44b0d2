"""Domain-adaptive object detection (MCAR, Zhao et al. ECCV 2020): a plain-torch two-stage detector with
multi-label conditional adversarial alignment and prediction-consistency regularisation."""
