"""AutoMatch (Zhang et al., ICCV 2021): the network and tracker, its learnable matching operators, and its recipe."""
