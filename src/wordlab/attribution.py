"""Attribute a classifier's predictions (or a tagger's spans) to the input tokens, with Captum.

Integrated gradients (Sundararajan et al., 2017, "Axiomatic Attribution for Deep Networks") on
the embedding layer: the token vectors move from a baseline of zero vectors (the ``<pad>``
vector) to their values, and each token's score is its share of the change of the explained
class's logit, summed over the vector's features (over both channels of a multichannel model).
Gradient times input is the one-step alternative, also used when integrated gradients fails.

For a tagger the explained score is the sum of a predicted span's tag scores, attributed to the
sentence's word vectors (the character features are held fixed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from wordlab.attribution_html import LEGEND, explanation_html, page
from wordlab.data.vocab import UNK, UNK_ID
from wordlab.models.bag import ngram_spans
from wordlab.predictor import Predictor, load_checkpoint, load_run
from wordlab.tasks.classification.predictor import TextPredictor
from wordlab.tasks.tagging.predictor import TaggerPredictor
from wordlab.tasks.tagging.schemes import spans

if TYPE_CHECKING:
    import pandas as pd

    from wordlab.tasks.classification import TextClassifier

log = logging.getLogger(__name__)

METHODS = ("integrated_gradients", "grad_x_input")
INSTALL_HINT = "pip install 'wordlab[explain]'"
# Model inputs of one text, the forward from them to logits (S, C), and the fold of their
# attributions into one score per token (T,).
Inputs = tuple[tuple[torch.Tensor, ...], Callable[..., torch.Tensor], Callable[..., torch.Tensor]]


def require_captum(option: str = "wordlab.explain") -> None:
    """Raise an ImportError that names the extra to install when Captum is missing."""
    try:
        import captum.attr  # noqa: F401
    except ImportError as error:
        raise ImportError(f"{option} needs Captum: {INSTALL_HINT}") from error


@dataclass
class Explanation:
    """Token attributions of one prediction.

    Attributes:
        text: The input text.
        tokens: The tokens the model read (after lowercasing and truncation).
        unknown: True at tokens outside the vocabulary (read as ``<unk>``).
        scores: Each token's attribution to the logit of ``target``; positive supports it.
        target: The class explained (the predicted one unless asked otherwise).
        predicted: The predicted class.
        probabilities: Probability of each class.
        method: The method used: ``integrated_gradients`` or ``grad_x_input``.
        gold: The true class, if known.
        delta: Integrated gradients' completeness error: the sum of the scores minus the
            logit change from baseline to input (None for gradient times input).
    """

    text: str
    tokens: list[str]
    unknown: list[bool]
    scores: list[float]
    target: str
    predicted: str
    probabilities: dict[str, float]
    method: str
    gold: str | None = None
    delta: float | None = None

    @property
    def correct(self) -> bool | None:
        return None if self.gold is None else self.gold == self.predicted

    def top_tokens(self, count: int = 3) -> list[tuple[str, float]]:
        """The ``count`` tokens with the largest scores, largest first."""
        order = sorted(range(len(self.scores)), key=lambda i: -self.scores[i])
        return [(self.tokens[i], self.scores[i]) for i in order[:count]]

    def html(self) -> str:
        """The tokens shaded by score: green supports ``target``, red speaks against it."""
        return explanation_html(self)


class Explanations(list[Explanation]):
    """The explanations of several texts; shown as HTML in a notebook."""

    def html(self) -> str:
        return LEGEND + "".join(e.html() for e in self)

    def _repr_html_(self) -> str:
        return self.html()

    def save_html(self, path: str | Path, title: str = "wordlab explanations") -> Path:
        """Write a standalone HTML page (the MLflow UI shows it as an artifact)."""
        path = Path(path)
        path.write_text(page(title, self.html()), encoding="utf-8")
        return path

    def to_frame(self) -> pd.DataFrame:
        """One row per token: example, position, token, unknown, score, target, predicted."""
        import pandas as pd

        rows = [
            {"example": i, "position": p, "token": t, "unknown": u, "score": s}
            | {"target": e.target, "predicted": e.predicted, "gold": e.gold}
            for i, e in enumerate(self)
            for p, (t, u, s) in enumerate(zip(e.tokens, e.unknown, e.scores, strict=True))
        ]
        return pd.DataFrame(rows)


def explain(
    source: Any,
    texts: str | Sequence[str],
    target: str | Sequence[str] | None = None,
    gold: Sequence[str] | None = None,
    method: str = "integrated_gradients",
    n_steps: int = 50,
    internal_batch_size: int = 64,
    tracking_uri: str | None = None,
) -> Explanations:
    """Attribute the prediction of each text to its tokens (CNN, RNN and bag models), or for a
    tagger, a predicted entity span to the sentence's tokens.

    Args:
        source: A ``Predictor``, an MLflow run id, a checkpoint path, or what ``wordlab.fit``
            returned.
        texts: One text or several.
        target: The class to explain, one for all texts or one per text (default: the
            predicted class of each). For a tagger: the entity type whose first predicted span
            in the text is explained (default: the first predicted span), through the sum of
            that span's tag scores.
        gold: The true class of each text, shown next to the prediction.
        method: ``integrated_gradients`` or ``grad_x_input`` (gradient times input: one
            backward pass, cruder). Integrated gradients falls back to it, with a warning, if
            it fails for a model.
        n_steps: Steps of the integrated gradients path integral.
        internal_batch_size: Path steps per forward pass (bounds memory on long texts).
        tracking_uri: The MLflow store of a run id (default as ``wordlab.load_run``).

    Returns:
        One ``Explanation`` per text (tokens, scores, prediction), as a list that a notebook
        shows as HTML.

    Raises:
        ImportError: Captum is not installed (``pip install 'wordlab[explain]'``).
    """
    require_captum()
    if method not in METHODS:
        raise ValueError(f"unknown explain method {method!r}; expected one of {METHODS}")
    predictor = _any_predictor(source, tracking_uri)
    texts = [texts] if isinstance(texts, str) else list(texts)
    settings = {"method": method, "n_steps": n_steps, "internal_batch_size": internal_batch_size}
    if isinstance(predictor, TaggerPredictor):
        types = _per_text(target, len(texts), "target")
        return Explanations(
            _explain_span(predictor, t, w, settings) for t, w in zip(texts, types, strict=True)
        )
    predictor = as_predictor(predictor)
    targets = _per_text(target, len(texts), "target")
    golds = _per_text(gold, len(texts), "gold")
    for name in {*targets, *golds} - {None, *predictor.label_names}:
        raise ValueError(f"unknown class {name!r}; the model's classes: {predictor.label_names}")
    return Explanations(
        _explain_one(predictor, text, wanted, label, settings)
        for text, wanted, label in zip(texts, targets, golds, strict=True)
    )


def as_predictor(source: Any, tracking_uri: str | None = None) -> TextPredictor:
    """A classifier's predictor from a predictor, run id, checkpoint path or ``wordlab.fit``
    result; another task's run is an error that names its task."""
    predictor = _any_predictor(source, tracking_uri)
    if not isinstance(predictor, TextPredictor):
        raise ValueError(
            f"wordlab.explain attributes a classifier's predictions; this run's task is "
            f"{predictor.task!r}"
        )
    return predictor


