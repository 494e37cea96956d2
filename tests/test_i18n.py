"""The message catalogue: complete in both languages, and the only place UI strings live."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from dashboard import i18n, versions
from dashboard.config import PROJECT_ROOT

UI_SOURCES = sorted([*PROJECT_ROOT.glob("layouts/*.py"), *PROJECT_ROOT.glob("callbacks/*.py")])
CJK = re.compile(r"[\u3400-\u9fff]")


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.MESSAGES))
def test_i18n001_every_key_has_both_languages(key):
    entry = i18n.MESSAGES[key]
    assert set(entry) == set(i18n.LANGS)
    assert all(entry[lang].strip() for lang in i18n.LANGS)
    assert _fields(entry["zh"]) == _fields(entry["en"])  # same {placeholders}


def test_i18n002_every_key_used_in_layouts_and_callbacks_exists():
    used, prefixes = set(), set()
    for path in UI_SOURCES:
        for call in _calls(path):
            if _name(call) not in {"tr", "t", "label"} or not call.args:
                continue
            first = call.args[0]
            if _name(call) == "label" and isinstance(first, ast.Constant):
                prefixes.add(first.value + ".")
            elif isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.add(first.value)
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefixes.add(first.values[0].value)  # tr(f"panel.{topic}.title")
    assert used, "the scan found no keys: has the translator's name changed?"
    assert used - set(i18n.MESSAGES) == set()
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in i18n.MESSAGES), prefix


def test_i18n003_dynamic_keys_exist():
    for name in versions.DATASETS:
        assert f"dataset.{name}" in i18n.MESSAGES
    for topic in ("registers", "station"):
        assert {f"panel.{topic}.title", f"panel.{topic}.body"} <= set(i18n.MESSAGES)
    assert {"panel.risk.title", "panel.crowd.title"} <= set(i18n.MESSAGES)
    for status in ("loaded", "rejected", "running", "ok", "failed", "late", "on_time"):
        assert f"status.{status}" in i18n.MESSAGES


def test_i18n003b_every_band_and_basis_of_the_risk_model_has_words():
    from dashboard import risk

    for band in risk.BANDS:
        for prefix in ("risk.band", "risk.level", "risk.legend"):
            assert f"{prefix}.{band}" in i18n.MESSAGES
    for basis in risk.BASES:
        assert f"basis.{basis}" in i18n.MESSAGES


@pytest.mark.parametrize(
    ("name", "short"),
    [("天平路街道", "天平路"), ("华泾镇", "华泾镇"), ("街道", "街道"), (None, "")],
)
def test_i18n003c_short_subdistrict_names(name, short):
    assert i18n.short_area_name(name) == short


@pytest.mark.parametrize("path", UI_SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_i18n004_no_chinese_ui_string_outside_the_catalogue(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    stray = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CJK.search(node.value)
    ]
    assert stray == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("zh-CN", "zh"),
        ("fr", "zh"),
    ],
)
def test_i18n005_normalize_lang(value, expected):
    assert i18n.normalize_lang(value) == expected


def test_i18n006_unknown_key_is_an_error_unknown_language_falls_back():
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "zh")
    assert i18n.t("app.district", "fr") == "徐汇区"
    assert i18n.label("status", "failed", "en") == "failed"
    assert i18n.label("status", "weird", "zh") == "weird"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (None, "从未更新", "never"),
        (42.7, "42 秒", "42 s"),
        (300, "5 分钟", "5 min"),
        (7200, "2 小时", "2 h"),
        (86400 * 365, "365 天", "365 d"),
    ],
)
def test_i18n007_durations(seconds, zh, en):
    assert i18n.format_duration(seconds, "zh") == zh
    assert i18n.format_duration(seconds, "en") == en


def test_i18n008_times_are_shown_in_the_district_time_zone():
    import datetime as dt

    utc = dt.datetime(2026, 11, 21, 17, 30, tzinfo=dt.UTC)
    assert i18n.format_local_time(utc, "Asia/Shanghai") == "2026-11-22 01:30:00"
    assert i18n.format_local_time(None, "Asia/Shanghai") == ""


def test_i18n009_every_crowd_level_and_place_kind_has_words():
    from dashboard import crowd

    for level in crowd.LEVELS:
        assert {f"crowd.level.{level}", f"crowd.legend.{level}"} <= set(i18n.MESSAGES)
    for level in ("yellow", "red"):
        assert f"crowd.people.{level}" in i18n.MESSAGES
    for kind in ("metro", "railway", "compound", "committee"):
        assert f"crowd.kind.{kind}" in i18n.MESSAGES
