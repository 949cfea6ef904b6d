"""A listed logger whose plugin is not loaded stops the run before it starts."""

from __future__ import annotations

import pytest
import shre.engine
from shre import loggers
from shre.engine.setup import check_loggers_loaded
from shre.errors import ConfigError
from shre.plugins import PluginInfo, get_plugin_manager


@pytest.mark.parametrize(
    ("names", "raises"),
    [
        (["tensorboard"], True),
        (["jsonl", "wandb"], True),
        (["jsonl"], False),
        ([], False),
        (None, False),
    ],
)
def test_check_loggers_without_plugin(names, raises):
    # The toy fixture loads only the core and toy plugins, not loggers.
    if raises:
        with pytest.raises(ConfigError, match="SHRE_LOAD_PLUGINS"):
            check_loggers_loaded({"loggers": names})
    else:
        check_loggers_loaded({"loggers": names})


def test_check_loggers_with_plugin_passes():
    info = PluginInfo("loggers", "shre-core", None, loggers.__name__, "1.0", 0.0)
    get_plugin_manager().register_plugin(loggers, info)

    check_loggers_loaded({"loggers": ["tensorboard"]})


def test_fit_unloaded_logger_names_logger(tmp_path, make_config):
    config = make_config(tmp_path / "run", "loggers=[tensorboard]")

    with pytest.raises(ConfigError, match="loggers tensorboard need the 'loggers' plugin"):
        shre.engine.fit(config)

    assert not (tmp_path / "run").exists()
