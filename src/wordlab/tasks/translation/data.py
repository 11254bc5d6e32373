"""``PairDataModule``: pairs of texts (a source and its translation), served in padded batches.

Two columns of any corpus the data group reads (``data.source_field``, ``data.target_field``)
are tokenized, each with its language's rules, into a vocabulary per side (or one shared by
both, ``data.shared_vocab``). The target side gets ``<bos>`` and ``<eos>``: a batch holds the
decoder's inputs (``<bos>`` and the sentence) and its targets (the sentence and ``<eos>``).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc
import torch
from torch.utils.data import Dataset

from wordlab.data import corpus, prepare, splits
from wordlab.data.datamodule import TextDataModule
from wordlab.data.errors import DataError
from wordlab.data.tokenizers import Tokenizer, make_tokenizer
from wordlab.data.vocab import PAD_ID, Vocabulary

log = logging.getLogger(__name__)

BOS, EOS = "<bos>", "<eos>"
TOKEN_COLUMNS = ("source_tokens", "target_tokens")


class PairDataModule(TextDataModule):
    """Load a corpus of aligned texts in two columns as source and target token sequences.

    Takes the loading, splitting and batching arguments of ``TextDataModule`` (``min_freq`` and
    ``max_size`` hold for each side's vocabulary, ``max_length`` truncates both sides), and:

    Args:
        source_field: Column of the texts to translate (e.g. ``de``).
        target_field: Column of their translations (e.g. ``en``).
        source_language: Language of the source, for the tokenizer's rules (``spacy``); default:
            ``source_field`` (Multi30k's columns are language codes).
        target_language: Language of the target (tokenizer and detokenizer); default:
            ``target_field``.
        shared_vocab: One vocabulary for both sides (from both sides' training text).
        length_ratio: A pair whose longer side has more than this many times the tokens of the
            shorter one is counted (``{split}_odd_ratio``) and kept: often a misalignment.
        target_vocab: A trained model's target vocabulary (evaluation).
    """

    def __init__(
        self,
        path: str,
        source_field: str = "de",
        target_field: str = "en",
        source_language: str | None = None,
        target_language: str | None = None,
        shared_vocab: bool = False,
        length_ratio: float = 3.0,
        target_vocab: Vocabulary | None = None,
        tokenizer: str = "regex",
        lowercase: bool = False,
        **options: Any,
    ) -> None:
        for option in ("phrase_labels", "fold"):
            if options.get(option) is not None:
                raise ValueError(f"data.{option} is for classification; translation reads pairs")
        for option in ("text_field", "label_field"):
            options.pop(option, None)
        if source_field == target_field:
            raise ValueError(
                f"data.source_field and data.target_field are both {source_field!r}: "
                "translation needs two columns"
            )
        if length_ratio <= 1:
            raise ValueError(f"data.length_ratio={length_ratio}: expected more than 1")
        super().__init__(
            path,
            text_field=source_field,
            label_field="",
            tokenizer=tokenizer,
            lowercase=lowercase,
            **options,
        )
        self.source_language = source_language or source_field
        self.target_language = target_language or target_field
        self.settings |= {
            "target_field": target_field,
            "source_language": self.source_language,
            "target_language": self.target_language,
            "shared_vocab": shared_vocab,
            "length_ratio": length_ratio,
        }
        self.tokenizer = make_tokenizer(tokenizer, lowercase, self.source_language)
        self.target_tokenizer = make_tokenizer(tokenizer, lowercase, self.target_language)
        self.target_vocab = target_vocab
        self._pairs: dict[str, PairSplit] = {}

    @property
    def source_field(self) -> str:
        return str(self.settings["text_field"])

    @property
    def target_field(self) -> str:
        return str(self.settings["target_field"])

    def compute_fingerprint(self) -> str:
        import hashlib

        base = super().compute_fingerprint()
        if self.target_vocab is None:
            return base
        tokens = "\n".join(self.target_vocab.tokens).encode()
        return hashlib.sha256(base.encode() + tokens).hexdigest()[:16]

    # ----------------------------------------------------------------- preparation

    def _build(self) -> None:
        source = self.path
        fields = (self.source_field, self.target_field)
        evaluation = self.vocab is not None
        raw = corpus.load_raw(**self.load_options)
        if not evaluation and "train" not in raw:
            raise DataError(f"{source}: no train split; found splits {sorted(raw)}")
        selected = {}
        for name, dataset in raw.items():
            for field, option in zip(fields, ("source_field", "target_field"), strict=True):
                if field not in dataset.column_names:
                    raise DataError(
                        f"{source}: split {name} has no column {field!r} (data.{option}); "
                        f"available columns: {dataset.column_names}"
                    )
                splits.check_text_column(dataset, field, name, source)
            if dataset.num_rows == 0:
                raise DataError(f"{source}: split {name} is empty")
            selected[name] = dataset.select_columns(list(fields)).rename_columns(
                {self.source_field: "source", self.target_field: "target"}
            )
        if evaluation and len(selected) == 1:  # one file to score: it is every split
            only = next(iter(selected.values()))
            selected = dict.fromkeys(("train", "validation", "test"), only)
        raw = datasets.DatasetDict(selected)
        skipped = {}
        for name in list(raw):  # a pair with an empty side teaches nothing: skip and count
            before = raw[name].num_rows
            raw[name] = raw[name].filter(
                lambda s, t: [_text(a) and _text(b) for a, b in zip(s, t, strict=True)],
                batched=True,
                input_columns=["source", "target"],
            )
            skipped[name] = before - raw[name].num_rows
            if skipped[name]:
                log.warning(
                    "%s: skipped %d pairs of split %s with an empty %s or %s text",
                    source,
                    skipped[name],
                    name,
                    *fields,
                )
            if raw[name].num_rows == 0:
                raise DataError(f"{source}: every pair of split {name} has an empty side")
        raw = splits.carve_splits(
            raw,
            source,
            self.settings["validation_fraction"],
            self.settings["test_fraction"],
            self.settings["split_seed"],
            stratify=False,
        )
        raw = self.training_subset(raw, stratify=False)
        max_length = self.settings["max_length"]
        tokenized = _tokenize_side(raw, "source", self.tokenizer, max_length, self.num_proc)
        tokenized = _tokenize_side(
            tokenized, "target", self.target_tokenizer, max_length, self.num_proc
        )
        for name in list(tokenized):  # texts of punctuation the tokenizer drops, say
            before = tokenized[name].num_rows
            tokenized[name] = tokenized[name].filter(
                lambda s, t: [bool(a) and bool(b) for a, b in zip(s, t, strict=True)],
                batched=True,
                input_columns=["source_tokens", "target_tokens"],
            )
            skipped[name] = skipped.get(name, 0) + before - tokenized[name].num_rows
            if tokenized[name].num_rows == 0:
                raise DataError(f"{source}: no pair of split {name} has tokens on both sides")
        if self.vocab is None:
            self._build_vocabularies(tokenized["train"])
        if self.target_vocab is None:
            raise ValueError("evaluating with a trained model's vocabulary needs its target_vocab")
        assert self.vocab is not None
        missing = [t for t in (BOS, EOS) if t not in self.target_vocab]
        if missing:
            raise DataError(
                f"{source}: the target vocabulary has no {missing} (was it built for translation?)"
            )
        self.splits = datasets.DatasetDict(
            {name: self._numericalize(split) for name, split in tokenized.items()}
        )
        self.label_names = []
        self.stats = {
            "vocab_size": len(self.vocab),
            "target_vocab_size": len(self.target_vocab),
        }
        for name, split in tokenized.items():
            table = split.with_format("arrow")[:]
            lengths = np.stack(
                [pc.list_value_length(table.column(c)).to_numpy() for c in TOKEN_COLUMNS], axis=1
            )  # (S, 2): tokens of source and target
            ratio = lengths.max(1) / np.maximum(lengths.min(1), 1)
            odd = int((ratio > self.settings["length_ratio"]).sum())
            self.stats |= {
                f"{name}_size": split.num_rows,
                f"{name}_skipped_empty": skipped.get(name, 0),
                f"{name}_odd_ratio": odd,
                f"{name}_source_tokens": int(lengths[:, 0].sum()),
                f"{name}_target_tokens": int(lengths[:, 1].sum()),
            }
            if odd:
                log.warning(
                    "%s: %d pairs of split %s have one side over %g times as long as the other "
                    "(kept; data.length_ratio)",
                    source,
                    odd,
                    name,
                    self.settings["length_ratio"],
                )

    def _build_vocabularies(self, train: datasets.Dataset) -> None:
        """A vocabulary per side from the training pairs (or one from both sides)."""
        source_counts = Counter(prepare.count_tokens(train, "source_tokens"))
        target_counts = Counter(prepare.count_tokens(train, "target_tokens"))
        for token in (BOS, EOS):  # every target sentence has one of each
            target_counts[token] += train.num_rows
        min_freq, max_size = self.settings["min_freq"], self.settings["max_size"]
        if self.settings["shared_vocab"]:
            self.vocab = Vocabulary.from_counts(source_counts + target_counts, min_freq, max_size)
            self.target_vocab = self.vocab
        else:
            self.vocab = Vocabulary.from_counts(source_counts, min_freq, max_size)
            self.target_vocab = Vocabulary.from_counts(target_counts, min_freq, max_size)

    def _numericalize(self, split: datasets.Dataset) -> datasets.Dataset:
        assert self.vocab is not None and self.target_vocab is not None
        sides = datasets.DatasetDict({"split": split.rename_column("source_tokens", "tokens")})
        split = prepare.numericalize(sides, self.vocab)["split"]
        sides = datasets.DatasetDict(
            {"split": split.rename_columns({"target_tokens": "tokens", "input_ids": "source_ids"})}
        )
        split = prepare.numericalize(sides, self.target_vocab)["split"]
        return split.rename_columns({"input_ids": "target_ids", "source_ids": "input_ids"})

    def extra_meta(self) -> dict[str, Any]:
        assert self.target_vocab is not None
        vocab = self.target_vocab
        return {"target_vocab": {"tokens": vocab.tokens, "counts": vocab.counts}}

    def restore_meta(self, meta: dict[str, Any]) -> None:
        stored = meta["target_vocab"]
        self.target_vocab = Vocabulary(stored["tokens"], stored.get("counts"))
        if self.settings["shared_vocab"] and self.vocab is not None:
            self.target_vocab = self.vocab

    # ----------------------------------------------------------------- batches

    def tensors(self, dataset: datasets.Dataset) -> PairSplit:  # type: ignore[override]
        # batches of pairs, cut by the same sampler (``lengths``: of the sources)
        assert self.target_vocab is not None
        return PairSplit.from_dataset(
            dataset, self.target_vocab.index[BOS], self.target_vocab.index[EOS]
        )

    def training_tokens(self) -> list[list[str]]:
        """The source side's training texts as tokens (to train its word vectors on)."""
        return self._side_tokens("source")

    def target_side(self) -> TargetSide:
        """What the ``embedding`` group reads to build the target side's vectors."""
        return TargetSide(self)

    def _side_tokens(self, side: str) -> list[list[str]]:
        self.prepare()
        assert self.splits is not None
        tokenizer = self.tokenizer if side == "source" else self.target_tokenizer
        texts = datasets.DatasetDict({"train": self.splits["train"].select_columns([side])})
        texts = texts.rename_column(side, "text")
        return list(prepare.tokenize(texts, tokenizer, None, self.num_proc)["train"]["tokens"])

    def texts(self, name: str) -> list[str]:
        self.prepare()
        assert self.splits is not None
        return self.splits[name]["source"]


class TargetSide:
    """The target half of a ``PairDataModule`` as a token source of the ``embedding`` group."""

    def __init__(self, data: PairDataModule) -> None:
        self.data = data
        self.tokenizer = data.target_tokenizer
        self.fingerprint = f"{data.fingerprint}-target"

    def training_tokens(self) -> list[list[str]]:
        return self.data._side_tokens("target")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _tokenize_side(
    raw: datasets.DatasetDict,
    side: str,
    tokenizer: Tokenizer,
    max_length: int | None,
    num_proc: int | None,
) -> datasets.DatasetDict:
    """Add ``{side}_tokens``: the tokens of column ``side``."""
    renamed = raw.rename_column(side, "text")
    tokenized = prepare.tokenize(renamed, tokenizer, max_length, num_proc)
    return tokenized.rename_columns({"text": side, "tokens": f"{side}_tokens"})


class PairSplit(Dataset):
    """A numericalized split of pairs that returns whole batches from a list of row indices.

    A batch holds ``input_ids`` (B, S): the source, padded with ``<pad>``; ``decoder_inputs``
    (B, T): ``<bos>`` and the target; ``targets`` (B, T): the target and ``<eos>`` (``<pad>``
    after it); ``index`` (B,): the rows; and the rows' texts, ``sources`` and ``references``.
    """

    def __init__(
        self,
        source_ids: torch.Tensor,
        source_offsets: torch.Tensor,
        target_ids: torch.Tensor,
        target_offsets: torch.Tensor,
        sources: list[str],
        references: list[str],
        bos_id: int,
        eos_id: int,
    ) -> None:
        self.source_ids, self.target_ids = source_ids, target_ids
        self.source_starts, self.target_starts = source_offsets[:-1], target_offsets[:-1]
        self.lengths = torch.diff(source_offsets)  # (S,): the batch sampler buckets by these
        self.target_lengths = torch.diff(target_offsets)  # (S,)
        self.sources, self.references = sources, references
        self.bos_id, self.eos_id = bos_id, eos_id

    @classmethod
    def from_dataset(cls, dataset: datasets.Dataset, bos_id: int, eos_id: int) -> PairSplit:
        table = dataset.with_format("arrow")[:]

        def flat(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            column = table.column(name).combine_chunks()
            offsets = column.offsets.to_numpy().astype(np.int64)
            ids = torch.from_numpy(column.flatten().to_numpy().astype(np.int64))
            return ids, torch.from_numpy(offsets - offsets[0])

        sources = table.column("source").to_pylist()
        references = table.column("target").to_pylist()
        return cls(*flat("input_ids"), *flat("target_ids"), sources, references, bos_id, eos_id)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.__getitems__([index])

    def __getitems__(self, indices: list[int]) -> dict[str, Any]:
        index = torch.as_tensor(indices, dtype=torch.long)  # (B,)
        source = _padded(self.source_ids, self.source_starts[index], self.lengths[index])
        lengths = self.target_lengths[index]  # (B,)
        target = _padded(self.target_ids, self.target_starts[index], lengths)  # (B, T - 1)
        rows = torch.arange(len(index))
        bos = torch.full((len(index), 1), self.bos_id, dtype=torch.long)
        decoder_inputs = torch.cat([bos, target], dim=1)  # (B, T)
        targets = torch.cat([target, torch.zeros_like(bos)], dim=1)  # (B, T)
        targets[rows, lengths] = self.eos_id
        return {
            "input_ids": source,
            "decoder_inputs": decoder_inputs,
            "targets": targets,
            "index": index,
            "sources": [self.sources[i] for i in indices],
            "references": [self.references[i] for i in indices],
        }


def _padded(ids: torch.Tensor, starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Rows of ``ids`` starting at ``starts`` with ``lengths``, padded with ``<pad>``: (B, T)."""
    positions = torch.arange(int(lengths.max()) if len(lengths) else 0)  # (T,)
    mask = positions.unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    gather = (starts.unsqueeze(1) + positions.unsqueeze(0)).clamp(max=max(len(ids) - 1, 0))
    return ids[gather].masked_fill(~mask, PAD_ID)
