"""Connection resolution: flags > environment > profile > a running ``daglab dev`` > default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daglab.helpers import errors
from daglab.helpers.config import ConnectionSettings, resolve_connection
from daglab.helpers.settings import DEFAULT_URL

TOKEN = "tok_resolution_5e4f3a2b1c"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated user: XDG dirs under tmp_path, no DAGLAB_* or Dagster+ variables."""
    for name in list(os.environ):
        if name.startswith("DAGLAB_") or name == "DAGSTER_CLOUD_API_TOKEN":
            monkeypatch.delenv(name)
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def env_for(home: Path, **values: str) -> dict[str, str]:
    return {**os.environ, **values}


def write_config(home: Path, text: str) -> Path:
    path = home / "xdg_config_home" / "daglab" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


PROFILES = """
[profiles.staging]
url = "https://staging.example.com/dagster"

[profiles.prod]
url = "https://org.dagster.cloud/prod"
http_timeout = 12
"""


def resolve(home: Path, **kwargs: object) -> ConnectionSettings:
    env = kwargs.pop("env", None)
    return resolve_connection(env=env if env is not None else env_for(home), **kwargs)  # type: ignore[arg-type]


def start_dev_state(home: Path, url: str, pid: int | None = None) -> None:
    state = home / "xdg_state_home" / "daglab" / "dev.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"url": url, "pid": pid or os.getpid()}))


# -- precedence ----------------------------------------------------------------------------------


def test_default_is_localhost_3000(home: Path) -> None:
    settings = resolve(home)
    assert (settings.url, settings.url_source) == (DEFAULT_URL, "default")
    assert settings.auth is None


def test_running_dev_server_beats_the_default(home: Path) -> None:
    start_dev_state(home, "http://127.0.0.1:45678")
    settings = resolve(home)
    assert settings.url == "http://127.0.0.1:45678"
    assert settings.url_source == "daglab dev server"


def test_dev_state_of_a_dead_process_is_ignored(home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    start_dev_state(home, "http://127.0.0.1:45678", pid=int(proc.stdout))
    assert resolve(home).url == DEFAULT_URL


def test_profile_beats_dev_server(home: Path) -> None:
    start_dev_state(home, "http://127.0.0.1:45678")
    write_config(home, PROFILES)
    settings = resolve(home, profile="staging")
    assert settings.url == "https://staging.example.com/dagster"
    assert "profile 'staging'" in settings.url_source


def test_env_beats_profile(home: Path) -> None:
    write_config(home, PROFILES)
    env = env_for(home, DAGLAB_URL="http://env.example.com:3000", DAGLAB_PROFILE="staging")
    settings = resolve(home, env=env)
    assert (settings.url, settings.url_source) == ("http://env.example.com:3000", "env DAGLAB_URL")
    assert settings.profile == "staging"


def test_flag_beats_env(home: Path) -> None:
    env = env_for(home, DAGLAB_URL="http://env.example.com:3000")
    settings = resolve(home, env=env, url="http://flag.example.com:3000")
    assert (settings.url, settings.url_source) == ("http://flag.example.com:3000", "flag --url")


def test_host_and_port_flags(home: Path) -> None:
    env = env_for(home, DAGLAB_URL="http://env.example.com:3000")
    settings = resolve(home, env=env, host="dagster.internal", port=8080)
    assert settings.url == "http://dagster.internal:8080"
    assert settings.url_source == "flags --host/--dagster-port"
    assert resolve(home, port=4000).url == "http://localhost:4000"
    assert resolve(home, host="box").url == "http://box:3000"


@pytest.mark.parametrize("port", [0, 70000, -1])
def test_port_out_of_range_is_bad_input(home: Path, port: int) -> None:
    with pytest.raises(errors.BadInputError, match="port="):
        resolve(home, port=port)


def test_host_with_a_scheme_is_bad_input(home: Path) -> None:
    with pytest.raises(errors.BadInputError, match="url="):
        resolve(home, host="http://box")


def test_empty_env_var_counts_as_unset(home: Path) -> None:
    write_config(home, 'default_profile = "prod"\n' + PROFILES)
    env = env_for(home, DAGLAB_URL="", DAGLAB_TOKEN="", DAGLAB_PROFILE="")
    settings = resolve(home, env=env)
    assert settings.url == "https://org.dagster.cloud/prod"  # from default_profile, not ""
    assert settings.auth is None


# -- profiles ------------------------------------------------------------------------------------


def test_daglab_profile_chooses_the_profile(home: Path) -> None:
    write_config(home, PROFILES)
    settings = resolve(home, env=env_for(home, DAGLAB_PROFILE="prod"))
    assert settings.url == "https://org.dagster.cloud/prod"
    assert settings.profile == "prod"
    assert settings.http_timeout == 12


def test_profile_flag_beats_daglab_profile(home: Path) -> None:
    write_config(home, PROFILES)
    settings = resolve(home, env=env_for(home, DAGLAB_PROFILE="prod"), profile="staging")
    assert settings.profile == "staging"


def test_default_profile_is_used_when_none_is_chosen(home: Path) -> None:
    write_config(home, 'default_profile = "staging"\n' + PROFILES)
    settings = resolve(home)
    assert settings.profile == "staging"
    assert settings.url == "https://staging.example.com/dagster"


def test_unknown_profile_is_exit_2_and_lists_the_known_ones(home: Path) -> None:
    path = write_config(home, PROFILES)
    with pytest.raises(errors.BadInputError) as caught:
        resolve(home, profile="nope")
    assert caught.value.exit_code == errors.EXIT_BAD_INPUT
    assert "'nope'" in caught.value.message and str(path) in caught.value.message
    assert caught.value.hint and "prod" in caught.value.hint and "staging" in caught.value.hint


def test_unknown_profile_without_a_config_file(home: Path) -> None:
    with pytest.raises(errors.BadInputError, match="No profile named 'nope'"):
        resolve(home, env=env_for(home, DAGLAB_PROFILE="nope"))


def test_malformed_config_names_the_file_and_the_line(home: Path) -> None:
    path = write_config(home, '[profiles.prod]\nurl = "https://x"\nthis is not toml\n')
    with pytest.raises(errors.ConfigFileError) as caught:
        resolve(home)
    assert caught.value.exit_code == errors.EXIT_BAD_INPUT
    assert str(path) in caught.value.message
    assert "line 3" in caught.value.message


def test_profile_that_is_not_a_table(home: Path) -> None:
    write_config(home, '[profiles]\nprod = "https://x"\n')
    with pytest.raises(errors.ConfigFileError, match=r"\[profiles\.prod\]"):
        resolve(home, profile="prod")


def test_profile_auth_table(home: Path) -> None:
    write_config(home, PROFILES + f'\n[profiles.prod.auth]\ntype = "bearer"\ntoken = "{TOKEN}"\n')
    settings = resolve(home, profile="prod")
    assert settings.auth is not None
    assert settings.auth.current_token() == TOKEN
    assert "prod" in settings.auth_source
    assert TOKEN not in repr(settings)


def test_profile_http_timeout_must_be_positive(home: Path) -> None:
    write_config(home, '[profiles.p]\nurl = "http://x:1"\nhttp_timeout = 0\n')
    with pytest.raises(errors.BadInputError, match="http_timeout in profile 'p'"):
        resolve(home, profile="p")


def test_http_timeout_flag_beats_the_profile(home: Path) -> None:
    write_config(home, PROFILES)
    assert resolve(home, profile="prod", http_timeout=3.0).http_timeout == 3.0


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://host", "localhost:3000", "file:///etc/passwd", "javascript:alert(1)", "http://"]
)
def test_bad_url_scheme_is_bad_input(home: Path, url: str) -> None:
    with pytest.raises(errors.BadInputError) as caught:
        resolve(home, url=url)
    assert caught.value.exit_code == errors.EXIT_BAD_INPUT
    assert "url=" in str(caught.value)


