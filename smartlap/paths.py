"""Where smartlap keeps its files.

Everything lives under one data home so a person can back it up, and tests can point it
somewhere temporary: ``SMARTLAP_HOME`` overrides the platform directories entirely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "smartlap"
HOME_ENV = "SMARTLAP_HOME"


@dataclass(frozen=True)
class Paths:
    """The data, config and cache directories, and the layout inside the data home."""

    data: Path
    config: Path
    cache: Path

    @property
    def datasets(self) -> Path:
        return self.data / "datasets"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    @property
    def songbook(self) -> Path:
        return self.data / "songbook"

    @property
    def user_styles(self) -> Path:
        return self.config / "styles"

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    def as_dict(self) -> dict[str, str]:
        names = ("data", "config", "cache", "datasets", "models", "runs", "songbook",
                 "user_styles", "config_file")
        return {name: str(getattr(self, name)) for name in names}


def get_paths() -> Paths:
    """Resolve the directories now (the environment may change between calls in tests)."""
    override = os.environ.get(HOME_ENV)
    if override:
        home = Path(override).expanduser().resolve()
        return Paths(data=home, config=home / "config", cache=home / "cache")
    import platformdirs

    return Paths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
