"""``LanguageModel``: predict the next token of a stream with a recurrent encoder."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics import MeanMetric, MinMetric

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.systems.base import TaskSystem
from wordlab.tasks.language_model.data import EOS, IGNORE

log = logging.getLogger(__name__)


class PositionLosses:
    """The loss of each stream position scored, kept in one tensor that grows by doubling.

    A list of small per-window tensors, each allocated between two windows' large logits,
    fragments glibc's heap: on IMDB's 738k test tokens with 20,000 words it grew by 17 MB a
    window until the kernel killed the process (22 GB). Writing into one buffer keeps nothing
    small alive between the logits.
    """

    def __init__(self) -> None:
        self.losses = torch.full((0,), math.nan)

    def add(self, positions: torch.Tensor, losses: torch.Tensor) -> None:
        positions, losses = positions.cpu(), losses.detach().float().cpu()
        needed = int(positions.max()) + 1 if len(positions) else 0
        if needed > len(self.losses):
            grown = torch.full((max(needed, 2 * len(self.losses)),), math.nan)
            grown[: len(self.losses)] = self.losses
            self.losses = grown
        self.losses[positions] = losses

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Positions scored, in stream order, and their losses."""
        positions = torch.nonzero(~torch.isnan(self.losses)).squeeze(1)
        return positions, self.losses[positions]


