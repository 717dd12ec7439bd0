"""kerastips: a static linter and auto-fixer for TensorFlow/Keras training code."""

__version__ = "0.1.0"
# The one place the project's address is written: rule pages' URLs (SARIF helpUri), bug reports.
HOMEPAGE = "https://github.com/kerastips/kerastips"


# `%load_ext kerastips` in IPython or Jupyter looks for these two here. The extension's module
# (libcst and the rules) is imported only when it is loaded, so `import kerastips` stays light.
def load_ipython_extension(ipython) -> None:
    """Lint the session as each cell runs and print the cell's findings under it."""
    from kerastips.ipython_extension import load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from kerastips.ipython_extension import unload

    unload(ipython)
