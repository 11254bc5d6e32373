"""Config schema of ``hydra/sweeper=wordlab_optuna``."""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.wordlab_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    # any optuna sampler, e.g. {_target_: optuna.samplers.TPESampler, seed: 13}
    sampler: Any = field(
        default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": 13}
    )
    direction: str = "maximize"
    # e.g. sqlite:///outputs/optuna.db: the study is kept there and resumed by name
    storage: Any = None
    study_name: Any = None
    # total trials of the study (trials already in the storage count)
    n_trials: int = 20
    # trials launched together (the launcher may run them in parallel)
    n_jobs: int = 1
    # search space in Hydra's sweep syntax: choice(...), range(...), interval(...),
    # tag(log, interval(...))
    params: dict[str, str] | None = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="wordlab_optuna", node=OptunaSweeperConf, provider="wordlab"
)
