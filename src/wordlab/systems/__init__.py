"""LightningModules: loss, metrics, optimizer and scheduler wiring."""

from wordlab.systems.classifier import TextClassifier

__all__ = ["TextClassifier"]
