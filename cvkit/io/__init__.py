"""Shared readers and writers (video, images, boxes, atomic output files)."""
