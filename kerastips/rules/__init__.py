"""The rule registry: every rule class, in code order."""

from __future__ import annotations

from kerastips.rules.base import Rule
from kerastips.rules.data import MissingValidation, TestSetTuning
from kerastips.rules.optimizer import DeprecatedOptimizerArgument, MissingWarmup
from kerastips.rules.structure import BatchNormAfterActivation, BiasBeforeBatchNorm, DropoutBeforeBatchNorm

ALL_RULES: tuple[type[Rule], ...] = (
    BatchNormAfterActivation,
    DropoutBeforeBatchNorm,
    BiasBeforeBatchNorm,
    MissingValidation,
    TestSetTuning,
    MissingWarmup,
    DeprecatedOptimizerArgument,
)


def rule_by_code(code: str) -> type[Rule] | None:
    return next((rule for rule in ALL_RULES if rule.code == code.upper()), None)
