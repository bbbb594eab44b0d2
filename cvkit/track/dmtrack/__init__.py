"""DMTrack (Zhang et al., CVPR 2022): the anchor head with score voting, the online regressor (ONR), and its recipe."""
