"""The distribution engines of `kerastips verify`: which one a run asks for, and opening it.

Nothing here distributes anything itself. On the TensorFlow backend the engine is a
`tf.distribute` strategy (MirroredStrategy over the local GPUs or N logical CPU devices,
MultiWorkerMirroredStrategy when TF_CONFIG describes a cluster, OneDeviceStrategy for one device);
on the JAX backend it is Keras' own `keras.distribution.DataParallel` over the local devices; the
torch backend trains on one device.

`check` and `environment` are plain logic for the parent process (no framework import);
`prepare` and `open_engine` run inside the shim's process, before the user's script builds its
model: `prepare` before the framework initializes its devices, `open_engine` right after.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

BACKENDS = ("tensorflow", "jax", "torch")
STRATEGIES = ("auto", "mirrored", "multiworker", "one-device", "jax-data-parallel")

_FOR_BACKEND = {
    "tensorflow": ("auto", "mirrored", "multiworker", "one-device"),
    "jax": ("auto", "jax-data-parallel", "one-device"),
    "torch": ("auto", "one-device"),
}


class StrategyError(Exception):
    """A strategy that cannot run as asked; the message is one line for the user."""


# Keras 3 (through 3.15 with TensorFlow 2.21) cannot fit under MultiWorkerMirroredStrategy: its
# symbolic build and metric reductions hand PerReplica values to the collective ops.
MULTIWORKER_KERAS3 = ("Keras 3 cannot train under MultiWorkerMirroredStrategy yet "
                      "(keras-team/keras#20585, tensorflow/tensorflow#72388)")


def known_failure(engine_name: str, error: str) -> str | None:
    """A known framework limitation behind a run's error, in words, or None."""
    if engine_name == "MultiWorkerMirroredStrategy" and ("PerReplica" in error or "reduction dimension" in error):
        return MULTIWORKER_KERAS3
    return None


def check(backend: str, strategy: str, cpu_replicas: int | None, env: Mapping[str, str]) -> None:
    """Refuse the combinations that cannot work, before anything is started."""
    if backend not in BACKENDS:
        raise StrategyError(f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")
    if strategy not in STRATEGIES:
        raise StrategyError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    if strategy not in _FOR_BACKEND[backend]:
        hint = {
            "mirrored": "a tf.distribute strategy: use --backend tensorflow",
            "multiworker": "a tf.distribute strategy: use --backend tensorflow",
            "jax-data-parallel": "keras.distribution on JAX: use --backend jax",
            "one-device": "",
        }[strategy]
        if backend == "torch":
            hint = "the torch backend trains on one device (--strategy auto or one-device)"
        raise StrategyError(f"--strategy {strategy} does not run on the {backend} backend ({hint})")
    if cpu_replicas is not None and cpu_replicas < 1:
        raise StrategyError("--cpu-replicas must be at least 1")
    if backend == "torch" and cpu_replicas not in (None, 1):
        raise StrategyError("--cpu-replicas needs --backend tensorflow or jax (torch trains on one device)")
    if strategy == "multiworker" and not env.get("TF_CONFIG"):
        raise StrategyError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's task)")
    if strategy == "one-device" and cpu_replicas not in (None, 1):
        raise StrategyError("--strategy one-device trains on one device; drop --cpu-replicas")
    if env.get("TF_CONFIG") and backend == "tensorflow" and strategy in ("auto", "multiworker"):
        try:
            cluster = json.loads(env["TF_CONFIG"])
            cluster["cluster"], cluster["task"]  # noqa: B018 - both must be there
        except (ValueError, KeyError, TypeError):
            raise StrategyError("TF_CONFIG is not a JSON object with 'cluster' and 'task'") from None


def environment(backend: str, cpu_replicas: int | None) -> dict[str, str]:
    """Environment variables the run's process needs before it imports anything."""
    env = {"KERAS_BACKEND": backend}
    if cpu_replicas is not None:
        if backend == "jax":
            env["JAX_PLATFORMS"] = "cpu"
            env["XLA_FLAGS"] = " ".join(
                [flag for flag in os.environ.get("XLA_FLAGS", "").split()
                 if not flag.startswith("--xla_force_host_platform_device_count")]
                + [f"--xla_force_host_platform_device_count={cpu_replicas}"]
            )
        else:
            env["CUDA_VISIBLE_DEVICES"] = ""  # logical CPU devices: keep the GPUs out entirely
    return env


@dataclass
class Engine:
    """An opened distribution engine: its name as the framework calls it, and its replica count."""

    name: str
    replicas: int
    devices: list[str] = field(default_factory=list)
    strategy: Any = None  # the tf.distribute.Strategy or keras.distribution.Distribution
    _scope: Any = None

    def enter(self) -> None:
        """Make the engine the default for everything built from now on."""
        if self._scope is None and hasattr(self.strategy, "scope"):
            self._scope = self.strategy.scope()
            self._scope.__enter__()

    def describe(self) -> dict:
        return {"name": self.name, "replicas": int(self.replicas)}


# The tf.distribute strategies a script may open itself, by their names in tf.distribute and
# tf.distribute.experimental: the run's engine stands in for them.
_SCRIPT_STRATEGIES = ("MirroredStrategy", "OneDeviceStrategy", "MultiWorkerMirroredStrategy",
                      "CentralStorageStrategy")


def stand_in(engine: Engine, note) -> None:
    """Make the engine the strategy a script gets when it opens its own (`strategy =
    tf.distribute.MirroredStrategy()`, then `with strategy.scope():`): two strategies cannot be
    mixed, and the run trains on the engine it was asked for. The classes stay what they are (Keras
    and TensorFlow check instances of them): constructing one gives the engine, and the engine is
    not initialized again. `note(text)` logs each stand-in."""
    if not hasattr(engine.strategy, "scope") or not hasattr(engine.strategy, "extended"):
        return  # not a tf.distribute strategy (JAX, torch)
    import tensorflow as tf

    classes = {getattr(namespace, name) for namespace in (tf.distribute, tf.distribute.experimental)
               for name in _SCRIPT_STRATEGIES if hasattr(namespace, name)}
    for cls in classes:
        _stand_in_for(cls, engine, note)


def _stand_in_for(cls, engine: Engine, note) -> None:
    original_new, original_init = cls.__new__, cls.__init__

    def __new__(klass, *args, **kwargs):
        if klass is not cls:  # a subclass of its own
            return original_new(klass) if original_new is object.__new__ else original_new(klass, *args, **kwargs)
        note(f"the script's {cls.__name__}() is this run's {engine.name} ({engine.replicas} replica(s))")
        return engine.strategy

    def __init__(self, *args, **kwargs):
        if self is not engine.strategy:
            original_init(self, *args, **kwargs)

    cls.__new__, cls.__init__ = __new__, __init__


def prepare(backend: str, cpu_replicas: int | None) -> None:
    """Configure the devices before the framework initializes them (TensorFlow: N logical CPUs)."""
    if backend == "tensorflow":
        import tensorflow as tf

        if cpu_replicas is not None:
            tf.config.set_visible_devices([], "GPU")
            cpus = tf.config.list_physical_devices("CPU")
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(cpu_replicas)]
            )


