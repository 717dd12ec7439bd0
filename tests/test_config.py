"""Settings from pyproject.toml and the command line, against a small registry of stand-in rules."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest

from kerastips.config import KEYS, ConfigError, find_config, glob_matches, load_settings, snippet, with_section

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib
from kerastips.rules.base import Option, Rule


class StandIn(Rule):
    summary = "stand-in"

    def check(self, kfile):
        return iter(())


class BatchNorm(StandIn):
    code, name = "KT101", "batchnorm-after-activation"


class CnnDesign(StandIn):
    code, name, default_enabled = "KT109", "cnn-design", False


class Validation(StandIn):
    code, name = "KT301", "missing-validation"


class SetTuning(StandIn):
    code, name = "KT302", "test-set-tuning"


class Warmup(StandIn):
    code, name = "KT401", "missing-warmup"
    options = {"batch-size-threshold": Option(1024, "Smallest batch size that needs warmup.")}


REGISTRY = (Warmup, BatchNorm, CnnDesign, Validation, SetTuning)


def settings(tmp_path, monkeypatch, toml: str = "", **cli):
    """Settings for a project in tmp_path whose pyproject.toml starts with [tool.kerastips] and
    goes on with `toml` (no pyproject.toml when empty)."""
    monkeypatch.chdir(tmp_path)
    if toml:
        (tmp_path / "pyproject.toml").write_text("[tool.kerastips]\n" + textwrap.dedent(toml))
    return load_settings([str(tmp_path)], registry=REGISTRY, **cli)


def config_error(tmp_path, monkeypatch, toml: str, **cli) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, monkeypatch, toml, **cli)
    return str(caught.value)


def test_default_selection_is_the_rules_on_by_default_in_code_order(tmp_path, monkeypatch):
    assert settings(tmp_path, monkeypatch).codes == ("KT101", "KT301", "KT302", "KT401")


@pytest.mark.parametrize(
    ("toml", "codes"),
    [
        ('select = ["KT3"]', ("KT301", "KT302")),
        ('select = ["KT401", "KT101"]', ("KT101", "KT401")),
        ('select = ["ALL"]', ("KT101", "KT109", "KT301", "KT302", "KT401")),
        ('select = ["KT"]', ("KT101", "KT109", "KT301", "KT302", "KT401")),
        ('select = []', ()),
        ('extend-select = ["KT109"]', ("KT101", "KT109", "KT301", "KT302", "KT401")),
        ('ignore = ["KT3"]', ("KT101", "KT401")),
        ('select = ["ALL"]\nignore = ["KT1"]', ("KT301", "KT302", "KT401")),
        ('select = ["kt3"]', ("KT301", "KT302")),
    ],
)
def test_config_selection(tmp_path, monkeypatch, toml, codes):
    assert settings(tmp_path, monkeypatch, toml).codes == codes


def test_command_line_select_starts_over_like_ruff(tmp_path, monkeypatch):
    toml = 'select = ["KT3"]\nignore = ["KT101"]'
    assert settings(tmp_path, monkeypatch, toml, select=["KT1"]).codes == ("KT101", "KT109")


def test_command_line_extends_and_ignores_the_configured_selection(tmp_path, monkeypatch):
    toml = 'select = ["KT3"]'
    assert settings(tmp_path, monkeypatch, toml, extend_select=["KT401"], ignore=["KT302"]).codes == (
        "KT301",
        "KT401",
    )


def test_options_reach_the_rule(tmp_path, monkeypatch):
    toml = """
        [tool.kerastips.options.KT401]
        batch-size-threshold = 512
    """
    (warmup,) = settings(tmp_path, monkeypatch, toml, select=["KT401"]).rules
    assert warmup.config == {"batch-size-threshold": 512}


def test_options_default_without_config(tmp_path, monkeypatch):
    (warmup,) = settings(tmp_path, monkeypatch, select=["KT401"]).rules
    assert warmup.config == {"batch-size-threshold": 1024}


def test_per_file_ignores_by_glob_and_prefix(tmp_path, monkeypatch):
    toml = """
        [tool.kerastips.per-file-ignores]
        "tests/*" = ["KT3"]
        "__init__.py" = ["KT101"]
        "**/legacy/*.py" = ["ALL"]
    """
    config = settings(tmp_path, monkeypatch, toml)
    codes = lambda path: tuple(rule.code for rule in config.rules_for(path))  # noqa: E731
    assert codes("train.py") == ("KT101", "KT301", "KT302", "KT401")
    assert codes("tests/test_train.py") == ("KT101", "KT401")
    assert codes(tmp_path / "tests" / "deep" / "t.py") == ("KT101", "KT401")
    assert codes("pkg/__init__.py") == ("KT301", "KT302", "KT401")
    assert codes("legacy/old.py") == ()
    assert codes("src/legacy/old.py") == ()


def test_rules_are_built_once_and_shared_between_files_with_the_same_ignores(tmp_path, monkeypatch):
    config = settings(tmp_path, monkeypatch, '[tool.kerastips.per-file-ignores]\n"tests/*" = ["KT3"]')
    assert config.rules_for("a.py") is config.rules_for("b/c.py")
    assert config.rules_for("tests/a.py") is config.rules_for("tests/b.py")
    assert set(config.rules_for("tests/a.py")) < set(config.rules_for("a.py"))


def test_exclude_and_extend_exclude_globs(tmp_path, monkeypatch):
    config = settings(tmp_path, monkeypatch, 'exclude = ["generated"]\nextend-exclude = ["data/*.py"]')
    assert config.is_excluded("generated")
    assert config.is_excluded("src/generated")
    assert config.is_excluded("data/load.py")
    assert not config.is_excluded("src/data/load.py")
    assert not config.is_excluded("train.py")


@pytest.mark.parametrize(
    ("pattern", "rel", "matches"),
    [
        ("*.py", "a/b/c.py", True),
        ("tests/*", "tests/a/b.py", True),
        ("tests/*", "src/tests/a.py", False),
        ("**/tests/*", "tests/a.py", True),
        ("**/tests/*", "src/tests/a.py", True),
        ("./scripts/", "scripts", True),
        ("build", "src/build", True),
        ("Build", "build", False),
    ],
)
def test_glob_matches(pattern, rel, matches):
    assert glob_matches(pattern, rel) is matches


def test_nearest_pyproject_with_a_kerastips_table_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kerastips]\nselect = ["KT1"]\n')
    inner = tmp_path / "project" / "src"
    inner.mkdir(parents=True)
    (tmp_path / "project" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (inner / "train.py").write_text("")
    path, table = find_config(inner / "train.py")
    assert (path, table) == (tmp_path / "pyproject.toml", {"select": ["KT1"]})
    assert load_settings([str(inner / "train.py")], registry=REGISTRY).root == tmp_path


def test_without_any_config_the_root_is_the_working_directory(tmp_path, monkeypatch):
    config = settings(tmp_path, monkeypatch)
    assert (config.config_path, config.root) == (None, tmp_path)


def test_explicit_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lint.toml").write_text('[tool.kerastips]\nselect = ["KT401"]\n')
    assert load_settings(["."], config="lint.toml", registry=REGISTRY).codes == ("KT401",)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('selct = ["KT1"]', "pyproject.toml: [tool.kerastips] unknown key 'selct' (known: select, "
         "extend-select, ignore, per-file-ignores, exclude, extend-exclude, cache-dir, options)"),
        ('select = ["KT999"]', "pyproject.toml: [tool.kerastips] select: unknown rule selector 'KT999'"),
        ('ignore = ["E501"]', "pyproject.toml: [tool.kerastips] ignore: unknown rule selector 'E501'"),
        ('extend-select = ["KT9"]', "pyproject.toml: [tool.kerastips] extend-select: unknown rule selector 'KT9'"),
        ('select = "KT1"', "pyproject.toml: [tool.kerastips] select: expected a list of strings, got 'KT1'"),
        ('exclude = [1]', "pyproject.toml: [tool.kerastips] exclude: expected a list of strings, got [1]"),
        ('per-file-ignores = ["KT1"]', "pyproject.toml: [tool.kerastips] per-file-ignores: expected a table, "
         "got ['KT1']"),
        ('[tool.kerastips.per-file-ignores]\n"t/*" = ["KT7"]',
         "pyproject.toml: [tool.kerastips] per-file-ignores.\"t/*\": unknown rule selector 'KT7'"),
        ("[tool.kerastips.options.KT401]\nbatch-size = 512",
         "pyproject.toml: [tool.kerastips] options.KT401: unknown option(s) batch-size"),
        ('[tool.kerastips.options.KT401]\nbatch-size-threshold = "big"',
         "pyproject.toml: [tool.kerastips] options.KT401.batch-size-threshold: expected int, got 'big'"),
        ("[tool.kerastips.options.KT999]\nx = 1", "pyproject.toml: [tool.kerastips] options: unknown rule code 'KT999'"),
        ("[tool.kerastips.options]\nKT401 = 3", "pyproject.toml: [tool.kerastips] options.KT401: expected a table, got 3"),
    ],
)
def test_config_errors_are_one_line_naming_the_key(tmp_path, monkeypatch, toml, message):
    assert config_error(tmp_path, monkeypatch, toml) == message


def test_options_of_an_unselected_rule_are_still_validated(tmp_path, monkeypatch):
    message = config_error(tmp_path, monkeypatch, "[tool.kerastips.options.KT401]\nnope = 1", select=["KT1"])
    assert message == "pyproject.toml: [tool.kerastips] options.KT401: unknown option(s) nope"


def test_command_line_selector_errors_name_the_flag(tmp_path, monkeypatch):
    assert config_error(tmp_path, monkeypatch, "", select=["KT1", "X1"]) == "--select: unknown rule selector 'X1'"
    assert config_error(tmp_path, monkeypatch, "", ignore=["KT5"]) == "--ignore: unknown rule selector 'KT5'"


def test_invalid_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.kerastips\nselect = 1\n")
    with pytest.raises(ConfigError, match=r"^pyproject\.toml: invalid TOML: .*line 1") as caught:
        load_settings(["."], registry=REGISTRY)
    assert "\n" not in str(caught.value)


def test_explicit_config_must_exist_and_hold_the_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^missing\.toml: no such file$"):
        load_settings(["."], config="missing.toml", registry=REGISTRY)
    (tmp_path / "other.toml").write_text("[tool.ruff]\n")
    with pytest.raises(ConfigError, match=r"^other\.toml: no \[tool\.kerastips\] table$"):
        load_settings(["."], config="other.toml", registry=REGISTRY)


# ---- the `kerastips init` section ----------------------------------------------------------------

SETTING_LINE = re.compile(r"^# (?=[a-z-]+ = |\[tool\.kerastips|    \")", re.M)  # a setting, not prose


def test_init_section_loads_as_the_defaults_commented_or_not(tmp_path, monkeypatch):
    """The section as written and with every setting uncommented both load to the defaults, with
    the real registry: every key and every rule option is spelled validly at its default."""
    from kerastips.rules import ALL_RULES

    monkeypatch.chdir(tmp_path)
    section = snippet()
    uncommented = SETTING_LINE.sub("", section)
    assert uncommented.count("\n[tool.kerastips.options.") == sum(1 for rule in ALL_RULES if rule.options)
    default = load_settings(["."])
    for text in (section, uncommented):
        (tmp_path / "pyproject.toml").write_text(text)
        settings = load_settings(["."])
        assert settings.config_path == tmp_path / "pyproject.toml"
        assert settings.codes == default.codes
        assert [rule.config for rule in settings.rules] == [rule.config for rule in default.rules]
        assert (settings.per_file_ignores, settings.exclude) == ((), ())
    options = tomllib.loads(uncommented)["tool"]["kerastips"].pop("options")
    assert set(tomllib.loads(uncommented)["tool"]["kerastips"]) | {"options"} == set(KEYS)
    assert options == {rule.code: {key: option.default for key, option in rule.options.items()}
                       for rule in ALL_RULES if rule.options}


def test_init_section_for_a_small_registry(tmp_path):
    assert snippet([Warmup, CnnDesign, BatchNorm]).splitlines()[3:5] == [
        '# select = ["KT101", "KT401"]',
        '# Rules to run on top of `select`, e.g. the opt-in ["KT109"].',
    ]
    assert snippet([Warmup, CnnDesign, BatchNorm]).endswith(
        "#\n# [tool.kerastips.options.KT401]  # missing-warmup\n"
        "# batch-size-threshold = 1024  # Smallest batch size that needs warmup.\n"
    )


def test_with_section_appends_after_a_blank_line_in_the_file_s_own_line_endings():
    section = "[tool.kerastips]\n# ignore = []\n"
    assert with_section(None, section) == section
    assert with_section("", section) == section
    assert with_section('[project]\nname = "x"\n', section) == '[project]\nname = "x"\n\n' + section
    assert with_section('[project]\r\nname = "x"', section) == (
        '[project]\r\nname = "x"\r\n\r\n[tool.kerastips]\r\n# ignore = []\r\n'
    )
    assert with_section("[tool.black]\nline-length = 99\n", section).endswith("line-length = 99\n\n" + section)
