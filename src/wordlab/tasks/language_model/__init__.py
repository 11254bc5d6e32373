"""Language modelling: predict the next word of a token stream; perplexity, generation."""

from wordlab.tasks.language_model.data import StreamDataModule
from wordlab.tasks.language_model.system import LanguageModel

__all__ = ["LanguageModel", "StreamDataModule"]
