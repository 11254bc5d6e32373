"""Token attributions: hand-computed cases, completeness, trained models, ``wordlab-eval``."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

import wordlab
from conftest import NEGATIVE, POSITIVE
from wordlab.attribution import Explanations, explain, model_inputs, select_examples
from wordlab.attribution_html import side_by_side
from wordlab.config import compose
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.evaluate import evaluate
from wordlab.models import BagEncoder, CNNEncoder
from wordlab.models.bag import hashed_ngrams, ngram_spans
from wordlab.tasks.classification import TextClassifier
from wordlab.tasks.classification.predictor import TextPredictor
from wordlab.train import fit

CUES = set(POSITIVE + NEGATIVE)
WORDS = ["<pad>", "<unk>", "good", "bad", "the", "movie"]


def predictor_for(
    encoder: torch.nn.Module, weight: torch.Tensor, **embedding: bool
) -> TextPredictor:
    system = TextClassifier(
        encoder=encoder,
        embeddings=InitialEmbeddings(weight=weight, **embedding),
        label_names=["negative", "positive"],
        optimizer=partial(torch.optim.Adam),
    )
    config = {"data": {"tokenizer": "whitespace", "lowercase": True}}
    return TextPredictor(system, Vocabulary(WORDS), ["negative", "positive"], config)


def test_bag_forward_embedded_matches_forward() -> None:
    torch.manual_seed(0)
    words = torch.nn.Embedding(20, 4)
    for ngrams in (1, 3):
        encoder = BagEncoder(input_dim=4, ngrams=ngrams, buckets=50).eval()
        ids = torch.tensor([3, 4, 5, 6, 7])
        expected = encoder(ids, torch.tensor([0]), words)  # (1, 4)
        vectors = words(ids).unsqueeze(0).expand(3, -1, -1)  # (3, T, D)
        assert torch.allclose(encoder.forward_embedded(vectors, ids), expected.expand(3, -1))
        ngram_vectors = encoder.document_ngrams(ids).unsqueeze(0)  # (1, M, D)
        assert ngram_vectors.size(1) == len(ngram_spans(5, ngrams)) == (0 if ngrams == 1 else 7)
        given = encoder.forward_embedded(vectors[:1], ids, ngram_vectors)
        assert torch.allclose(given, expected)


def test_ngram_spans_follow_the_hashing_order() -> None:
    ids = torch.tensor([4, 9, 2, 7])
    buckets, _ = hashed_ngrams(ids, torch.tensor([0]), ngrams=3, buckets=1000)
    assert ngram_spans(4, 3) == [(0, 2), (1, 2), (2, 2), (0, 3), (1, 3)]
    recomputed = []
    for start, n in ngram_spans(4, 3):
        value = int(ids[start])
        for j in range(1, n):
            value = value * 116_049_371 + int(ids[start + j])
        recomputed.append(value % 1000)
    assert buckets.tolist() == recomputed


def test_linear_bag_scores_are_hand_computed() -> None:
    weight = torch.zeros(len(WORDS), 2)
    weight[2], weight[3], weight[4] = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 0.5
    predictor = predictor_for(BagEncoder(input_dim=2), weight)
    with torch.no_grad():
        predictor.system.head.linear.weight.copy_(torch.tensor([[0.0, 2.0], [2.0, 0.0]]))
        predictor.system.head.linear.bias.zero_()
    # Mean of 4 vectors, logit(positive) = 2 * first feature: each token adds 2 * v[0] / 4.
    for method in ("integrated_gradients", "grad_x_input"):
        [found] = explain(predictor, ["good the plot movie"], method=method)
        assert found.predicted == found.target == "positive" and found.method == method
        assert found.tokens == ["good", "the", "plot", "movie"]
        assert found.unknown == [False, False, True, False]
        assert found.scores == pytest.approx([0.5, 0.25, 0.0, 0.0], abs=1e-5)
    [against] = explain(predictor, "good the plot movie", target="negative")
    assert against.scores == pytest.approx([0.0, 0.25, 0.0, 0.0], abs=1e-5)


def test_multichannel_cnn_scores_add_up_to_the_logit_change() -> None:
    torch.manual_seed(1)
    weight = torch.randn(len(WORDS), 3)
    encoder = CNNEncoder(input_dim=6, num_filters=4, kernel_sizes=(1, 2), dropout=0.0)
    predictor = predictor_for(encoder, weight, multichannel=True)
    system = predictor.system
    ids = torch.tensor([2, 5, 3, 4])
    inputs, forward, _ = model_inputs(system, ids)
    assert inputs[0].shape == (1, 4, 6)  # both channels
    with torch.no_grad():
        logits = forward(inputs[0])[0]  # (C,)
        baseline = forward(torch.zeros_like(inputs[0]))[0]  # (C,)
    [found] = explain(predictor, ["good movie bad the"], n_steps=300)
    target = predictor.label_names.index(found.target)
    change = float(logits[target] - baseline[target])
    assert sum(found.scores) == pytest.approx(change, abs=1e-2 + 1e-2 * abs(change))
    assert abs(found.delta) < 1e-2 + 1e-2 * abs(change)


@pytest.mark.parametrize("model", ["cnn", "rnn", "bag"])
def test_the_deciding_word_gets_the_largest_score(train_overrides: list[str], model: str) -> None:
    overrides = [o for o in train_overrides if not o.startswith("model.")]
    if model == "bag":  # its optimizer (Adagrad) at its own learning rate
        overrides = [o for o in overrides if not o.startswith("system.optimizer.lr")]
    extra = {
        "cnn": ["model.num_filters=8"],
        "rnn": ["model.hidden_dim=16", "trainer.max_epochs=6"],
        "bag": ["model.ngrams=2", "model.buckets=1000", "trainer.max_epochs=6"],
    }[model]
    result = fit(compose([*overrides, f"model={model}", *extra, "logger=none"]))
    folder = Path(result.datamodule.path)
    rows = [json.loads(line) for line in (folder / "test.jsonl").read_text().splitlines()]
    found = wordlab.explain(result, [r["text"] for r in rows], gold=[r["label"] for r in rows])
    right = [e for e in found if e.correct]
    assert len(right) >= 0.8 * len(rows)
    top = [e.top_tokens(1)[0][0] for e in right]
    assert sum(t in CUES for t in top) >= 0.95 * len(right)
    assert all(abs(e.delta) < 0.05 for e in found)


def test_explain_a_logged_run_and_log_explanations(train_overrides: list[str]) -> None:
    cfg = compose(train_overrides)
    run_id = fit(cfg).run_id
    found = wordlab.explain(run_id, ["A superb zyzzyva plot.", ""])
    assert isinstance(found, Explanations) and len(found) == 2
    assert found[0].tokens == ["a", "superb", "zyzzyva", "plot", "."]
    assert found[0].unknown == [False, False, True, False, False]
    assert found[1].tokens == ["<unk>"]
    html = found.html()
    assert "zyzzyva" in html and "underline dotted" in html
    frame = found.to_frame()
    assert list(frame.token[:5]) == found[0].tokens and len(frame) == 6

    evaluate(compose([f"run_id={run_id}", "explain=5"], config_name="eval"))
    client = MlflowClient(cfg.logger.tracking_uri)
    files = {a.path for a in client.list_artifacts(run_id, "eval/test")}
    assert "eval/test/explanations.html" in files
    page = Path(client.download_artifacts(run_id, "eval/test/explanations.html")).read_text()
    assert page.startswith("<!doctype html>") and page.count("explains <i>") == 5
    predictions = Path(client.download_artifacts(run_id, "eval/test/predictions.jsonl"))
    wrong = [json.loads(line) for line in predictions.read_text().splitlines()]
    wrong = [r for r in wrong if not r["correct"]]
    assert page.count("&#10007;") == min(len(wrong), 5)  # the wrong ones come first


class OneTextEncoder(CNNEncoder):
    """A CNN that refuses batches of more than one text (as some custom encoders do)."""

    def forward(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if embedded.size(0) != 1:
            raise RuntimeError("this encoder reads one text at a time")
        return super().forward(embedded, mask)


def test_falls_back_to_gradient_times_input(caplog: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(2)
    encoder = OneTextEncoder(input_dim=3, num_filters=2, kernel_sizes=(1,), dropout=0.0)
    predictor = predictor_for(encoder, torch.randn(len(WORDS), 3))
    [found] = explain(predictor, ["good movie"])
    assert found.method == "grad_x_input" and found.delta is None
    assert "integrated gradients failed (this encoder reads one text at a time)" in caplog.text
    [direct] = explain(predictor, ["good movie"], method="grad_x_input")
    assert direct.scores == pytest.approx(found.scores)
    ids = torch.tensor([2, 5])
    (vectors,), forward, _ = model_inputs(predictor.system, ids)
    vectors.requires_grad_()
    forward(vectors)[0, predictor.label_names.index(found.target)].backward()
    expected = (vectors.grad * vectors).sum(-1)[0]  # gradient times input, per token
    assert found.scores == pytest.approx(expected.tolist(), abs=1e-6)


def test_select_examples_puts_confident_errors_first() -> None:
    probabilities = torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.7, 0.3], [0.45, 0.55]])
    labels = torch.tensor([0, 0, 0, 1, 1])
    assert select_examples(probabilities, labels, 10) == [2, 3, 1, 0, 4]
    assert select_examples(probabilities, labels, 2) == [2, 3]


def test_side_by_side_has_one_row_per_text() -> None:
    predictor = predictor_for(BagEncoder(input_dim=2), torch.randn(len(WORDS), 2))
    found = explain(predictor, ["good movie", "bad"])
    html = side_by_side({"A": found, "B": found})
    assert html.count("<tr>") == 3 and "<th>A</th><th>B</th>" in html
    with pytest.raises(ValueError, match="as many explanations"):
        side_by_side({"A": found, "B": Explanations(found[:1])})


def test_bad_arguments_are_named() -> None:
    predictor = predictor_for(BagEncoder(input_dim=2), torch.randn(len(WORDS), 2))
    with pytest.raises(ValueError, match="unknown explain method 'lime'"):
        explain(predictor, ["good"], method="lime")
    with pytest.raises(ValueError, match="unknown class 'neutral'"):
        explain(predictor, ["good"], target="neutral")
    with pytest.raises(ValueError, match="gold has 1 entries for 2 texts"):
        explain(predictor, ["good", "bad"], gold=["positive"])
    with pytest.raises(TypeError, match="cannot explain with a int"):
        explain(3, ["good"])
    with pytest.raises(ValueError, match=r"explain must be a number of examples \(explain=N\)"):
        evaluate(compose(["run_id=abc", "explain=-1"], config_name="eval"))


def test_without_captum_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "captum", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(ImportError, match=r"pip install 'wordlab\[explain\]'"):
        wordlab.explain("any run", ["text"])
    with pytest.raises(ImportError, match=r"explain=N needs Captum: pip install"):
        evaluate(compose(["run_id=any", "explain=3"], config_name="eval"))


def test_exports_stay_functions_after_their_modules_load() -> None:
    import wordlab.attribution
    import wordlab.tracking.run_table

    assert wordlab.explain is wordlab.attribution.explain
    assert wordlab.runs is wordlab.tracking.run_table.runs