def open_engine(backend: str, strategy: str, cpu_replicas: int | None) -> Engine:
    """Create the engine (after `prepare`, before the script builds its model) and enter it."""
    if backend == "tensorflow":
        engine = _open_tensorflow(strategy, cpu_replicas)
    elif backend == "jax":
        engine = _open_jax(strategy)
    else:
        engine = _open_torch()
    engine.enter()
    return engine


def _open_tensorflow(strategy: str, cpu_replicas: int | None) -> Engine:
    import tensorflow as tf

    if strategy == "auto":
        if os.environ.get("TF_CONFIG"):
            strategy = "multiworker"
        elif cpu_replicas is not None:
            strategy = "mirrored" if cpu_replicas > 1 else "one-device"
        else:
            strategy = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "one-device"
    if strategy == "multiworker":
        made = tf.distribute.MultiWorkerMirroredStrategy()
        devices = list(made.extended.worker_devices)
    elif strategy == "mirrored":
        if cpu_replicas is not None:
            devices = [device.name for device in tf.config.list_logical_devices("CPU")][:cpu_replicas]
            made = tf.distribute.MirroredStrategy(devices)
        else:
            made = tf.distribute.MirroredStrategy()  # every local GPU (or the CPU when there is none)
            devices = list(made.extended.worker_devices)
    else:
        gpus = tf.config.list_logical_devices("GPU")
        device = gpus[0].name if gpus else tf.config.list_logical_devices("CPU")[0].name
        made = tf.distribute.OneDeviceStrategy(device)
        devices = [device]
    name = {"multiworker": "MultiWorkerMirroredStrategy", "mirrored": "MirroredStrategy"}.get(
        strategy, "OneDeviceStrategy")  # (TF's class behind MultiWorkerMirrored is CollectiveAllReduce)
    return Engine(name, made.num_replicas_in_sync, devices, made)


def _open_jax(strategy: str) -> Engine:
    import jax
    import keras

    devices = jax.devices()
    if strategy == "one-device":
        devices = devices[:1]
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    return Engine(type(distribution).__name__, len(devices), [str(d) for d in devices], distribution)


def _open_torch() -> Engine:
    import torch

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    return Engine("SingleDevice", 1, [device], None)
