"""Plain ``nn.Module`` encoders and heads: no Lightning, no Hydra, no logging."""

from wordlab.models.bag import BagEncoder
from wordlab.models.cnn import CNNEncoder
from wordlab.models.heads import ClassificationHead
from wordlab.models.rnn import RNNEncoder

__all__ = ["BagEncoder", "CNNEncoder", "ClassificationHead", "RNNEncoder"]
