"""Every setting is declared with help text, and the configuration page documents each one."""

from __future__ import annotations

import pytest

from dashboard.config import PROJECT_ROOT, Settings

DOC = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_cfg001_every_setting_is_described_and_documented(name):
    field = Settings.model_fields[name]
    assert field.description and len(field.description) > 15, f"{name} needs a description"
    assert f"`DASHBOARD_{name.upper()}`" in DOC, f"docs/configuration.md misses {name}"


def test_cfg002_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("DASHBOARD_REFRESH_INTERVAL_S", "7")
    monkeypatch.setenv("DASHBOARD_DATASET_EXPECTED_INTERVAL_S", '{"pings": 60}')
    s = Settings()
    assert s.refresh_interval_s == 7
    assert s.dataset_expected_interval_s == {"pings": 60}