def _any_predictor(source: Any, tracking_uri: str | None) -> Predictor:
    from wordlab.tasks import get_task, task_name

    if isinstance(source, Predictor):
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if path.suffix == ".ckpt" or path.is_file():
            return load_checkpoint(path)
        return load_run(str(source), tracking_uri)
    system, datamodule = getattr(source, "system", None), getattr(source, "datamodule", None)
    if system is not None and datamodule is not None:
        task = get_task(task_name(system.run_metadata.get("config", {})))
        return task.predictor(system, datamodule, source.run_id)
    if isinstance(getattr(source, "run_id", None), str):  # a sweep job that reused a run
        return load_run(source.run_id, tracking_uri)
    raise TypeError(
        f"cannot explain with a {type(source).__name__}: expected a Predictor, an MLflow run id, "
        "a checkpoint path or the result of wordlab.fit"
    )


def select_examples(probabilities: torch.Tensor, labels: torch.Tensor, count: int) -> list[int]:
    """Rows to explain: wrong predictions, most confident first, then right ones, likewise.

    Args:
        probabilities: Class probabilities, shape (N, C).
        labels: Gold class indices, shape (N,).
        count: How many rows.
    """
    confidence, predicted = probabilities.max(dim=1)  # (N,), (N,)
    wrong = predicted != labels  # (N,)
    order = sorted(range(len(labels)), key=lambda i: (not wrong[i], -float(confidence[i])))
    return order[:count]


