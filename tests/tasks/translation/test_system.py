"""The translator: its options, teacher forcing, decoding limits, scores, a checkpoint's return."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from wordlab.config import compose
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models import CNNEncoder, RNNEncoder
from wordlab.predictor import load_checkpoint
from wordlab.tasks.translation.data import BOS, EOS
from wordlab.tasks.translation.system import Translator
from wordlab.train import build

SOURCE = ["<pad>", "<unk>", *[f"s{i}" for i in range(10)]]
TARGET = ["<pad>", "<unk>", BOS, EOS, *[f"t{i}" for i in range(10)]]


def translator(**options: object) -> Translator:
    torch.manual_seed(0)
    source = InitialEmbeddings(weight=torch.randn(len(SOURCE), 8))
    target = InitialEmbeddings(weight=torch.randn(len(TARGET), 8))
    encoder = RNNEncoder(8, 6, cell="gru", pooling=None, dropout=0.0)
    return Translator(
        encoder,
        source,
        target,
        TARGET,
        vocab=SOURCE,
        dropout=0.0,
        **options,  # type: ignore[arg-type]
    )


def test_options_out_of_range_and_encoders_without_states_are_refused() -> None:
    with pytest.raises(ValueError, match="system.teacher_forcing=1.5"):
        translator(teacher_forcing=1.5)
    with pytest.raises(ValueError, match="system.beam_size=0"):
        translator(beam_size=0)
    with pytest.raises(ValueError, match="model=rnn"):
        table = InitialEmbeddings(weight=torch.randn(len(SOURCE), 8))
        Translator(CNNEncoder(8), table, table, TARGET)
    with pytest.raises(ValueError, match="no '<bos>'"):
        table = InitialEmbeddings(weight=torch.randn(4, 8))
        Translator(RNNEncoder(8, pooling=None), table, table, ["<pad>", "<unk>", "a", EOS])


def test_a_translation_stops_at_the_length_its_source_allows() -> None:
    system = translator(max_length_ratio=1.0, max_length_offset=2)
    source = torch.tensor([[2, 3, 4, 0, 0], [2, 3, 4, 5, 6]])
    assert system.max_lengths(source).tolist() == [5, 7]  # <eos> among them
    for beam in (1, 3):
        ids, weights = system.translate_ids(source, beam_size=beam)
        assert len(ids[0]) <= 5 and len(ids[1]) <= 7
        assert all(i not in (0, 2, 3) for row in ids for i in row)  # no <pad>, <bos>, <eos>
        assert weights[0].shape[1] == 3 and weights[1].shape[1] == 5


def test_training_steps_lower_the_loss_of_a_copy_task() -> None:
    system = translator(teacher_forcing=0.5)
    optimizer = torch.optim.Adam(system.parameters(), lr=0.03)
    source = torch.randint(2, 12, (16, 5))
    words = source + 2  # s_i -> t_i
    batch = {
        "input_ids": source,
        "decoder_inputs": torch.cat([torch.full((16, 1), 2), words], 1),
        "targets": torch.cat([words, torch.full((16, 1), 3)], 1),
    }
    system.train()
    first = None
    for _ in range(60):
        loss, tokens = system._loss(batch, system.teacher_forcing)
        first = first if first is not None else float(loss.detach())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert tokens == 16 * 6 and float(loss.detach()) < first / 4
    ids, _ = system.translate_ids(source[:4], beam_size=1)
    assert ids == words[:4].tolist()


def test_a_checkpoint_translates_as_the_system_it_came_from(
    mt_overrides: list[str], tmp_path: Path
) -> None:
    cfg = compose([*mt_overrides, "data.shared_vocab=true", "system.attention=general"])
    datamodule, _, system = build(cfg, instantiate(cfg.data))
    assert system.target_embedder is system.embedder  # one vocabulary, one table
    path = tmp_path / "model.ckpt"
    torch.save({"wordlab": system.run_metadata, "state_dict": system.state_dict()}, path)
    predictor = load_checkpoint(path)
    texts = ["Der hund sieht den fuchs.", "Der alte mann mag den vogel."]
    batch = next(iter(datamodule.dataloader("test")))
    expected, _ = system.translate_ids(batch["input_ids"][:2], beam_size=2)
    rows = predictor.translate_rows(batch["sources"][:2], beam=2)
    assert [r["tokens"] for r in rows] == [system.tokens(i) for i in expected]
    assert predictor.translate(texts, beam=1) == predictor.translate(texts, beam=1)
    steps, read = rows[0]["weights"].shape  # the <eos> step too, unless cut at the limit
    assert steps in (len(rows[0]["tokens"]), len(rows[0]["tokens"]) + 1)
    assert read == len(rows[0]["source_tokens"])


def write_vectors(path: Path, words: dict[str, list[float]]) -> Path:
    lines = [f"{len(words)} 4"] + [f"{w} {' '.join(map(str, v))}" for w, v in words.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_side_reads_its_own_vector_file_and_word2vec_its_own_text(
    mt_overrides: list[str], tmp_path: Path
) -> None:
    german = write_vectors(tmp_path / "de.txt", {"hund": [1, 0, 0, 0], "katze": [0, 1, 0, 0]})
    english = write_vectors(tmp_path / "en.txt", {"dog": [0, 0, 1, 0], "cat": [0, 0, 0, 1]})
    files = [
        "embedding=pretrained",
        f"embedding.path={german}",
        f"+target_embedding.path={english}",
    ]
    cfg = compose([*mt_overrides, "data.lowercase=true", *files, "embedding.embedding_dim=4"])
    datamodule, embeddings, system = build(cfg, instantiate(cfg.data))
    assert datamodule.vocab is not None and datamodule.target_vocab is not None
    source_row = system.embedder.embedding.weight[datamodule.vocab.index["hund"]]
    target_row = system.target_embedder.embedding.weight[datamodule.target_vocab.index["dog"]]
    assert source_row.tolist() == [1, 0, 0, 0] and target_row.tolist() == [0, 0, 1, 0]
    assert embeddings.metrics["embedding/found"] == 2
    assert embeddings.metrics["embedding/target_found"] == 2

    w2v = ["embedding=word2vec", "embedding.embedding_dim=8", "embedding.epochs=1"]
    cfg = compose([*mt_overrides, "data.lowercase=true", *w2v])
    datamodule, embeddings, _ = build(cfg, instantiate(cfg.data))
    names = sorted(p.name for p in embeddings.artifacts)
    assert names and all(f"target_{n}" in names for n in names if not n.startswith("target_"))
    assert embeddings.metrics["embedding/vocab_coverage"] == 1.0
    # every target word has a vector but <bos> and <eos>, which no sentence holds
    words = len(datamodule.target_vocab) - 2
    assert embeddings.metrics["embedding/target_vocab_coverage"] == (words - 2) / words
