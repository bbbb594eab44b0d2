"""Shared neural-network building blocks: backbones, ops and common layers."""