def _per_text(value: Any, count: int, option: str) -> list[Any]:
    if value is None or isinstance(value, str):
        return [value] * count
    values = list(value)
    if len(values) != count:
        raise ValueError(f"{option} has {len(values)} entries for {count} texts")
    return values


def _explain_one(
    predictor: TextPredictor, text: str, target: str | None, gold: str | None, settings: dict
) -> Explanation:
    system = predictor.system.eval()
    tokens = predictor.tokenizer(text)[: predictor.max_length]
    ids = predictor.vocab.encode(tokens) or [UNK_ID]
    tokens = tokens or [UNK]
    token_ids = torch.tensor(ids, device=system.device)  # (T,)
    inputs, forward, to_tokens = model_inputs(system, token_ids)
    with torch.no_grad():
        probabilities = forward(*inputs).softmax(-1)[0].float().cpu()  # (C,)
    names = predictor.label_names
    predicted = names[int(probabilities.argmax())]
    target = target or predicted
    attributions, delta, used = _attribute(forward, inputs, names.index(target), settings)
    return Explanation(
        text=text,
        tokens=tokens,
        unknown=[i == UNK_ID for i in ids],
        scores=to_tokens(*attributions).float().cpu().tolist(),
        target=target,
        predicted=predicted,
        probabilities=dict(zip(names, probabilities.tolist(), strict=True)),
        method=used,
        gold=gold,
        delta=delta,
    )


def _explain_span(
    predictor: TaggerPredictor, text: str, wanted: str | None, settings: dict
) -> Explanation:
    """Attribute a tagger's predicted span (the first of type ``wanted``, or the first) to the
    word vectors of the sentence: the score explained is the sum of the span's tag scores."""
    system = predictor.system.eval()
    tokens = predictor.tokenizer(text) or [text]
    batch = {k: v.to(system.device) for k, v in predictor.batch([tokens]).items()}
    with torch.no_grad():
        emissions = system(batch)  # (1, T, K)
    path = system.decode(emissions, batch["input_ids"] != 0)[0]
    names = predictor.tag_names
    found = [s for s in spans([names[i] for i in path]) if wanted in (None, s.label)]
    if not found:
        raise ValueError(f"no predicted {wanted or 'entity'} span in {text!r} to explain")
    span = found[0]
    positions = torch.arange(span.start, span.end, device=system.device)  # (L,)
    tags = torch.tensor(path[span.start : span.end], device=system.device)  # (L,)
    words = system.embedder(batch["input_ids"]).detach()  # (1, T, D)
    chars = system.char_encoder(batch["char_ids"]).detach() if system.char_encoder else None
    mask = batch["input_ids"] != 0  # (1, T)

    def forward(vectors: torch.Tensor) -> torch.Tensor:  # (S, T, D) -> (S,)
        size = vectors.size(0)
        extra = chars.expand(size, -1, -1) if chars is not None else None
        inputs = torch.cat([vectors, extra], -1) if extra is not None else vectors
        states = system.encoder(inputs, mask.expand(size, -1))  # (S, T, H)
        return system.scores(states)[:, positions, tags].sum(-1)

    attributions, delta, used = _attribute(forward, (words,), None, settings)
    probability = emissions[0, positions].softmax(-1).gather(1, tags.unsqueeze(1)).mean()
    label = f"{span.label} '{' '.join(tokens[span.start : span.end])}'"
    return Explanation(
        text=text,
        tokens=tokens,
        unknown=[i == UNK_ID for i in batch["input_ids"][0].tolist()],
        scores=attributions[0][0].sum(-1).float().cpu().tolist(),
        target=label,
        predicted=label,
        probabilities={span.label: float(probability)},
        method=used,
        delta=delta,
    )