def detach(state: Any) -> Any:
    """A recurrent state cut from the graph of the window that made it (truncated BPTT)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach() if state is not None else None


class LanguageModel(TaskSystem):
    """A recurrent language model: word vectors, an LSTM or GRU, a decoder to the vocabulary.

    Dropout is Zaremba et al.'s (2014): on the word vectors (``dropout``), between the recurrent
    layers and on their output (the encoder's ``dropout``), never on the recurrent connections.

    Args:
        encoder: ``RNNEncoder`` with ``bidirectional=False``.
        embeddings: The initial word-vector table (from the ``embedding`` group).
        vocab: The vocabulary's tokens in id order (to read prompts and write samples).
        tie_weights: Share the word-vector table with the decoder (Press & Wolf 2017, Inan et
            al. 2017); the encoder's hidden size must equal the vectors' size.
        dropout: Dropout on each word vector.
        init_range: Initialise the recurrent and decoder weights uniformly on
            ``[-init_range, init_range]`` and the decoder bias at 0 (Zaremba: 0.1 small, 0.05
            medium); None keeps PyTorch's initialisation.
        prompts: Texts (in the data's tokenization) continued after each validation, the
            samples logged as ``samples/epoch_NNN.txt``.
        sample_tokens: Tokens generated per prompt.
        temperature: Sampling temperature of those samples.
        top_k: Sample among the k most likely tokens only (None: all).
        optimizer: Partial optimizer (None: a model rebuilt to predict).
        scheduler: Partial learning-rate scheduler, or None (see ``TaskSystem``).
        scheduler_interval: ``epoch`` or ``step``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        embeddings: InitialEmbeddings,
        vocab: Sequence[str],
        tie_weights: bool = False,
        dropout: float = 0.0,
        init_range: float | None = None,
        prompts: Sequence[str] = (),
        sample_tokens: int = 30,
        temperature: float = 1.0,
        top_k: int | None = None,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        if not hasattr(encoder, "stream"):
            raise ValueError(
                f"a language model reads token streams with a recurrent encoder: model=rnn, "
                f"not {type(encoder).__name__}"
            )
        if getattr(encoder.rnn, "bidirectional", False):
            raise ValueError(
                "a language model reads left to right: model.bidirectional=false "
                "(the language_model task's default)"
            )
        super().__init__(encoder, embeddings, optimizer, scheduler, scheduler_interval)
        if self.embedder.multichannel:
            raise ValueError(
                "embedding.multichannel is for classifiers; a language model has one table"
            )
        self.vocab = list(vocab)
        if len(self.vocab) != embeddings.weight.size(0):
            rows = embeddings.weight.size(0)
            raise ValueError(f"{len(self.vocab)} vocabulary tokens for a table of {rows} rows")
        if EOS not in self.vocab:
            raise ValueError(f"the vocabulary has no {EOS!r}")
        self.eos_id = self.vocab.index(EOS)
        self.input_dropout = nn.Dropout(dropout)
        features: int = encoder.output_dim  # type: ignore[assignment]
        self.decoder = nn.Linear(features, len(self.vocab))
        if init_range is not None:
            for name, parameter in self.encoder.named_parameters():
                if "rnn" in name:
                    nn.init.uniform_(parameter, -init_range, init_range)
            nn.init.uniform_(self.decoder.weight, -init_range, init_range)
            nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            table = self.embedder.embedding.weight
            if table.size(1) != features:
                raise ValueError(
                    f"system.tie_weights needs the hidden size ({features}, model.hidden_dim) to "
                    f"equal the word-vector size ({table.size(1)}, embedding.embedding_dim)"
                )
            if not table.requires_grad:
                raise ValueError("system.tie_weights trains the table: embedding.freeze=false")
            self.decoder.weight = table
        self.tie_weights = tie_weights
        self.prompts = list(prompts)
        self.sample_tokens = sample_tokens
        self.temperature = temperature
        self.top_k = top_k
        # Loss per token, averaged over every target of an epoch or split.
        self.train_nll, self.val_nll, self.test_nll = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_ppl_best = MinMetric()
        self._states: dict[str, Any] = {}
        self.test_losses = PositionLosses()
        self.samples: list[str] = []

    def _nll(self, stage: str) -> MeanMetric:
        return getattr(self, f"{stage}_nll")

    def forward(self, input_ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Next-token logits (B, T, V) of a window and the recurrent state it ends in."""
        vectors = self.input_dropout(self.embedder(input_ids))  # (B, T, D)
        outputs, state = self.encoder.stream(vectors, state)  # type: ignore[operator]
        return self.decoder(outputs), state  # (B, T, V)

    def _logits(self, batch: dict[str, Any], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B * T, V) and targets (B * T,) of a window, read from the state the last
        window of ``stage`` ended in (or zeros at the first)."""
        state = None if batch["first"] else self._states.get(stage)
        logits, state = self(batch["input_ids"], state)
        self._states[stage] = detach(state)
        return logits.reshape(-1, logits.size(-1)).float(), batch["targets"].reshape(-1)

    def window_losses(self, batch: dict[str, Any], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Token losses (B * T,) of a window and the mask of its real (not padding) targets."""
        logits, targets = self._logits(batch, stage)
        losses = F.cross_entropy(logits, targets, ignore_index=IGNORE, reduction="none")
        return losses, targets != IGNORE

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        # A training window has no padding: the mean loss directly, with no per-token tensor
        # (which costs a window's time in memory traffic: experiments/bench, B10).
        logits, targets = self._logits(batch, "train")
        loss = F.cross_entropy(logits, targets)
        self.train_nll.update(loss.detach(), weight=targets.numel())
        self.log("train/loss", loss, on_step=True, on_epoch=False, batch_size=targets.numel())
        return loss * batch["scale"]  # a window of other length counts in proportion

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        nll = self.train_nll.compute()
        self.log_dict({"train/loss_epoch": nll, "train/ppl": nll.exp()})
        self.train_nll.reset()

    def _evaluate_step(self, batch: dict[str, Any], stage: str) -> None:
        losses, real = self.window_losses(batch, stage)
        self._nll(stage).update(losses[real])
        if stage == "test":
            positions = batch["positions"].reshape(-1)[real]
            self.test_losses.add(positions, losses[real])

    def _metrics(self, stage: str) -> dict[str, torch.Tensor]:
        nll = self._nll(stage).compute()  # mean over every token of the split
        self._nll(stage).reset()
        return {f"{stage}/loss": nll, f"{stage}/ppl": nll.exp(), f"{stage}/bpw": nll / math.log(2)}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        metrics = self._metrics("val")
        if not self.trainer.sanity_checking:
            self.val_ppl_best.update(metrics["val/ppl"])
            metrics["val/ppl_best"] = self.val_ppl_best.compute()
            self._log_samples()
        self.log_dict(metrics, prog_bar=True)

    def on_test_epoch_start(self) -> None:
        self.test_losses = PositionLosses()

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self.log_dict(self._metrics("test"))

    def test_report(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Stream position and loss of every target of the last test, in stream order."""
        return self.test_losses.result()

    # ----------------------------------------------------------------- generation

    def encode_prompt(self, prompt: str) -> list[int]:
        """Ids of a prompt's space-separated tokens, after an ``<eos>`` (a line's start)."""
        index = {t: i for i, t in enumerate(self.vocab)}
        return [self.eos_id] + [index.get(t, 1) for t in prompt.split()]

    @torch.no_grad()
    def generate(
        self,
        context: Sequence[int],
        max_tokens: int = 30,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        stop_at_eos: bool = True,
    ) -> list[int]:
        """Sample up to ``max_tokens`` ids after ``context`` (ids; start it with ``<eos>``).

        ``temperature`` 0 takes the most likely token each time; ``top_k`` samples among the
        k likeliest. Generation stops after an ``<eos>`` when ``stop_at_eos``.
        """
        if temperature < 0:
            raise ValueError(f"temperature={temperature}: expected 0 or more")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k={top_k}: expected at least 1")
        training = self.training
        self.eval()
        ids = torch.tensor([list(context)], device=self.device)  # (1, T)
        logits, state = self(ids)
        generated: list[int] = []
        for _ in range(max_tokens):
            scores = logits[0, -1].float()  # (V,)
            scores[PAD_ID] = -math.inf
            if temperature == 0:
                token = int(scores.argmax())
            else:
                scores = scores / temperature
                if top_k is not None and top_k < scores.numel():
                    threshold = scores.topk(top_k).values[-1]
                    scores = scores.masked_fill(scores < threshold, -math.inf)
                probabilities = scores.softmax(-1).cpu()
                token = int(torch.multinomial(probabilities, 1, generator=generator))
            generated.append(token)
            if stop_at_eos and token == self.eos_id:
                break
            logits, state = self(torch.tensor([[token]], device=self.device), state)
        self.train(training)
        return generated

    def _log_samples(self) -> None:
        """Continue each prompt; keep the text and log it to MLflow as the epoch's sample."""
        if not self.prompts:
            return
        generator = torch.Generator().manual_seed(self.current_epoch)
        lines = []
        for prompt in self.prompts:
            ids = self.generate(
                self.encode_prompt(prompt),
                self.sample_tokens,
                self.temperature,
                self.top_k,
                generator,
            )
            lines.append(f"{prompt} | {' '.join(self.vocab[i] for i in ids)}")
        text = f"epoch {self.current_epoch}\n" + "\n".join(lines) + "\n"
        self.samples.append(text)
        for logger in self.loggers:
            client: Any = getattr(logger, "experiment", None)
            run_id = getattr(logger, "run_id", None)
            if run_id and hasattr(client, "log_text"):  # MLflow's
                client.log_text(run_id, text, f"samples/epoch_{self.current_epoch:03d}.txt")
