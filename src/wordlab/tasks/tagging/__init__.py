"""Sequence labelling: named entities, part-of-speech tags, chunks."""

from wordlab.tasks.tagging.data import TaggingDataModule
from wordlab.tasks.tagging.system import SequenceTagger

__all__ = ["SequenceTagger", "TaggingDataModule"]
