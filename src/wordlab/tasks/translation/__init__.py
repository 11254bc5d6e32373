"""Translation: an RNN encoder-decoder with attention; BLEU and chrF, greedy and beam search."""

from wordlab.tasks.translation.data import PairDataModule
from wordlab.tasks.translation.system import Translator

__all__ = ["PairDataModule", "Translator"]
