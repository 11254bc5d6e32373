"""``TaggingDataModule``: sentences with a tag per token, prepared once and cached.

Rows hold a list of tokens (``data.text_field``, default ``tokens``) and a list of tags of the
same length (``data.label_field``): strings, or integers named by the column's ``ClassLabel``
feature or by ``data.label_names``. CoNLL column files load like any other corpus file.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import datasets
import numpy as np
import torch

from wordlab.data import corpus, prepare, splits
from wordlab.data.batching import TokenizedSplit
from wordlab.data.datamodule import TextDataModule
from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.tasks.tagging import schemes

log = logging.getLogger(__name__)

# Character ids: 0 pads a word's characters, 1 is a character training never saw.
CHAR_PAD, CHAR_UNK = 0, 1


def char_table(words: list[str], chars: list[str], max_word_length: int) -> torch.Tensor:
    """Character ids of each word, (N, max_word_length): ``chars[i]`` is id ``i + 2``, an unknown
    character ``CHAR_UNK``, padding ``CHAR_PAD``. Vectorized: each distinct character is looked
    up once, whatever the number of words."""
    lengths = np.fromiter((min(len(w), max_word_length) for w in words), np.int64, len(words))
    text = "".join(w[:max_word_length] for w in words)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    distinct, inverse = np.unique(codes, return_inverse=True)
    index = {c: i + 2 for i, c in enumerate(chars)}
    lookup = np.array([index.get(chr(c), CHAR_UNK) for c in distinct], dtype=np.int64)
    table = np.full((len(words), max_word_length), CHAR_PAD, dtype=np.int64)
    rows = np.repeat(np.arange(len(words)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    table[rows, np.arange(len(codes)) - starts] = lookup[inverse.reshape(-1)]
    return torch.from_numpy(table)


class TaggingDataModule(TextDataModule):
    """Load, split and numericalize a corpus labelled per token (NER, POS, chunking).

    Takes every argument of ``TextDataModule`` (``text_field`` names the token lists and
    ``label_field`` the tag lists) and:

    Args:
        tag_scheme: Scheme the model is trained in (``bioes``, ``iob2``/``bio``, ``iob1``), the
            corpus's tags converted to it (ill-formed ones, such as an ``I-X`` after ``O`` in
            IOB2, repaired and counted); None for tags without spans (part of speech).
        source_scheme: Scheme of the corpus's tags; ``auto`` reads it from the training tags.
            Predictions are written back in it.
        max_word_length: Characters kept per word for the character features.
        vocab_splits: Splits whose words enter the vocabulary (tags are read from training
            only). ``[train, validation, test]`` gives every word a row, so a test word that
            pretrained vectors know keeps its vector instead of ``<unk>``'s, as NCRF++ and
            Lample et al.'s code build their vocabularies.
        chars: A trained model's characters (evaluation).
    """

    def __init__(
        self,
        path: str,
        text_field: str = "tokens",
        label_field: str = "tags",
        lowercase: bool = False,
        tag_scheme: str | None = "bioes",
        source_scheme: str = "auto",
        max_word_length: int = 30,
        vocab_splits: list[str] | None = None,
        chars: list[str] | None = None,
        **options: Any,
    ) -> None:
        if options.get("phrase_labels"):
            raise ValueError("data.phrase_labels is for classification; tagging reads tag lists")
        super().__init__(
            path, text_field=text_field, label_field=label_field, lowercase=lowercase, **options
        )
        self.tag_scheme = schemes.check_scheme(tag_scheme) if tag_scheme else None
        if source_scheme != "auto":
            schemes.check_scheme(source_scheme)
        if max_word_length < 1:
            raise ValueError(f"data.max_word_length={max_word_length}: expected at least 1")
        vocab_splits = list(vocab_splits or ["train"])
        if unknown := set(vocab_splits) - {"train", "validation", "test"}:
            raise ValueError(f"data.vocab_splits: unknown splits {sorted(unknown)}")
        self.settings |= {
            "tag_scheme": self.tag_scheme,
            "source_scheme": source_scheme,
            "max_word_length": max_word_length,
            "vocab_splits": vocab_splits,
        }
        self.source_scheme = source_scheme
        self.chars = list(chars) if chars is not None else None
        self.max_word_length = max_word_length

    def compute_fingerprint(self) -> str:
        import hashlib

        base = super().compute_fingerprint()
        chars = "".join(self.chars) if self.chars is not None else None
        return hashlib.sha256(f"{base} {chars!r}".encode()).hexdigest()[:16]

    # ----------------------------------------------------------------- preparation

    def _build(self) -> None:
        source = self.path
        evaluation = self.vocab is not None
        raw = corpus.load_raw(**self.load_options)
        if not evaluation and "train" not in raw:
            raise DataError(f"{source}: no train split; found splits {sorted(raw)}")
        rows = {name: self._read_split(dataset, name) for name, dataset in raw.items()}
        skipped = {name: split.pop("skipped") for name, split in rows.items()}
        raw = datasets.DatasetDict(
            {name: datasets.Dataset.from_dict(r) for name, r in rows.items()}
        )
        raw = splits.carve_splits(
            raw,
            source,
            self.settings["validation_fraction"],
            self.settings["test_fraction"],
            self.settings["split_seed"],
            stratify=False,
        )
        raw = self.training_subset(raw, stratify=False)
        reference = "train" if "train" in raw else next(iter(raw))
        if self.source_scheme == "auto" and self.tag_scheme is not None:
            self.source_scheme = schemes.detect_scheme(raw[reference]["tags"])
            log.info("%s: tags read as %s", source, self.source_scheme)
        repaired = {name: self._convert(raw, name) for name in raw}
        if not evaluation:
            self.label_names = self._tag_names(raw["train"]["tags"])
        else:
            assert self.classes is not None
            self.label_names = list(self.classes)
        index = {tag: i for i, tag in enumerate(self.label_names)}
        for name in raw:
            self._check_tags(raw[name]["tags"], index, name)
        raw = datasets.DatasetDict(
            {
                name: split.map(
                    lambda row: {
                        "tokens": [w.lower() for w in row["words"]]
                        if self.settings["lowercase"]
                        else row["words"],
                        "tag_ids": [index[t] for t in row["tags"]],
                    },
                    desc="tags",
                )
                for name, split in raw.items()
            }
        )
        counts: dict[str, int] = {}
        if self.vocab is None:
            counts = prepare.count_tokens(raw["train"])
            vocab_counts = Counter(counts)
            for name in set(self.settings["vocab_splits"]) - {"train"}:
                vocab_counts.update(prepare.count_tokens(raw[name]))
            self.vocab = Vocabulary.from_counts(
                dict(vocab_counts), self.settings["min_freq"], self.settings["max_size"]
            )
        if self.chars is None:
            letters = Counter(c for words in raw["train"]["words"] for w in words for c in w)
            self.chars = sorted(letters)
        self.splits = prepare.numericalize(raw, self.vocab).remove_columns(["tags"])
        self.stats = {
            "vocab_size": len(self.vocab),
            "num_tags": len(self.label_names),
            "num_chars": len(self.chars) + 2,
            "train_tokens": sum(counts.values()),
            **{f"{s}_size": d.num_rows for s, d in self.splits.items()},
            **{f"{s}_skipped_empty": n for s, n in skipped.items()},
            **{f"{s}_repaired_tags": n for s, n in repaired.items()},
        }

    def _read_split(self, dataset: datasets.Dataset, split: str) -> dict[str, Any]:
        """The split's token and tag lists, checked; empty sentences left out and counted."""
        text_field, label_field = self.settings["text_field"], self.settings["label_field"]
        for option, field in (("data.text_field", text_field), ("data.label_field", label_field)):
            if field not in dataset.column_names:
                raise DataError(
                    f"{self.path}: split {split} has no column {field!r} ({option}); "
                    f"available columns: {dataset.column_names}"
                )
        names = self._int_tag_names(dataset.features[label_field], split)
        words_out, tags_out, skipped = [], [], 0
        for row, (words, tags) in enumerate(
            zip(dataset[text_field], dataset[label_field], strict=True), start=1
        ):
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise DataError(
                    f"{self.path}: split {split} row {row}: data.text_field {text_field!r} holds "
                    f"{type(words).__name__} {words!r:.60}; tagging reads a list of tokens per "
                    "row (or a CoNLL column file)"
                )
            if not isinstance(tags, list):
                raise DataError(
                    f"{self.path}: split {split} row {row}: data.label_field {label_field!r} "
                    f"holds {type(tags).__name__}; expected a list of tags, one per token"
                )
            if len(words) != len(tags):
                raise DataError(
                    f"{self.path}: split {split} row {row}: {len(words)} tokens but {len(tags)} "
                    f"tags ({text_field!r} and {label_field!r} must have the same length)"
                )
            if not words:
                skipped += 1
                continue
            if any(not w or w.isspace() for w in words):
                raise DataError(f"{self.path}: split {split} row {row}: an empty token")
            words_out.append(words)
            tags_out.append([names[t] if names else str(t) for t in tags])
        if not words_out:
            raise DataError(f"{self.path}: split {split} has no sentence with tokens")
        if skipped:
            log.warning("%s: split %s: skipped %d empty sentences", self.path, split, skipped)
        return {"words": words_out, "tags": tags_out, "skipped": skipped}

    def _int_tag_names(self, feature: Any, split: str) -> list[str] | None:
        """Names of integer tags: the column's ``ClassLabel`` feature, else ``data.label_names``."""
        inner = getattr(feature, "feature", None)
        if isinstance(inner, datasets.ClassLabel):
            return list(inner.names)
        if getattr(inner, "dtype", "string") in ("string", "large_string"):
            return None
        if not self.settings["label_names"]:
            raise DataError(
                f"{self.path}: split {split}: the tags are integers without names; give "
                "data.label_names=[name of 0, name of 1, ...]"
            )
        return [str(n) for n in self.settings["label_names"]]

    def _convert(self, raw: datasets.DatasetDict, name: str) -> int:
        """Rewrite split ``name``'s tags in the training scheme; return how many were repaired."""
        if self.tag_scheme is None:
            return 0
        converted, repaired = [], 0
        for tags in raw[name]["tags"]:
            new, fixed = schemes.convert(tags, self.source_scheme, self.tag_scheme)
            converted.append(new)
            repaired += fixed
        raw[name] = raw[name].remove_columns(["tags"]).add_column("tags", converted)
        if repaired:
            log.warning(
                "%s: split %s: %d ill-formed %s tags repaired (an I- tag that opens a span, say)",
                self.path,
                name,
                repaired,
                self.source_scheme,
            )
        return repaired

    def _tag_names(self, sequences: list[list[str]]) -> list[str]:
        """Every tag of the training scheme for the types in training (``O`` first); without a
        scheme, the training tags."""
        if self.tag_scheme is None:
            return sorted({t for tags in sequences for t in tags})
        types = sorted({schemes.split_tag(t)[1] for tags in sequences for t in tags} - {""})
        prefixes = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}[self.tag_scheme]
        return [schemes.OUTSIDE, *(f"{p}-{t}" for t in types for p in prefixes)]

    def _check_tags(self, sequences: list[list[str]], index: dict[str, int], split: str) -> None:
        unknown = {t for tags in sequences for t in tags} - set(index)
        if unknown:
            raise DataError(
                f"{self.path}: split {split} has tags never seen in training: {sorted(unknown)}; "
                f"the model knows {len(index)}: {sorted(index)[:20]}"
            )

    def extra_meta(self) -> dict[str, Any]:
        return {"chars": self.chars, "source_scheme": self.source_scheme}

    def restore_meta(self, meta: dict[str, Any]) -> None:
        self.chars = meta["chars"]
        self.source_scheme = meta["source_scheme"]

    # ----------------------------------------------------------------- access

    def tensors(self, dataset: datasets.Dataset) -> TokenizedSplit:
        """Word ids, with each token's tag and characters beside them."""
        base = TokenizedSplit.from_dataset(dataset.add_column("label", [0] * len(dataset)))
        base.token_labels = torch.tensor(
            [t for row in dataset["tag_ids"] for t in row], dtype=torch.long
        )
        base.word_chars = self.char_ids([w for row in dataset["words"] for w in row])
        return base

    def char_ids(self, words: list[str]) -> torch.Tensor:
        """Character ids of each word, (N, L): 0 pads, 1 marks a character training never saw."""
        assert self.chars is not None
        return char_table(words, self.chars, self.max_word_length)

    def tokens(self, name: str) -> list[list[str]]:
        """The words of every sentence of split ``name``, as in the corpus."""
        self.prepare()
        assert self.splits is not None
        return self.splits[name]["words"]

    def tags(self, name: str) -> list[list[str]]:
        """The gold tags of split ``name``, in the training scheme."""
        self.prepare()
        assert self.splits is not None
        return [[self.label_names[i] for i in row] for row in self.splits[name]["tag_ids"]]

    def texts(self, name: str) -> list[str]:
        return [" ".join(words) for words in self.tokens(name)]

    def training_tokens(self) -> list[list[str]]:
        """Every training sentence's tokens (to train word vectors on), cased as the vocabulary."""
        lowercase = self.settings["lowercase"]
        return [[w.lower() for w in ws] if lowercase else ws for ws in self.tokens("train")]