def test_bad_url_in_env_names_the_variable(home: Path) -> None:
    with pytest.raises(errors.BadInputError, match="DAGLAB_URL"):
        resolve(home, env=env_for(home, DAGLAB_URL="dagster:3000"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://host/dagster/", "https://host/dagster"),
        ("https://host/dagster/graphql", "https://host/dagster"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("https://org.dagster.cloud/prod", "https://org.dagster.cloud/prod"),
    ],
)
def test_url_is_normalised_and_keeps_its_prefix(home: Path, given: str, expected: str) -> None:
    settings = resolve(home, url=given)
    assert settings.url == expected
    assert settings.graphql_url == f"{expected}/graphql"


# -- credentials ---------------------------------------------------------------------------------


def test_token_flag_beats_env_token(home: Path) -> None:
    env = env_for(home, DAGLAB_TOKEN="from-env-token")
    settings = resolve(home, env=env, auth_token=TOKEN)
    assert settings.auth is not None and settings.auth.current_token() == TOKEN
    assert settings.auth_source == "flag --auth-token"


def test_env_token_beats_profile_auth(home: Path) -> None:
    write_config(home, PROFILES + '\n[profiles.prod.auth]\ntoken = "profile-token"\n')
    settings = resolve(home, env=env_for(home, DAGLAB_TOKEN=TOKEN), profile="prod")
    assert settings.auth is not None and settings.auth.current_token() == TOKEN
    assert settings.auth_source == "env DAGLAB_TOKEN"


def test_dagster_cloud_token_goes_in_its_header(home: Path) -> None:
    settings = resolve(home, env=env_for(home, DAGSTER_CLOUD_API_TOKEN=TOKEN))
    assert settings.auth is not None
    assert settings.auth.headers().get("Dagster-Cloud-Api-Token") == TOKEN
    assert settings.auth_source == "env DAGSTER_CLOUD_API_TOKEN"


def test_no_credentials_anywhere(home: Path) -> None:
    settings = resolve(home)
    assert settings.auth is None and settings.auth_source == "none"


def test_settings_repr_never_shows_the_token(home: Path) -> None:
    settings = resolve(home, auth_token=TOKEN)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.auth)
