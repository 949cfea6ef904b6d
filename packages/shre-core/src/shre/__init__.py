"""shre: a plugin ecosystem for multimodal knowledge distillation.

The public API: the hook markers, the spec types, the ``Task`` base class,
the registry and plugin manager accessors, and the error types. Importing
``shre`` imports neither torch nor any plugin.
"""

from shre.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    NameClashError,
    PluginError,
    ShreError,
    UnknownNameError,
)
from shre.hookspecs import hookimpl, hookspec
from shre.plugins import get_plugin_manager
from shre.registry import get_registry
from shre.specs import EncoderSpec, HeadSpec, LossSpec, ModelSpec, PoolerSpec, TaskSpec
from shre.task import Task
from shre.version import API_VERSION

__all__ = [
    "API_VERSION",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "EncoderSpec",
    "HeadSpec",
    "LossSpec",
    "ModelSpec",
    "NameClashError",
    "PluginError",
    "PoolerSpec",
    "ShreError",
    "Task",
    "TaskSpec",
    "UnknownNameError",
    "get_plugin_manager",
    "get_registry",
    "hookimpl",
    "hookspec",
]
