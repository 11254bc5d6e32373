"""Text classification: one label per text (sentiment, topic, question type)."""

from wordlab.tasks.classification.system import TextClassifier

__all__ = ["TextClassifier"]
