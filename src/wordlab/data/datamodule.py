"""``TextDataModule``: a labelled text corpus, prepared once and cached, served in batches."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import datasets
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from wordlab.data import corpus, phrases, prepare, splits
from wordlab.data.batching import BatchSampler, TokenizedSplit, identity
from wordlab.data.errors import DataError
from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import Vocabulary

log = logging.getLogger(__name__)

# Bump when preparation changes what it writes, so old caches are not reused.
PREPARE_VERSION = 3
SPLITS = ("train", "validation", "test")


class TextDataModule(pl.LightningDataModule):
    """Load, split, tokenize and numericalize a text classification corpus.

    The prepared splits, vocabulary and label names are cached under ``cache_dir`` keyed by a
    fingerprint of the corpus (local file sizes and times, or hub name and revision) and of
    every setting below, so a second identical run starts without re-tokenizing.

    Args:
        path: Local folder or file, or a Hugging Face hub dataset name.
        name: Short name of the corpus for run names and experiments.
        config_name: Hub dataset configuration (``load_dataset(path, config_name)``).
        data_files: Explicit files, one path or ``{split: path(s)}``.
        revision: Hub revision (a commit pins the data).
        text_field: Column holding the text.
        label_field: Column holding the label (strings or integers).
        label_names: Names for integer labels 0..K-1 without a ``ClassLabel`` feature.
        validation_fraction: Share of train cut out as validation when there is none.
        test_fraction: Share of train cut out as test when there is none.
        train_fraction: Train on this share of the training rows (after the cuts above),
            stratified by label and drawn with ``seed``: the same subset for every model of
            the same seed; validation and test stay whole (learning curves, few labels).
        train_size: Train on this many training rows instead (not with ``train_fraction``).
        fold: Use rows whose ``fold_field`` equals this as test (k-fold cross-validation).
        fold_field: Column with fold numbers.
        phrase_labels: Train on every labelled phrase of the training trees instead of the
            whole texts: a map from tree label to class name (e.g. SST-2 ``{0: negative,
            1: negative, 3: positive, 4: positive}``); validation and test stay whole texts.
        tree_field: Column holding each row's labelled tree (for ``phrase_labels``).
        encoding_errors: ``strict`` (non-UTF-8 text is an error) or ``replace``.
        tokenizer: ``regex`` (words and punctuation), ``whitespace`` or ``spacy``.
        lowercase: Lowercase before tokenizing.
        max_length: Keep at most this many tokens per text.
        min_freq: Least training-split count for a token to enter the vocabulary.
        max_size: Largest vocabulary, special tokens included.
        batch_size: Training batch size.
        eval_batch_size: Validation and test batch size (default: ``batch_size``).
        bucket: Group training rows of similar length (fewer pad tokens for RNNs).
        num_workers: DataLoader worker processes.
        pin_memory: Page-locked batches, so copies to the GPU do not wait for it (None: when
            the trainer runs on a GPU).
        num_proc: Processes for tokenization (``datasets.map``).
        split_seed: Seed of the validation/test cuts (fixed, so every run sees the same split).
        seed: Seed of the training batch order.
        cache_dir: Folder for prepared data (none: no cache).
        layout: ``padded`` or ``flat`` batches; set from the model at run time.
        vocab: A trained model's vocabulary (evaluation): no vocabulary is built, and no
            train split is needed.
        classes: A trained model's class names (evaluation): labels are mapped to them by name.
    """

    def __init__(
        self,
        path: str,
        name: str | None = None,
        config_name: str | None = None,
        data_files: Any = None,
        revision: str | None = None,
        text_field: str = "text",
        label_field: str = "label",
        label_names: list[str] | None = None,
        validation_fraction: float = 0.1,
        test_fraction: float = 0.1,
        train_fraction: float | None = None,
        train_size: int | None = None,
        fold: int | None = None,
        fold_field: str = "fold",
        phrase_labels: dict[Any, str] | None = None,
        tree_field: str = "tree",
        encoding_errors: str = "strict",
        tokenizer: str = "regex",
        lowercase: bool = True,
        max_length: int | None = None,
        min_freq: int = 1,
        max_size: int | None = None,
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        bucket: bool = False,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        num_proc: int | None = None,
        split_seed: int = 13,
        seed: int = 0,
        cache_dir: str | None = None,
        layout: str = "padded",
        vocab: Vocabulary | None = None,
        classes: list[str] | None = None,
    ) -> None:
        super().__init__()
        _check_ranges(
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            max_length=max_length,
            min_freq=min_freq,
            max_size=max_size,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
            train_size=train_size,
        )
        if train_fraction is not None and not 0 < train_fraction <= 1:
            raise ValueError(
                f"data.train_fraction={train_fraction}: expected more than 0, at most 1"
            )
        self.path = str(path)
        self.name = name or Path(self.path).name
        self.load_options = {
            "path": self.path,
            "name": config_name,
            "data_files": _plain(data_files),
            "revision": revision,
            "encoding_errors": encoding_errors,
        }
        self.settings = {
            "text_field": text_field,
            "label_field": label_field,
            "label_names": _plain(label_names),
            "validation_fraction": validation_fraction,
            "test_fraction": test_fraction,
            "train_fraction": train_fraction,
            "train_size": train_size,
            # the subset's draw (the run's seed) makes part of the prepared data only with one
            "subset_seed": seed if train_fraction is not None or train_size is not None else None,
            "fold": fold,
            "fold_field": fold_field,
            "phrase_labels": _plain(phrase_labels),
            "tree_field": tree_field,
            "tokenizer": tokenizer,
            "lowercase": lowercase,
            "max_length": max_length,
            "min_freq": min_freq,
            "max_size": max_size,
            "split_seed": split_seed,
        }
        self.tokenizer = make_tokenizer(tokenizer, lowercase)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.bucket = bucket
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.num_proc = num_proc
        self.seed = seed
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.layout = layout
        self.splits: datasets.DatasetDict | None = None
        self.vocab = vocab
        self.classes = list(classes) if classes is not None else None
        self.label_names: list[str] = []
        self.stats: dict[str, Any] = {}
        self.fingerprint = ""
        self._tensors: dict[str, TokenizedSplit] = {}

    # ----------------------------------------------------------------- preparation

    def compute_fingerprint(self) -> str:
        """Hash of the corpus files (or hub name) and every preparation setting."""
        data_files = self.load_options["data_files"]
        paths = corpus.split_data_files(data_files) if data_files else {}
        files = []
        for file in [Path(f) for fs in paths.values() for f in fs] or corpus.local_files(self.path):
            stat = file.stat()
            files.append([str(file.resolve()), stat.st_size, stat.st_mtime_ns])
        key = {
            "version": PREPARE_VERSION,
            "load": self.load_options,
            "settings": self.settings,
            "files": files,
            "vocab": hashlib.sha256("\n".join(self.vocab.tokens).encode()).hexdigest()
            if self.vocab
            else None,
            "classes": self.classes,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def prepare(self) -> None:
        """Load the prepared corpus from the cache, or build and cache it. Idempotent."""
        if self.splits is not None:
            return
        self.fingerprint = self.compute_fingerprint()
        cached = self.cache_dir / self.fingerprint if self.cache_dir else None
        if cached is not None and (cached / "meta.json").is_file():
            log.info("prepared data found in cache %s", cached)
            self._load(cached)
            return
        self._build()
        if cached is not None:
            self._save(cached)

    def _build(self) -> None:
        source = self.path
        evaluation = self.vocab is not None
        raw = corpus.load_raw(**self.load_options)
        raw = splits.select_fields(
            raw,
            self.settings["text_field"],
            self.settings["label_field"],
            source,
            require_train=not evaluation,
        )
        skipped = splits.drop_empty(raw, source)
        self.label_names = splits.encode_labels(
            raw, source, self.settings["label_names"], self.classes
        )
        raw = splits.carve_splits(
            raw,
            source,
            self.settings["validation_fraction"],
            self.settings["test_fraction"],
            self.settings["split_seed"],
            self.settings["fold"],
            self.settings["fold_field"],
        )
        raw = self.training_subset(raw)
        if self.settings["phrase_labels"] and "train" in raw:
            sentences = raw["train"].num_rows
            raw["train"] = phrases.expand_phrases(
                raw["train"],
                self.settings["tree_field"],
                self.settings["phrase_labels"],
                self.label_names,
                source,
            )
            log.info("%s: %d training trees gave %d phrases", source, sentences, len(raw["train"]))
        tokenized = prepare.tokenize(
            raw, self.tokenizer, self.settings["max_length"], self.num_proc
        )
        counts = {}
        if self.vocab is None:
            counts = prepare.count_tokens(tokenized["train"])
            self.vocab = Vocabulary.from_counts(
                counts, self.settings["min_freq"], self.settings["max_size"]
            )
        numericalized = prepare.numericalize(tokenized, self.vocab)
        keep = {"text", "label", "input_ids"}
        self.splits = datasets.DatasetDict(
            {
                name: split.remove_columns([c for c in split.column_names if c not in keep])
                for name, split in numericalized.items()
            }
        )
        self.stats = {
            "vocab_size": len(self.vocab),
            "num_classes": len(self.label_names),
            "train_tokens": sum(counts.values()),
            **{f"{s}_size": d.num_rows for s, d in self.splits.items()},
            **{f"{s}_skipped_empty": n for s, n in skipped.items()},
        }

    def _save(self, folder: Path) -> None:
        assert self.splits is not None and self.vocab is not None
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        self.splits.save_to_disk(str(staging / "splits"))
        self.vocab.save(staging / "vocab.json")
        meta = {"label_names": self.label_names, "stats": self.stats, "name": self.name}
        meta |= self.extra_meta()
        (staging / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            os.replace(staging, folder)  # atomic: parallel jobs never see half a cache entry
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another job wrote it first

    def _load(self, folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        self.splits = datasets.load_from_disk(str(folder / "splits"))
        self.vocab = Vocabulary.load(folder / "vocab.json")
        self.label_names = meta["label_names"]
        self.stats = meta["stats"]
        self.restore_meta(meta)

    def training_subset(
        self, raw: datasets.DatasetDict, stratify: bool = True
    ) -> datasets.DatasetDict:
        """``raw`` with the training split cut to ``data.train_fraction`` or ``train_size``."""
        settings = self.settings
        return splits.training_subset(
            raw,
            self.path,
            settings.get("train_fraction"),
            settings.get("train_size"),
            self.seed,
            stratify,
        )

    def extra_meta(self) -> dict[str, Any]:
        """What a data flavour adds to the cache entry's ``meta.json`` besides labels and stats."""
        return {}

    def restore_meta(self, meta: dict[str, Any]) -> None:
        """Read back what ``extra_meta`` wrote."""

    # ----------------------------------------------------------------- Lightning hooks

    def setup(self, stage: str | None = None) -> None:
        self.prepare()

    def split(self, name: str) -> TokenizedSplit:
        """The tensors of split ``name`` (``train``, ``validation`` or ``test``)."""
        if name not in self._tensors:
            self.prepare()
            assert self.splits is not None
            if name not in self.splits:
                raise DataError(f"{self.path}: no split {name!r}; found {sorted(self.splits)}")
            self._tensors[name] = self.tensors(self.splits[name])
        return self._tensors[name]

    def tensors(self, dataset: datasets.Dataset) -> TokenizedSplit:
        """A prepared split as the tensors batches are cut from (a data flavour adds its own)."""
        return TokenizedSplit.from_dataset(dataset, self.layout)

    def training_tokens(self) -> list[list[str]]:
        """Every training text as tokens, untruncated (to train word vectors on)."""
        self.prepare()
        assert self.splits is not None
        texts = datasets.DatasetDict({"train": self.splits["train"].select_columns(["text"])})
        return list(prepare.tokenize(texts, self.tokenizer, None, self.num_proc)["train"]["tokens"])

    def texts(self, name: str) -> list[str]:
        self.prepare()
        assert self.splits is not None
        return self.splits[name]["text"]

    def dataloader(self, name: str, train: bool = False) -> DataLoader:
        """Batches of split ``name``: shuffled (and bucketed) for training, else in order."""
        split = self.split(name)
        sampler = BatchSampler(
            split.lengths,
            self.batch_size if train else self.eval_batch_size,
            shuffle=train,
            bucket=self.bucket and train,
            seed=self.seed,
        )
        return DataLoader(
            split,
            batch_sampler=sampler,
            collate_fn=identity,  # type: ignore[arg-type]
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=self._on_gpu() if self.pin_memory is None else self.pin_memory,
        )

    def _on_gpu(self) -> bool:
        root = getattr(getattr(self.trainer, "strategy", None), "root_device", None)
        return root is not None and root.type == "cuda"

    def train_dataloader(self) -> DataLoader:
        return self.dataloader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test", train=False)


def _check_ranges(**options: float | None) -> None:
    """Counts are at least 1 and fractions between 0 and 1 (None: not set)."""
    for name, value in options.items():
        if value is None:
            continue
        if name.endswith("_fraction") and not 0 < value < 1:
            raise ValueError(f"data.{name}={value}: expected a fraction between 0 and 1")
        if not name.endswith("_fraction") and value < 1:
            raise ValueError(f"data.{name}={value}: expected at least 1")


def _plain(value: Any) -> Any:
    """OmegaConf containers to plain lists and dicts (for hashing and ``datasets``)."""
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(value):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:
        pass
    return value
