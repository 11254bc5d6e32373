"""``Translator``: an RNN encoder-decoder with attention (Bahdanau 2015, Luong 2015)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics import MaxMetric, MeanMetric

from wordlab.data.tokenizers import Tokenizer
from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.embedder import TokenEmbedder
from wordlab.models.seq2seq import AttentionDecoder, Memory, beam_search, greedy_decode
from wordlab.systems.base import TaskSystem
from wordlab.tasks.translation import metrics
from wordlab.tasks.translation.data import BOS, EOS

log = logging.getLogger(__name__)


class Translator(TaskSystem):
    """Source word vectors, a recurrent encoder (per-token states), an attention decoder.

    Training reads the reference's previous token at each step (teacher forcing), or with
    probability ``1 - teacher_forcing`` the model's own previous prediction. Validation scores
    the loss per target token and greedy translations (BLEU, the monitor); the test translates
    with the configured decoder (beam search when ``beam_size`` > 1) and greedily.

    Args:
        encoder: ``RNNEncoder`` (bidirectional or not) over the source.
        embeddings: The source side's initial word vectors.
        target_embeddings: The target side's; None: the source's table serves both sides
            (``data.shared_vocab``: one vocabulary).
        target_vocab: The target vocabulary's tokens in id order (with ``<bos>``, ``<eos>``).
        vocab: The source vocabulary's tokens in id order (to show what the model read).
        target_tokenizer: Tokenizes references for ``bleu_tok`` (None: a model rebuilt to
            translate, which needs none).
        target_language: The target's language (detokenizer rules).
        attention: ``additive`` (Bahdanau), ``dot`` or ``general`` (Luong's multiplicative
            scores), ``none`` (the source summary at every step: Cho et al. 2014).
        decoder_cell: ``gru`` or ``lstm``.
        decoder_hidden_dim: Hidden size of the decoder.
        decoder_layers: Stacked decoder layers.
        attention_dim: Size of the additive attention's hidden layer (None: the decoder's).
        dropout: Dropout on the word vectors of both sides (and between decoder layers).
        teacher_forcing: Probability of reading the reference's previous token in training.
        beam_size: Beams of the test decoder (1: greedy).
        length_penalty: GNMT's length normalisation exponent for beam search (0: none).
        max_length_ratio: A translation has at most ``max_length_ratio * source length +
            max_length_offset`` tokens, its ``<eos>`` among them.
        max_length_offset: See ``max_length_ratio``.
        optimizer: Partial optimizer (None: a model rebuilt to translate).
        scheduler: Partial learning-rate scheduler, or None (see ``TaskSystem``).
        scheduler_interval: ``epoch`` or ``step``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        embeddings: InitialEmbeddings,
        target_embeddings: InitialEmbeddings | None,
        target_vocab: Sequence[str],
        vocab: Sequence[str] = (),
        target_tokenizer: Tokenizer | None = None,
        target_language: str = "en",
        attention: str = "additive",
        decoder_cell: str = "gru",
        decoder_hidden_dim: int = 256,
        decoder_layers: int = 1,
        attention_dim: int | None = None,
        dropout: float = 0.3,
        teacher_forcing: float = 1.0,
        beam_size: int = 5,
        length_penalty: float = 1.0,
        max_length_ratio: float = 1.5,
        max_length_offset: int = 10,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        if not hasattr(encoder, "encode_source"):
            raise ValueError(
                f"translation reads the source with a recurrent encoder: model=rnn, "
                f"not {type(encoder).__name__}"
            )
        if not 0 <= teacher_forcing <= 1:
            raise ValueError(f"system.teacher_forcing={teacher_forcing}: expected 0 to 1")
        if beam_size < 1:
            raise ValueError(f"system.beam_size={beam_size}: expected at least 1")
        if max_length_ratio <= 0 or max_length_offset < 0:
            raise ValueError(
                "system.max_length_ratio must be positive and system.max_length_offset at "
                f"least 0; got {max_length_ratio} and {max_length_offset}"
            )
        super().__init__(encoder, embeddings, optimizer, scheduler, scheduler_interval)
        if self.embedder.multichannel:
            raise ValueError("embedding.multichannel is for classifiers")
        self.target_vocab = list(target_vocab)
        self.shared_embeddings = target_embeddings is None
        rows = (embeddings if target_embeddings is None else target_embeddings).weight.size(0)
        if len(self.target_vocab) != rows:
            raise ValueError(f"{len(self.target_vocab)} target tokens for a table of {rows} rows")
        for token in (BOS, EOS):
            if token not in self.target_vocab:
                raise ValueError(f"the target vocabulary has no {token!r}")
        self.bos_id, self.eos_id = self.target_vocab.index(BOS), self.target_vocab.index(EOS)
        self.vocab = list(vocab)
        self.target_embedder = (
            self.embedder if target_embeddings is None else TokenEmbedder(target_embeddings)
        )
        self.input_dropout = nn.Dropout(dropout)
        self.decoder = AttentionDecoder(
            embedding_dim=self.target_embedder.output_dim,
            hidden_dim=decoder_hidden_dim,
            encoder_dim=int(encoder.output_dim),  # type: ignore[arg-type]
            vocab_size=len(self.target_vocab),
            cell=decoder_cell,
            attention=attention,
            num_layers=decoder_layers,
            dropout=dropout,
            attention_dim=attention_dim,
        )
        self.attention = attention
        self.target_tokenizer = target_tokenizer
        self.target_language = target_language
        self.teacher_forcing = teacher_forcing
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.max_length_ratio = max_length_ratio
        self.max_length_offset = max_length_offset
        self.forbidden = (PAD_ID, self.bos_id)
        self.train_nll, self.val_nll, self.test_nll = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_bleu_best = MaxMetric()
        self._outputs: dict[str, list[dict[str, Any]]] = {"val": [], "test": []}
        # what the last test wrote: one row per test sentence, in the split's order
        self.test_rows: list[dict[str, Any]] = []
        self.bleu_signature = ""
        # draws of teacher forcing, seeded from the run's seed
        self._generator = torch.Generator().manual_seed(torch.initial_seed() % 2**63)

    # ----------------------------------------------------------------- model

    def embed_target(self, ids: torch.Tensor) -> torch.Tensor:
        """Target token vectors (the decoder applies its dropout to them)."""
        return self.target_embedder(ids)

    def encode_source(self, input_ids: torch.Tensor) -> Memory:
        """The decoder's view of a padded source batch (B, S)."""
        mask = input_ids != PAD_ID  # (B, S)
        vectors = self.input_dropout(self.embedder(input_ids))  # (B, S, D)
        outputs, summary = self.encoder.encode_source(vectors, mask)  # type: ignore[operator]
        return self.decoder.memory(outputs, mask, summary)

    def forward(
        self, input_ids: torch.Tensor, decoder_inputs: torch.Tensor, teacher_forcing: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) of each target step and the attention weights (B, T, S)."""
        memory = self.encode_source(input_ids)
        return self.decoder(
            self.embed_target, decoder_inputs, memory, teacher_forcing, self._generator
        )

    def max_lengths(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Most tokens (with ``<eos>``) of each source's translation, (B,)."""
        lengths = (input_ids != PAD_ID).sum(1).float()
        return (lengths * self.max_length_ratio).long() + self.max_length_offset

    @torch.no_grad()
    def translate_ids(
        self,
        input_ids: torch.Tensor,
        beam_size: int | None = None,
        length_penalty: float | None = None,
    ) -> tuple[list[list[int]], list[torch.Tensor]]:
        """Target ids (without ``<bos>``/``<eos>``) of each source row, and the attention
        weights of each (generated tokens x source tokens); ``beam_size`` 1 is greedy."""
        beam = self.beam_size if beam_size is None else beam_size
        penalty = self.length_penalty if length_penalty is None else length_penalty
        training = self.training
        self.eval()
        memory = self.encode_source(input_ids)
        limits = self.max_lengths(input_ids)
        if beam == 1:
            result = greedy_decode(
                self.decoder,
                self.embed_target,
                memory,
                self.bos_id,
                self.eos_id,
                limits,
                self.forbidden,
            )
        else:
            result = beam_search(
                self.decoder,
                self.embed_target,
                memory,
                self.bos_id,
                self.eos_id,
                limits,
                beam,
                penalty,
                self.forbidden,
            )
        self.train(training)
        return result

    def tokens(self, ids: Sequence[int]) -> list[str]:
        return [self.target_vocab[i] for i in ids]

    # ----------------------------------------------------------------- training

    def _loss(
        self, batch: dict[str, Any], teacher_forcing: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss per target token of a batch, and the number of target tokens (a tensor on
        the batch's device: no wait for the GPU)."""
        logits, _ = self(batch["input_ids"], batch["decoder_inputs"], teacher_forcing)
        targets = batch["targets"]  # (B, T), <pad> after <eos>
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=PAD_ID
        )
        return loss, (targets != PAD_ID).sum()

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss, tokens = self._loss(batch, self.teacher_forcing)
        self.train_nll.update(loss.detach(), weight=tokens)
        self.log("train/loss", loss, on_step=True, on_epoch=False)
        return loss

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        nll = self.train_nll.compute()
        self.log_dict({"train/loss_epoch": nll, "train/ppl": nll.exp()})
        self.train_nll.reset()

    def _evaluate_step(self, batch: dict[str, Any], stage: str) -> None:
        """Loss per target token (teacher forcing), greedy translations, and at the test the
        configured decoder's translations with their attention weights."""
        loss, tokens = self._loss(batch, 1.0)
        getattr(self, f"{stage}_nll").update(loss, weight=tokens)
        input_ids = batch["input_ids"]
        greedy, weights = self.translate_ids(input_ids, beam_size=1)
        if stage == "test" and self.beam_size > 1:
            hypotheses, weights = self.translate_ids(input_ids)
        else:
            hypotheses = greedy
        lengths = (input_ids != PAD_ID).sum(1).tolist()
        source_ids = input_ids.cpu().tolist()
        for i, index in enumerate(batch["index"].tolist()):
            row = {
                "index": index,
                "source": batch["sources"][i],
                "reference": batch["references"][i],
                "source_length": lengths[i],
                "greedy": greedy[i],
                "hypothesis": hypotheses[i],
            }
            if stage == "test":
                row["source_tokens"] = [self.source_token(t) for t in source_ids[i][: lengths[i]]]
                row["weights"] = weights[i].cpu()
            self._outputs[stage].append(row)

    def source_token(self, token_id: int) -> str:
        return self.vocab[token_id] if token_id < len(self.vocab) else str(token_id)

    def _scores(self, rows: list[dict[str, Any]], key: str) -> dict[str, float]:
        tokens = [self.tokens(r[key]) for r in rows]
        hypotheses = [metrics.detokenize(t, self.target_language) for t in tokens]
        references = [r["reference"] for r in rows]
        tokenizer = self.target_tokenizer
        reference_tokens = [tokenizer(r) if tokenizer else r.split() for r in references]
        for row, text in zip(rows, hypotheses, strict=True):
            row[f"{key}_text"] = text
        return metrics.corpus_scores(hypotheses, references, tokens, reference_tokens)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate_step(batch, "val")

    def on_validation_epoch_start(self) -> None:
        self._outputs["val"] = []

    def on_validation_epoch_end(self) -> None:
        nll = self.val_nll.compute()
        self.val_nll.reset()
        scores = self._scores(self._outputs["val"], "greedy")
        logged = {"val/loss": nll, "val/ppl": nll.exp()}
        logged |= {f"val/{k}": torch.tensor(v) for k, v in scores.items()}
        if not self.trainer.sanity_checking:
            self.val_bleu_best.update(logged["val/bleu_lc"])
            logged["val/bleu_lc_best"] = self.val_bleu_best.compute()
        self.log_dict(logged, prog_bar=True)
        self._outputs["val"] = []

    def on_test_epoch_start(self) -> None:
        self._outputs["test"] = []

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self.test_batch(batch)

    def test_batch(self, batch: dict[str, Any]) -> None:
        """Score a test batch outside a trainer (``wordlab-eval``); ``finish_test`` sums up."""
        self._evaluate_step(batch, "test")

    def finish_test(self) -> dict[str, float]:
        """The test's scores (configured decoder, and ``*_greedy``); keeps its rows, in the
        split's order, as ``test_rows``."""
        nll = self.test_nll.compute()
        self.test_nll.reset()
        rows = sorted(self._outputs["test"], key=lambda r: r["index"])
        scores = self._scores(rows, "hypothesis")
        greedy = self._scores(rows, "greedy")
        finished = {"test/loss": float(nll), "test/ppl": float(nll.exp())}
        finished |= {f"test/{k}": v for k, v in scores.items()}
        finished |= {f"test/{k}_greedy": v for k, v in greedy.items()}
        self.test_rows = rows
        self.bleu_signature = metrics.bleu_signature()
        return finished

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.finish_test())
        for logger in self.loggers:  # the signature of the scores, as a tag of the run
            client: Any = getattr(logger, "experiment", None)
            run_id = getattr(logger, "run_id", None)
            if run_id and hasattr(client, "set_tag"):  # MLflow's
                client.set_tag(run_id, "bleu_signature", self.bleu_signature)
