"""B10 baseline: a word-level LSTM language model trained in a plain PyTorch loop, written like
PyTorch's ``word_language_model`` example (no Lightning, Hydra, MLflow or wordlab).

As the example: ``tokenize`` (its ``Corpus.tokenize``) reads ``train.txt`` (each line's
whitespace tokens and ``<eos>``, ids in order of first appearance), ``batchify`` cuts the stream
into ``--batch-size`` columns (sequence first, shape (L, B)), ``get_batch`` takes windows of
``--bptt`` tokens, the model is ``nn.Embedding``, a 2-layer ``nn.LSTM``, ``nn.Linear`` with
dropout on the embedding and the LSTM's output, ``log_softmax`` + ``NLLLoss``; the hidden state
starts at zero and is detached between windows; the gradient norm is clipped at ``--clip`` and
SGD (lr ``--lr``) steps, the example's ``p.data.add_(p.grad, alpha=-lr)`` as
``torch.optim.SGD``. One epoch.

Prints one JSON line: the loop's seconds (windows only; reading and batchifying the text are
not in them), wall and CPU, with its user and system CPU and minor page faults (``getrusage``),
the windows and target tokens it trained on, the mean loss, and digests of the token strings of
the training stream and of the first window (``language_model.py`` checks them against
wordlab's ``StreamDataModule``).

    python experiments/bench/plain_lm.py --train <folder>/train.txt --threads 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time

import torch
from torch import nn


class Dictionary:
    def __init__(self) -> None:
        self.word2idx: dict[str, int] = {}
        self.idx2word: list[str] = []

    def add_word(self, word: str) -> int:
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self) -> int:
        return len(self.idx2word)


def tokenize(path: str, dictionary: Dictionary) -> torch.Tensor:
    """The example's ``Corpus.tokenize``: every line's words and ``<eos>``, as one id stream."""
    ids = []
    with open(path, encoding="utf8") as handle:
        for line in handle:
            for word in line.split() + ["<eos>"]:
                ids.append(dictionary.add_word(word))
    return torch.tensor(ids, dtype=torch.int64)


def batchify(data: torch.Tensor, bsz: int) -> torch.Tensor:
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()  # (L, B)


def get_batch(source: torch.Tensor, i: int, bptt: int) -> tuple[torch.Tensor, torch.Tensor]:
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


class RNNModel(nn.Module):
    """The example's ``RNNModel`` with an LSTM: encoder, recurrent module, decoder."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, nlayers: int, dropout: float) -> None:
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input: torch.Tensor, hidden: tuple) -> tuple[torch.Tensor, tuple]:
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz: int) -> tuple[torch.Tensor, torch.Tensor]:
        weight = next(self.parameters())
        return (
            weight.new_zeros(self.nlayers, bsz, self.nhid),
            weight.new_zeros(self.nlayers, bsz, self.nhid),
        )


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def digest(words: list[str]) -> str:
    return hashlib.sha1(" ".join(words).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="the training text, one line per row")
    parser.add_argument("--emsize", type=int, default=200)
    parser.add_argument("--nhid", type=int, default=200)
    parser.add_argument("--nlayers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--clip", type=float, default=0.25)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's table")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dictionary = Dictionary()
    stream = tokenize(args.train, dictionary)
    train_data = batchify(stream, args.batch_size)  # (L, B)
    trained = train_data.t().reshape(-1)  # the streams one after another, as cut from the text
    words = [dictionary.idx2word[i] for i in trained.tolist()]
    first = train_data[: min(args.bptt, len(train_data) - 1)].t()  # (B, T) as wordlab's
    first_words = [dictionary.idx2word[i] for i in first.reshape(-1).tolist()]
    ntokens = len(dictionary)
    model = RNNModel(ntokens, args.emsize, args.nhid, args.nlayers, args.dropout)
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    profiler = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        profiler = profile(activities=[ProfilerActivity.CPU])
        profiler.__enter__()
    total_loss = 0.0
    tokens = steps = 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_started = time.process_time()
    loop_started = time.perf_counter()
    model.train()
    hidden = model.init_hidden(args.batch_size)
    for i in range(0, train_data.size(0) - 1, args.bptt):
        data, targets = get_batch(train_data, i, args.bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        total_loss += loss.item()
        tokens += targets.numel()
        steps += 1
    loop_seconds = time.perf_counter() - loop_started
    loop_cpu_seconds = time.process_time() - cpu_started
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profiler is not None:
        profiler.__exit__(None, None, None)
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    print(
        json.dumps(
            {
                "steps": steps,
                "tokens": tokens,
                "vocab_size": ntokens,
                "loop_seconds": loop_seconds,
                "loop_cpu_seconds": loop_cpu_seconds,
                "tokens_per_second": tokens / loop_seconds,
                "train_loss": total_loss / steps,
                "stream_sha1": digest(words),
                "first_window_sha1": digest(first_words),
                "user_seconds": after.ru_utime - usage.ru_utime,
                "system_seconds": after.ru_stime - usage.ru_stime,
                "minor_faults": after.ru_minflt - usage.ru_minflt,
                "torch_threads": torch.get_num_threads(),
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
