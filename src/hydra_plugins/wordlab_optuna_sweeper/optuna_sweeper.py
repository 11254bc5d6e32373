"""Ask Optuna for trials, run them through the configured Hydra launcher, tell the results.

The maintained ``hydra-optuna-sweeper`` pins Optuna below 3, whose database storage fails with
SQLAlchemy 2 (which MLflow needs), so studies could not be stored or resumed. This sweeper is
the same idea on Optuna's current ask-and-tell API, with the same search-space syntax.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def distribution(override: Override) -> Any:
    """The Optuna distribution for a sweep override (choice, range or interval)."""
    import optuna.distributions as dist

    value = override.value()
    if isinstance(value, ChoiceSweep):
        return dist.CategoricalDistribution([v for v in value.list])
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if all(isinstance(x, int) for x in (start, stop, step)) and step > 0:
            return dist.IntDistribution(start, stop - 1 - (stop - 1 - start) % step, step=step)
        return dist.CategoricalDistribution(list(override.sweep_iterator()))
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return dist.IntDistribution(value.start, value.end, log=log_scale)
        return dist.FloatDistribution(float(value.start), float(value.end), log=log_scale)
    raise ValueError(f"{override.input_line}: not a search dimension")


def format_value(value: Any) -> str:
    """A trial's value as a Hydra override value."""
    if isinstance(value, str) and (not value or any(c in value for c in " ,()[]{}=:'\"\\")):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


class OptunaSweeper(Sweeper):
    """Hydra sweeper that runs an Optuna study (see ``config.py`` for the options)."""

    def __init__(
        self,
        sampler: Any,
        direction: str,
        storage: str | None,
        study_name: str | None,
        n_trials: int,
        n_jobs: int,
        params: dict[str, str] | None,
    ) -> None:
        self.sampler_cfg = sampler
        self.direction = direction
        self.storage = storage
        self.study_name = study_name
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.params = dict(params or {})

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _search_space(self, arguments: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        lines = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        space, fixed = {}, []
        for override in parser.parse_overrides(lines):
            key = override.get_key_element()
            if override.is_sweep_override():
                space[key] = distribution(override)
            else:  # a value given on the command line pins that dimension
                space.pop(key, None)
                fixed.append(override.input_line)
        return space, fixed

    def sweep(self, arguments: list[str]) -> None:
        import optuna
        from hydra.utils import instantiate

        space, fixed = self._search_space(arguments)
        if not space:
            raise ValueError("hydra.sweeper.params defines no search dimension")
        sampler = self.sampler_cfg  # Hydra builds it with the sweeper unless it is a plain dict
        if isinstance(sampler, (dict, DictConfig)):
            sampler = instantiate(sampler)
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self.storage,
            sampler=sampler,
            direction=self.direction,
            load_if_exists=True,
        )
        done = sum(1 for t in study.trials if t.state.is_finished())
        log.info("study %s: %d of %d trials done", study.study_name, done, self.n_trials)
        job_index = 0
        while done < self.n_trials:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, self.n_trials - done))]
            batch = [
                [*fixed, *(f"{k}={format_value(v)}" for k, v in trial.params.items())]
                for trial in trials
            ]
            returns = self.launcher.launch(batch, initial_job_idx=job_index)
            for trial, result in zip(trials, returns, strict=True):
                value = result.return_value if result.status == JobStatus.COMPLETED else None
                if isinstance(value, (int, float)) and math.isfinite(value):
                    study.tell(trial, float(value))
                else:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
            job_index += len(batch)
            done += len(batch)
        self._report(study)

    def _report(self, study: Any) -> None:
        from pathlib import Path

        completed = [t for t in study.trials if t.value is not None]
        if not completed:
            log.warning("no trial of study %s finished", study.study_name)
            return
        best = study.best_trial
        results = {"name": study.study_name, "best_value": best.value, "best_params": best.params}
        path = Path(self.config.hydra.sweep.dir) / "optimization_results.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(results), path)
        log.info("best trial %d: %s = %s", best.number, best.params, best.value)
