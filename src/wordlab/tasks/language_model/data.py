"""``StreamDataModule``: a text corpus as one stream of tokens per split, served in windows.

Each line (a row of ``data.text_field``) gives its tokens and ``<eos>``; the lines of a split are
joined into one stream. Training cuts the stream into ``batch_size`` parallel streams read in
windows of ``bptt`` tokens (the hidden state carries over from one window to the next);
validation and test read every token exactly once, whatever the batch size, so their loss is
the exact average over the split's tokens.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from wordlab.data import corpus, prepare, splits
from wordlab.data.batching import identity
from wordlab.data.datamodule import TextDataModule
from wordlab.data.errors import DataError
from wordlab.data.vocab import UNK, Vocabulary

log = logging.getLogger(__name__)

EOS = "<eos>"
# Target of a padded position: ``cross_entropy`` skips it.
IGNORE = -100


class StreamDataModule(TextDataModule):
    """Load a corpus of lines (text files, or the text column of any corpus) as token streams.

    Takes the arguments of ``TextDataModule`` that concern loading, splitting and the
    vocabulary (``text_field`` names the column; a ``.txt`` file gives one row per line), and:

    Args:
        bptt: Tokens per window (truncated backpropagation through time).
        variable_length: Draw each training window's length as Merity et al. (2017) do: ``bptt``
            with probability 0.95 else ``bptt / 2``, then normal with standard deviation 5
            (at least 5 tokens); the loss of a window is scaled by its length over ``bptt``,
            which for SGD is their learning-rate rescaling.
        tokenizer: ``whitespace`` by default: the benchmark corpora are tokenized already.
        lowercase: False by default: the data's own tokens make the vocabulary.
    """

    def __init__(
        self,
        path: str,
        text_field: str = "text",
        tokenizer: str = "whitespace",
        lowercase: bool = False,
        bptt: int = 35,
        variable_length: bool = False,
        **options: Any,
    ) -> None:
        for option in ("phrase_labels", "fold"):
            if options.get(option) is not None:
                raise ValueError(
                    f"data.{option} is for classification; a language model reads text"
                )
        options.pop("label_field", None)
        super().__init__(
            path,
            text_field=text_field,
            label_field="",
            tokenizer=tokenizer,
            lowercase=lowercase,
            **options,
        )
        if bptt < 2:
            raise ValueError(f"data.bptt={bptt}: expected at least 2 tokens per window")
        self.bptt = bptt
        self.variable_length = variable_length
        self._streams: dict[str, torch.Tensor] = {}
        self._lines: dict[str, torch.Tensor] = {}

    # ----------------------------------------------------------------- preparation

    def _build(self) -> None:
        source, field = self.path, self.settings["text_field"]
        evaluation = self.vocab is not None
        raw = corpus.load_raw(**self.load_options)
        if not evaluation and "train" not in raw:
            raise DataError(f"{source}: no train split; found splits {sorted(raw)}")
        selected = {}
        for name, dataset in raw.items():
            if field not in dataset.column_names:
                raise DataError(
                    f"{source}: split {name} has no column {field!r} (data.text_field); "
                    f"available columns: {dataset.column_names}"
                )
            if dataset.num_rows == 0:
                raise DataError(f"{source}: split {name} is empty")
            splits.check_text_column(dataset, field, name, source)
            selected[name] = dataset.select_columns([field]).rename_columns(
                {field: "text"} if field != "text" else {}
            )
        if evaluation and len(selected) == 1:  # one file to score: it is every split
            only = next(iter(selected.values()))
            selected = dict.fromkeys(("train", "validation", "test"), only)
        raw = splits.carve_splits(
            datasets.DatasetDict(selected),
            source,
            self.settings["validation_fraction"],
            self.settings["test_fraction"],
            self.settings["split_seed"],
            stratify=False,
        )
        raw = self.training_subset(raw, stratify=False)
        tokenized = prepare.tokenize(raw, self.tokenizer, None, self.num_proc)
        counts = {name: prepare.count_tokens(split) for name, split in tokenized.items()}
        for name, split in tokenized.items():
            if not counts[name]:
                raise DataError(
                    f"{source}: split {name} holds no words ({split.num_rows} empty lines in "
                    f"column {field!r}); a language model needs text to read"
                )
        if self.vocab is None:
            training = dict(counts["train"])
            training[EOS] = training.get(EOS, 0) + tokenized["train"].num_rows
            self.vocab = Vocabulary.from_counts(
                training, self.settings["min_freq"], self.settings["max_size"]
            )
        if EOS not in self.vocab:
            raise DataError(
                f"{source}: the vocabulary has no {EOS!r} (was it built for this task?)"
            )
        self.splits = prepare.numericalize(tokenized, self.vocab)
        self.label_names = []
        self.stats = {"vocab_size": len(self.vocab)}
        for name, split in self.splits.items():
            words = sum(counts[name].values())
            # Words outside the vocabulary read as <unk> (the corpus's own <unk> is a word).
            unknown = words - sum(c for t, c in counts[name].items() if t in self.vocab)
            self.stats |= {
                f"{name}_lines": split.num_rows,
                f"{name}_tokens": words + split.num_rows,  # with one <eos> per line
                f"{name}_unknown": unknown,
            }
            if unknown and (evaluation or name != "train"):
                log.warning(
                    "%s: %d of %d words of split %s are not in the vocabulary; read as %s",
                    source,
                    unknown,
                    words,
                    name,
                    UNK,
                )

    # ----------------------------------------------------------------- streams

    def stream(self, name: str) -> torch.Tensor:
        """Token ids of split ``name``, every line followed by ``<eos>``, shape (N,)."""
        if name not in self._streams:
            self.prepare()
            assert self.splits is not None and self.vocab is not None
            if name not in self.splits:
                raise DataError(f"{self.path}: no split {name!r}; found {sorted(self.splits)}")
            table = self.splits[name].with_format("arrow")[:]
            column = table.column("input_ids").combine_chunks()
            offsets = column.offsets.to_numpy().astype(np.int64)
            ids = column.flatten().to_numpy().astype(np.int64)
            lengths = np.diff(offsets)  # words per line
            ids = np.insert(ids, offsets[1:] - offsets[0], self.vocab.index[EOS])
            self._streams[name] = torch.from_numpy(ids)
            self._lines[name] = torch.from_numpy(np.cumsum(lengths + 1))  # end of each line
        return self._streams[name]

    def line_ends(self, name: str) -> torch.Tensor:
        """Position after each line's ``<eos>`` in the stream of split ``name``, shape (S,)."""
        self.stream(name)
        return self._lines[name]

    def windows(self, name: str, train: bool = False) -> StreamWindows:
        stream = self.stream(name)
        batch_size = self.batch_size if train else self.eval_batch_size
        if train:
            per_stream = len(stream) // batch_size
            if per_stream < self.bptt + 1:
                raise DataError(
                    f"{self.path}: split {name} has {len(stream)} tokens (with <eos>); cut into "
                    f"{batch_size} streams (data.batch_size) that is {per_stream} each, shorter "
                    f"than one window of data.bptt={self.bptt} tokens plus the next one to "
                    f"predict ({(self.bptt + 1) * batch_size} tokens in all): use more text, a "
                    "smaller data.batch_size or a smaller data.bptt"
                )
        elif len(stream) < 2:
            raise DataError(f"{self.path}: split {name} has one token; nothing to predict")
        epoch = self._epoch if train else None
        return StreamWindows(stream, batch_size, self.bptt, epoch, self.variable_length, self.seed)

    def _epoch(self) -> int:
        return int(getattr(self.trainer, "current_epoch", 0) or 0)

    def dataloader(self, name: str, train: bool = False) -> DataLoader:
        # Lightning warns that several workers could repeat windows; batches are made here.
        warnings.filterwarnings("ignore", "Your `IterableDataset` has `__len__` defined")
        return DataLoader(
            self.windows(name, train),
            batch_size=None,
            collate_fn=identity,  # type: ignore[arg-type]
            pin_memory=self._on_gpu() if self.pin_memory is None else self.pin_memory,
        )

    def training_tokens(self) -> list[list[str]]:
        """Every training line as tokens with its ``<eos>`` (to train word vectors on)."""
        self.prepare()
        assert self.splits is not None
        texts = datasets.DatasetDict({"train": self.splits["train"].select_columns(["text"])})
        lines = prepare.tokenize(texts, self.tokenizer, None, self.num_proc)["train"]["tokens"]
        return [[*line, EOS] for line in lines]