def model_inputs(system: TextClassifier, token_ids: torch.Tensor) -> Inputs:
    """Per-token vectors of one text (each (1, ...)), a forward from them, and the folding.

    Args:
        system: The classifier (any ``input_layout``).
        token_ids: The text's ids, shape (T,).
    """
    if system.input_layout != "flat":
        embedded = system.embedder(token_ids.unsqueeze(0)).detach()  # (1, T, D)
        mask = torch.ones_like(embedded[..., 0], dtype=torch.bool)  # (1, T)

        def forward_padded(vectors: torch.Tensor) -> torch.Tensor:  # (S, T, D) -> (S, C)
            return system.head(system.encoder(vectors, mask.expand(vectors.size(0), -1)))

        return (embedded,), forward_padded, lambda scores: scores[0].sum(-1)  # (T,)
    encoder: Any = system.encoder
    words = system.embedder.embedding(token_ids).unsqueeze(0).detach()  # (1, T, D)
    ngrams = encoder.document_ngrams(token_ids).unsqueeze(0).detach()  # (1, M, D)
    if ngrams.size(1) == 0:
        return (
            (words,),
            lambda w: system.head(encoder.forward_embedded(w, token_ids)),
            lambda scores: scores[0].sum(-1),  # (T,)
        )
    # Each n-gram's score is shared equally by the tokens it spans.
    share = torch.zeros(ngrams.size(1), words.size(1), device=words.device)  # (M, T)
    for row, (start, n) in enumerate(ngram_spans(words.size(1), encoder.ngrams)):
        share[row, start : start + n] = 1.0 / n
    return (
        (words, ngrams),
        lambda w, g: system.head(encoder.forward_embedded(w, token_ids, g)),
        lambda word_scores, ngram_scores: (
            word_scores[0].sum(-1) + ngram_scores[0].sum(-1) @ share
        ),  # (T,)
    )


def _attribute(
    forward: Callable[..., torch.Tensor],
    inputs: tuple[torch.Tensor, ...],
    target: int | None,
    settings: dict,
) -> tuple[tuple[torch.Tensor, ...], float | None, str]:
    from captum.attr import InputXGradient, IntegratedGradients

    # cuDNN's recurrent kernels have no backward pass in eval mode; the native ones do.
    with torch.backends.cudnn.flags(enabled=False):
        if settings["method"] == "integrated_gradients":
            try:
                attributions, delta = IntegratedGradients(forward).attribute(
                    inputs,
                    baselines=tuple(torch.zeros_like(x) for x in inputs),
                    target=target,
                    n_steps=settings["n_steps"],
                    internal_batch_size=settings["internal_batch_size"],
                    return_convergence_delta=True,
                )
                return tuple(attributions), float(delta.sum()), "integrated_gradients"
            except RuntimeError as error:
                log.warning("integrated gradients failed (%s); using gradient x input", error)
        leaves = tuple(x.detach().requires_grad_() for x in inputs)
        attributions = InputXGradient(forward).attribute(leaves, target=target)
    return tuple(attributions), None, "grad_x_input"
