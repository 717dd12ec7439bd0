"""kerastips: a static linter and auto-fixer for TensorFlow/Keras training code."""

__version__ = "0.1.0"
