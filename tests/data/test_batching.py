import torch

from wordlab.data.batching import BatchSampler, TokenizedSplit


def split(layout: str) -> TokenizedSplit:
    return TokenizedSplit.from_lists([[5, 6, 7], [8], [9, 10]], layout)


def test_padded_batch_and_mask() -> None:
    batch = split("padded").__getitems__([0, 1])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert set(batch) == {"input_ids", "label", "index"}  # the mask is input_ids != 0
    assert batch["index"].tolist() == [0, 1]


def test_flat_batch_and_offsets() -> None:
    batch = split("flat").__getitems__([2, 0])
    assert batch["token_ids"].tolist() == [9, 10, 5, 6, 7]
    assert batch["offsets"].tolist() == [0, 2]


def test_sampler_covers_every_row_once_and_is_seeded() -> None:
    lengths = torch.randint(1, 50, (103,))
    for bucket in (False, True):
        sampler = BatchSampler(lengths, batch_size=10, shuffle=True, bucket=bucket, seed=3)
        epoch = list(sampler)
        assert len(epoch) == len(sampler) == 11
        assert sorted(i for b in epoch for i in b) == list(range(103))
        assert list(BatchSampler(lengths, 10, True, bucket, seed=3)) == epoch
        assert list(sampler) != epoch  # the next epoch has a new order


def test_bucketing_reduces_padding() -> None:
    lengths = torch.randint(1, 200, (2000,), generator=torch.Generator().manual_seed(0))

    def padding(bucket: bool) -> int:
        batches = BatchSampler(lengths, 32, shuffle=True, bucket=bucket, seed=0)
        return sum(int(lengths[b].max() * len(b) - lengths[b].sum()) for b in batches)

    assert padding(True) < padding(False) / 4


def test_unshuffled_order_is_row_order() -> None:
    assert list(BatchSampler(torch.ones(5), batch_size=2)) == [[0, 1], [2, 3], [4]]
