"""load_settings(): sources, precedence, demo fallback, errors, paths()."""
from __future__ import annotations

from pathlib import Path

import pytest

from api.config import DEFAULT_API_URL, Secret, load_settings, paths
from api.errors import ConfigError

CONFIG = """
default_profile = "base"

[profiles.base]
token = "sbs_from_default_profile"
project_id = "proj-default"

[profiles.staging]
token = "kps_from_staging"
project_id = "proj-staging"
api_url = "https://staging.example.test/"

[profiles.partial]
project_id = "proj-partial"
"""


@pytest.fixture
def cfg(tmp_path: Path):
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (cfg_dir / "config.toml").write_text(CONFIG)
    return {"STUDIO_TUI_CONFIG_DIR": str(cfg_dir), "STUDIO_TUI_CACHE_DIR": str(tmp_path / "cache")}


def env_with(cfg, **kw):
    return {**cfg, **kw}


def tok(settings) -> str:
    return settings.token.reveal()


def test_no_token_means_demo(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path / "none"), "STUDIO_TUI_CACHE_DIR": str(tmp_path)}
    s = load_settings(env=env)
    assert s.demo and s.token is None and s.project_id is None
    assert "DEMO" in s.describe()
    assert s.cache_dir == tmp_path


def test_demo_parameters_from_env(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_DEMO_SIZE": "1_000",
           "STUDIO_DEMO_SEED": "3", "STUDIO_DEMO_ANCHOR": "2026-01-02"}
    s = load_settings(env=env)
    assert (s.demo_size, s.demo_seed, s.demo_anchor) == (1000, 3, "2026-01-02")
    with pytest.raises(ConfigError, match="STUDIO_DEMO_SIZE"):
        load_settings(env={**env, "STUDIO_DEMO_SIZE": "lots"})


def test_env_only(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_API_TOKEN": "sbs_env",
           "STUDIO_PROJECT_ID": "p-env"}
    s = load_settings(env=env)
    assert not s.demo and tok(s) == "sbs_env" and s.project_id == "p-env"
    assert s.base_url == DEFAULT_API_URL and s.profile is None


def test_default_profile_used_without_env(cfg):
    s = load_settings(env=cfg)
    assert tok(s) == "sbs_from_default_profile" and s.project_id == "proj-default"
    assert s.profile == "base"


def test_env_overrides_default_profile(cfg):
    s = load_settings(env=env_with(cfg, STUDIO_API_TOKEN="sbs_env"))
    assert tok(s) == "sbs_env"
    assert s.project_id == "proj-default"  # field-wise merge: env set only the token


def test_named_profile_wins_over_env(cfg):
    env = env_with(cfg, STUDIO_API_TOKEN="sbs_env", STUDIO_PROJECT_ID="p-env",
                   STUDIO_API_URL="https://env.example.test")
    s = load_settings("staging", env=env)
    assert tok(s) == "kps_from_staging" and s.project_id == "proj-staging"
    assert s.base_url == "https://staging.example.test"  # trailing slash dropped
    assert s.profile == "staging"


def test_profile_named_by_env_variable(cfg):
    s = load_settings(env=env_with(cfg, STUDIO_TUI_PROFILE="staging", STUDIO_API_TOKEN="sbs_x"))
    assert tok(s) == "kps_from_staging"


def test_flags_win_over_everything(cfg):
    env = env_with(cfg, STUDIO_API_TOKEN="sbs_env", STUDIO_PROJECT_ID="p-env")
    s = load_settings("staging", token="sbs_flag", project_id="p-flag",
                      base_url="http://127.0.0.1:9", env=env)
    assert tok(s) == "sbs_flag" and s.project_id == "p-flag" and s.base_url == "http://127.0.0.1:9"


def test_partial_profile_merges_with_env(cfg):
    s = load_settings("partial", env=env_with(cfg, STUDIO_API_TOKEN="sbs_env",
                                              STUDIO_PROJECT_ID="p-env"))
    assert tok(s) == "sbs_env" and s.project_id == "proj-partial"


def test_unknown_profile_is_a_clear_error(cfg):
    with pytest.raises(ConfigError) as info:
        load_settings("prod", env=cfg)
    msg = str(info.value)
    assert "unknown profile 'prod'" in msg and "base, partial, staging" in msg


def test_token_without_project_is_a_clear_error(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_API_TOKEN": "sbs_secret_value"}
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    assert "STUDIO_PROJECT_ID" in str(info.value)
    assert "sbs_secret_value" not in str(info.value)


def test_malformed_toml_names_the_file(tmp_path):
    (tmp_path / "config.toml").write_text("[profiles.x\ntoken = ")
    with pytest.raises(ConfigError, match="cannot parse .*config.toml"):
        load_settings(env={"STUDIO_TUI_CONFIG_DIR": str(tmp_path)})


def test_bad_url_rejected(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_API_TOKEN": "t",
           "STUDIO_PROJECT_ID": "p", "STUDIO_API_URL": "ftp://x"}
    with pytest.raises(ConfigError, match="http"):
        load_settings(env=env)


def test_settings_never_show_the_token(cfg):
    s = load_settings("staging", env=cfg)
    for text in (repr(s), str(s), s.describe(), repr(s.token), f"{s.token}"):
        assert "kps_from_staging" not in text
    assert isinstance(s.token, Secret)


def test_paths(cfg):
    s = load_settings(env=cfg)
    p = paths(s)
    assert p["config file"] == Path(cfg["STUDIO_TUI_CONFIG_DIR"]) / "config.toml"
    assert p["response cache"] == Path(cfg["STUDIO_TUI_CACHE_DIR"]) / "responses-v1"
    assert paths(env=cfg)["cache dir"] == Path(cfg["STUDIO_TUI_CACHE_DIR"])


def test_offline_flag(tmp_path):
    s = load_settings(offline=True, env={"STUDIO_TUI_CONFIG_DIR": str(tmp_path)})
    assert s.offline


def test_bad_demo_anchor_is_a_config_error_when_the_client_starts(tmp_path):
    from api.client import StudioClient

    s = load_settings(env={"STUDIO_TUI_CONFIG_DIR": str(tmp_path),
                           "STUDIO_DEMO_ANCHOR": "last tuesday"})
    with pytest.raises(ConfigError, match="anchor"):
        StudioClient.from_settings(s, cache=False)


@pytest.mark.parametrize("bad", ["sbs_SECRETé123", "sbs_SECRET 123", "sbs_SECRET\t123",
                                 "sbs_SECRET\x1b[2J123", "sbs_SECRET\x7f123", "sbs_SECRET\u200b1"])
def test_token_that_cannot_be_a_header_is_a_one_line_config_error(tmp_path, bad):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_PROJECT_ID": "p"}
    for kw in ({"env": {**env, "STUDIO_API_TOKEN": bad}}, {"env": env, "token": bad}):
        with pytest.raises(ConfigError) as info:
            load_settings(**kw)
        msg = str(info.value)
        assert "\n" not in msg and "sbs_SECR" not in msg and "STUDIO_API_TOKEN" in msg


def test_token_surrounding_whitespace_is_stripped_from_every_source(tmp_path):
    (tmp_path / "config.toml").write_text('[profiles.p]\ntoken = " sbs_prof\\n"\nproject_id = "x"')
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path)}
    assert tok(load_settings("p", env=env)) == "sbs_prof"
    assert tok(load_settings("p", token="\tsbs_flag \n", env=env)) == "sbs_flag"
