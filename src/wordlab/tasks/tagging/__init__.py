"""Sequence labelling: named entities, part-of-speech tags, chunks."""
