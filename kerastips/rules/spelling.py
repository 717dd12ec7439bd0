"""How the file being fixed spells Keras names, so that a fix reads like the code around it:
`keras.callbacks.EarlyStopping` in a `import keras` file, `tf.keras.callbacks.EarlyStopping` in a
`import tensorflow as tf` file, the bare name where the file imports it, and the import to add
when nothing fits."""

from __future__ import annotations

import libcst as cst

from kerastips.ir.model import KerasFile, OptimizerValue
from kerastips.ir.names import canonical


def keras_package(kfile: KerasFile) -> tuple[str, tuple]:
    """How the file names the keras package (`keras`, `tf.keras`), or the import that adds it."""
    for local, dotted in kfile.imports.items():
        if canonical(dotted) == "keras":
            return local, ()
    for local, dotted in kfile.imports.items():
        if dotted == "tensorflow":
            return f"{local}.keras", ()
    uses_tf = any(dotted.startswith("tensorflow") for dotted in kfile.imports.values())
    return "keras", ((("tensorflow", "keras"),) if uses_tf else (("keras", None),))


def keras_name(kfile: KerasFile, dotted: str) -> tuple[str, tuple]:
    """`keras_name(kfile, "callbacks.EarlyStopping")`: the name as imported, else through the
    keras package (`keras.callbacks.EarlyStopping`)."""
    wanted = canonical(f"keras.{dotted}")
    for local, imported in kfile.imports.items():
        if canonical(imported) == wanted:
            return local, ()
    keras, imports = keras_package(kfile)
    return f"{keras}.{dotted}", imports


def schedule_callee(kfile: KerasFile, optimizer: OptimizerValue | None,
                    schedule: str = "CosineDecay") -> tuple[str, tuple]:
    """How to spell a schedule class next to the optimizer as the file writes it (and any import)."""
    if optimizer is not None and not optimizer.kind.startswith("tensorflow_addons."):
        func = optimizer.call.func
        if isinstance(func, cst.Attribute):  # keras.optimizers.Adam, tf.keras.optimizers.Adam, optimizers.Adam
            return f"{kfile.code(func.value)}.schedules.{schedule}", ()
        if isinstance(func, cst.Name) and func.value in kfile.imports:  # from ... import Adam
            module = kfile.imports[func.value].rsplit(".", 1)[0]
            return schedule, ((f"{module}.schedules", schedule),)
    return keras_name(kfile, f"optimizers.schedules.{schedule}")
