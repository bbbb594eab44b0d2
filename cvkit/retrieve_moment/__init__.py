"""Video moment retrieval from a sentence (VLANet, Ma et al. ECCV 2020), the blind temporal prior, and an
ImageNet concept bank; see docs/retrieve-moment.md."""
