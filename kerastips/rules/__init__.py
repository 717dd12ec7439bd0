"""The rule registry: every Rule subclass defined in this package's modules, in code order.

A rule module only has to define its classes (one per rule); nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil

from kerastips.rules.base import Rule


def _discover() -> tuple[type[Rule], ...]:
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found += [
            value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Rule)
            and value.__module__ == module.__name__ and "code" in vars(value)
        ]
    return tuple(sorted(found, key=lambda rule: rule.code))


ALL_RULES: tuple[type[Rule], ...] = _discover()


def rule_by_code(code: str) -> type[Rule] | None:
    return next((rule for rule in ALL_RULES if rule.code == code.upper()), None)
