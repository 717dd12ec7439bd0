"""kerastips: a static linter and auto-fixer for TensorFlow/Keras training code."""

__version__ = "0.1.0"
# The one place the project's address is written: rule pages' URLs (SARIF helpUri), bug reports.
HOMEPAGE = "https://github.com/kerastips/kerastips"
