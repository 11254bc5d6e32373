"""B11 baseline: an attention encoder-decoder trained in a plain PyTorch loop, written like
bentrevett/pytorch-seq2seq's third tutorial (no Lightning, Hydra, MLflow or wordlab).

As the tutorial: ``Encoder`` (``nn.Embedding``, a bidirectional ``nn.GRU`` over packed sequences,
its last forward and backward states through ``tanh(Linear)`` as the decoder's first state),
``Attention`` (additive: ``v^T tanh(W [s_{t-1}; h_j])``, the query the previous decoder state,
padding masked), ``Decoder`` (a ``nn.GRU`` reading ``[e(y_{t-1}); c_t]``, ``fc_out`` over
``[s_t; c_t; e(y_{t-1})]``), ``Seq2Seq`` (decodes step by step, teacher forcing drawn with
``random.random()`` per step), the tutorial's ``init_weights`` (normal, std 0.01; biases zero),
Adam (lr 1e-3), ``CrossEntropyLoss(ignore_index=<pad>)``, gradient norm clipped at ``--clip``,
sequence-first tensors; batches from a ``DataLoader`` with a ``collate_fn`` that pads with
``pad_sequence``. One epoch.

The data is wordlab's prepared training split, exported by ``translation.py`` as plain tensors
(``--pairs``: both sides' ids back to back with offsets, the ``<bos>``/``<eos>`` ids): the same
vocabularies. The ``DataLoader`` shuffles with a ``RandomSampler`` seeded by ``--seed``, which
draws the same permutation as wordlab's ``BatchSampler`` in epoch 0 (``torch.randperm`` from a
generator seeded the same), so the batches and their order are A's (checked by digests). A batch
holds the source (S, B), the decoder's inputs ``<bos>`` + target (T, B) and its targets target +
``<eos>`` (T, B), padded with 0, as wordlab's ``PairSplit`` builds them.

With teacher forcing 1 (the benchmark's setting) both sides do the same arithmetic: by default
this model also projects the encoder states for the attention once per batch (``U h_j + b``;
the query's ``W s_{t-1}`` each step), embeds the decoder's inputs at once and takes no argmax it
does not use, as wordlab's ``AttentionDecoder`` does; the parameters are the same in number.
``--as-tutorial`` runs the tutorial's code as written instead: ``Linear`` over the concatenated
``[s_{t-1}; h_j]`` at every step, one embedding lookup per step, the argmax of every step, the
outputs written into a preallocated tensor.

Prints one JSON line: the loop's seconds (from the loader's first batch to the last step), wall
and CPU, its user and system CPU and minor page faults (``getrusage``), the batches and target
tokens (``<eos>`` included, padding not) it trained on, the token-weighted mean loss, the number
of parameters, and digests of the first batch's tensors (batch first, as wordlab's) and of the
order of the rows (``translation.py`` checks them against wordlab's).

    python experiments/bench/plain_mt.py --pairs <work>/multi30k_train.pt --threads 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, RandomSampler


def digest(*tensors: torch.Tensor) -> str:
    """SHA-1 of the shapes and int64 values of ``tensors`` (batch first)."""
    sha = hashlib.sha1()
    for tensor in tensors:
        sha.update(repr(tuple(tensor.shape)).encode())
        sha.update(tensor.to(torch.int64).contiguous().numpy().tobytes())
    return sha.hexdigest()


class Encoder(nn.Module):
    def __init__(
        self, input_dim: int, emb_dim: int, enc_hid_dim: int, dec_hid_dim: int, dropout: float
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(input_dim, emb_dim)
        self.rnn = nn.GRU(emb_dim, enc_hid_dim, bidirectional=True)
        self.fc = nn.Linear(enc_hid_dim * 2, dec_hid_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        embedded = self.dropout(self.embedding(src))  # (S, B, D)
        packed = pack_padded_sequence(embedded, src_len.to("cpu"), enforce_sorted=False)
        packed_outputs, hidden = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs)  # (S, B, 2 * E), zeros at padding
        # the last states of the forward and backward GRU, (B, 2 * E) -> (B, H)
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)))
        return outputs, hidden


class Attention(nn.Module):
    """Additive attention; ``as_tutorial``: the tutorial's one ``Linear`` over [s; h_j]."""

    def __init__(self, enc_hid_dim: int, dec_hid_dim: int, as_tutorial: bool) -> None:
        super().__init__()
        self.as_tutorial = as_tutorial
        if as_tutorial:
            self.attn = nn.Linear((enc_hid_dim * 2) + dec_hid_dim, dec_hid_dim)
        else:  # the same layer cut in two: the key part once per batch, the query part per step
            self.attn_keys = nn.Linear(enc_hid_dim * 2, dec_hid_dim)
            self.attn_query = nn.Linear(dec_hid_dim, dec_hid_dim, bias=False)
        self.v = nn.Linear(dec_hid_dim, 1, bias=False)

    def keys(self, encoder_outputs: torch.Tensor) -> torch.Tensor | None:
        """(B, S, 2 * E) -> (B, S, H), or None: the tutorial projects them at every step."""
        return None if self.as_tutorial else self.attn_keys(encoder_outputs)

    def forward(
        self,
        hidden: torch.Tensor,
        encoder_outputs: torch.Tensor,
        keys: torch.Tensor | None,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        src_len = encoder_outputs.shape[1]  # encoder_outputs (B, S, 2 * E); hidden (B, H)
        if keys is None:
            repeated = hidden.unsqueeze(1).repeat(1, src_len, 1)  # (B, S, H)
            energy = torch.tanh(self.attn(torch.cat((repeated, encoder_outputs), dim=2)))
        else:
            energy = torch.tanh(keys + self.attn_query(hidden).unsqueeze(1))  # (B, S, H)
        attention = self.v(energy).squeeze(2)  # (B, S)
        attention = attention.masked_fill(mask == 0, -1e10)
        return F.softmax(attention, dim=1)


class Decoder(nn.Module):
    def __init__(
        self,
        output_dim: int,
        emb_dim: int,
        enc_hid_dim: int,
        dec_hid_dim: int,
        dropout: float,
        attention: Attention,
    ) -> None:
        super().__init__()
        self.output_dim = output_dim
        self.attention = attention
        self.embedding = nn.Embedding(output_dim, emb_dim)
        self.rnn = nn.GRU((enc_hid_dim * 2) + emb_dim, dec_hid_dim)
        self.fc_out = nn.Linear((enc_hid_dim * 2) + dec_hid_dim + emb_dim, output_dim)
        self.dropout = nn.Dropout(dropout)

    def embed(self, input: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.embedding(input))

    def forward(
        self,
        embedded: torch.Tensor,
        hidden: torch.Tensor,
        encoder_outputs: torch.Tensor,
        keys: torch.Tensor | None,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # embedded (B, D): the previous token's vector; hidden (B, H); encoder_outputs (B, S, 2E)
        a = self.attention(hidden, encoder_outputs, keys, mask).unsqueeze(1)  # (B, 1, S)
        weighted = torch.bmm(a, encoder_outputs).squeeze(1)  # (B, 2 * E)
        rnn_input = torch.cat((embedded, weighted), dim=1).unsqueeze(0)  # (1, B, D + 2E)
        output, hidden = self.rnn(rnn_input, hidden.unsqueeze(0))
        output = output.squeeze(0)  # (B, H)
        prediction = self.fc_out(torch.cat((output, weighted, embedded), dim=1))  # (B, V)
        return prediction, hidden.squeeze(0)


class Seq2Seq(nn.Module):
    def __init__(self, encoder: Encoder, decoder: Decoder, src_pad_idx: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.src_pad_idx = src_pad_idx

    def create_mask(self, src: torch.Tensor) -> torch.Tensor:
        return (src != self.src_pad_idx).permute(1, 0)  # (B, S)

    def forward(
        self,
        src: torch.Tensor,
        src_len: torch.Tensor,
        trg: torch.Tensor,
        teacher_forcing_ratio: float = 0.5,
    ) -> torch.Tensor:
        """Logits (T, B, V) for the decoder inputs ``trg`` (T, B): ``<bos>`` and the target."""
        trg_len, batch_size = trg.shape
        as_tutorial = self.decoder.attention.as_tutorial
        encoder_outputs, hidden = self.encoder(src, src_len)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)  # (B, S, 2 * E)
        mask = self.create_mask(src)
        keys = self.decoder.attention.keys(encoder_outputs)
        embedded = None  # every step reads the reference: embed the inputs at once
        if teacher_forcing_ratio >= 1.0 and not as_tutorial:
            embedded = self.decoder.embed(trg)  # (T, B, D)
        outputs: list[torch.Tensor] = []
        stacked = None
        if as_tutorial:
            stacked = torch.zeros(trg_len, batch_size, self.decoder.output_dim)
        input = trg[0, :]
        for t in range(trg_len):
            vectors = embedded[t] if embedded is not None else self.decoder.embed(input)
            output, hidden = self.decoder(vectors, hidden, encoder_outputs, keys, mask)
            if stacked is not None:
                stacked[t] = output
            else:
                outputs.append(output)
            if t + 1 == trg_len:
                break
            teacher_force = random.random() < teacher_forcing_ratio
            if as_tutorial:
                top1 = output.argmax(1)
                input = trg[t + 1] if teacher_force else top1
            elif embedded is None:
                input = trg[t + 1] if teacher_force else output.argmax(1)
        return stacked if stacked is not None else torch.stack(outputs)


def init_weights(m: nn.Module) -> None:
    for name, param in m.named_parameters():
        if "weight" in name:
            nn.init.normal_(param.data, mean=0, std=0.01)
        else:
            nn.init.constant_(param.data, 0)


def load_pairs(path: str) -> tuple[list[dict[str, torch.Tensor | int]], dict]:
    """The exported training split as the tutorial's examples: the source's ids, the decoder's
    inputs (``<bos>`` + target) and targets (target + ``<eos>``), and the row's index."""
    data = torch.load(path, weights_only=True)
    bos = torch.tensor([data["bos_id"]])
    eos = torch.tensor([data["eos_id"]])
    source, target = data["source_ids"], data["target_ids"]
    so, to = data["source_offsets"].tolist(), data["target_offsets"].tolist()
    examples = []
    for i in range(len(so) - 1):
        sentence = target[to[i] : to[i + 1]]
        examples.append(
            {
                "src_ids": source[so[i] : so[i + 1]],
                "trg_in": torch.cat([bos, sentence]),
                "trg_out": torch.cat([sentence, eos]),
                "index": i,
            }
        )
    return examples, data


def get_collate_fn(pad_index: int):
    def collate_fn(batch: list[dict]) -> dict[str, torch.Tensor]:
        src_ids = [example["src_ids"] for example in batch]
        return {
            "src": pad_sequence(src_ids, padding_value=pad_index),  # (S, B)
            "src_len": torch.tensor([len(ids) for ids in src_ids]),
            "trg_in": pad_sequence([e["trg_in"] for e in batch], padding_value=pad_index),
            "trg_out": pad_sequence([e["trg_out"] for e in batch], padding_value=pad_index),
            "index": torch.tensor([example["index"] for example in batch]),
        }

    return collate_fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", required=True, help="translation.py's export (.pt)")
    parser.add_argument("--emb-dim", type=int, default=128)
    parser.add_argument("--enc-hid-dim", type=int, default=128, help="per direction")
    parser.add_argument("--dec-hid-dim", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--teacher-forcing", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=13, help="initial weights, batch order")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--as-tutorial", action="store_true", help="the tutorial's code as is")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's table")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    examples, data = load_pairs(args.pairs)
    pad_index = int(data["pad_id"])
    attention = Attention(args.enc_hid_dim, args.dec_hid_dim, args.as_tutorial)
    encoder = Encoder(
        int(data["source_vocab_size"]),
        args.emb_dim,
        args.enc_hid_dim,
        args.dec_hid_dim,
        args.dropout,
    )
    decoder = Decoder(
        int(data["target_vocab_size"]),
        args.emb_dim,
        args.enc_hid_dim,
        args.dec_hid_dim,
        args.dropout,
        attention,
    )
    model = Seq2Seq(encoder, decoder, pad_index)
    model.apply(init_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss(ignore_index=pad_index)
    # wordlab's BatchSampler draws torch.randperm(n) from a generator seeded with its seed in
    # epoch 0; so does a RandomSampler given such a generator (the DataLoader's own generator
    # would also draw its workers' base seed from it first, hence the sampler's own).
    sampler = RandomSampler(examples, generator=torch.Generator().manual_seed(args.seed))
    loader = DataLoader(
        examples,  # type: ignore[arg-type]
        batch_size=args.batch_size,
        sampler=sampler,
        collate_fn=get_collate_fn(pad_index),
    )
    profiler = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        profiler = profile(activities=[ProfilerActivity.CPU])
        profiler.__enter__()
    order = hashlib.sha1()
    first = ""
    loss_sum = 0.0
    tokens = steps = 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_started = time.process_time()
    loop_started = time.perf_counter()
    model.train()
    for batch in loader:
        src, src_len, trg_in, trg_out = (
            batch["src"],
            batch["src_len"],
            batch["trg_in"],
            batch["trg_out"],
        )
        if not first:  # batch first, as wordlab's: input_ids, decoder_inputs, targets
            first = digest(src.t(), trg_in.t(), trg_out.t())
        order.update(batch["index"].numpy().tobytes())
        optimizer.zero_grad()
        output = model(src, src_len, trg_in, args.teacher_forcing)  # (T, B, V)
        output_dim = output.shape[-1]
        loss = criterion(output.view(-1, output_dim), trg_out.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        count = int((trg_out != pad_index).sum())
        loss_sum += loss.item() * count
        tokens += count
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
                "source_vocab_size": encoder.embedding.num_embeddings,
                "target_vocab_size": decoder.output_dim,
                "parameters": sum(p.numel() for p in model.parameters()),
                "loop_seconds": loop_seconds,
                "loop_cpu_seconds": loop_cpu_seconds,
                "tokens_per_second": tokens / loop_seconds,
                "train_loss": loss_sum / tokens,
                "first_batch_sha1": first,
                "order_sha1": order.hexdigest(),
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