class StreamWindows(IterableDataset):
    """Windows of a token stream, each a batch of ``input_ids``, ``targets`` and ``first``.

    Training (``epoch`` given): the stream is cut into ``batch_size`` rows of equal length (the
    last tokens that do not fill a row are left out, as in every reference implementation),
    read ``bptt`` tokens at a time; ``first`` is true at each epoch's first window, where the
    model starts from a zero state.

    Evaluation (``epoch`` None): every token after the first is a target exactly once. The
    stream is cut into at most ``batch_size`` contiguous pieces, each piece's first input
    being the previous piece's last target; padding (``IGNORE`` targets) fills the last piece.
    ``positions`` gives each target's place in the stream (to score lines).
    """

    def __init__(
        self,
        stream: torch.Tensor,
        batch_size: int,
        bptt: int,
        epoch: Callable[[], int] | None = None,
        variable_length: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.bptt = bptt
        self.epoch = epoch
        self.variable_length = variable_length
        self.seed = seed
        if epoch is not None:
            per_stream = len(stream) // batch_size
            rows = stream[: per_stream * batch_size].view(batch_size, per_stream)  # (B, L)
            self.inputs, self.targets = rows[:, :-1], rows[:, 1:]  # (B, L - 1)
            self.positions = None
        else:
            targets = len(stream) - 1
            piece = math.ceil(targets / batch_size)
            pieces = math.ceil(targets / piece)
            starts = torch.arange(pieces) * piece  # (P,)
            index = starts.unsqueeze(1) + torch.arange(piece)  # (P, piece) input positions
            real = index < targets
            index = index.clamp(max=targets - 1)
            self.inputs = stream[index].masked_fill(~real, 0)
            self.targets = stream[index + 1].masked_fill(~real, IGNORE)
            self.positions = (index + 1).masked_fill(~real, -1)

    def lengths(self) -> list[int]:
        """Window lengths of this pass (drawn anew each epoch with ``variable_length``)."""
        total = self.inputs.size(1)
        if not (self.variable_length and self.epoch is not None):
            return [min(self.bptt, total - s) for s in range(0, total, self.bptt)]
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch())
        lengths, start = [], 0
        while start < total:
            mean = self.bptt if torch.rand(1, generator=generator).item() < 0.95 else self.bptt / 2
            length = max(5, int(torch.normal(mean, 5.0, (1,), generator=generator).item()))
            length = min(length, total - start)
            lengths.append(length)
            start += length
        return lengths

    def __len__(self) -> int:
        if self.variable_length and self.epoch is not None:
            raise TypeError("the number of windows changes from epoch to epoch")
        return math.ceil(self.inputs.size(1) / self.bptt)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        start = 0
        for length in self.lengths():
            window = slice(start, start + length)
            batch: dict[str, Any] = {
                "input_ids": self.inputs[:, window],  # (B, T)
                "targets": self.targets[:, window],  # (B, T)
                "first": start == 0,
                "scale": length / self.bptt,
            }
            if self.positions is not None:
                batch["positions"] = self.positions[:, window]
            start += length
            yield batch


def lines_of(positions: torch.Tensor, line_ends: torch.Tensor) -> torch.Tensor:
    """The line each stream position belongs to (``line_ends`` from ``StreamDataModule``)."""
    return torch.searchsorted(line_ends, positions, right=True)
