"""The facts sources' settings are the process settings: one table in the README."""

from __future__ import annotations

import pytest

from switchboard.settings import SettingsError, load_settings


def test_the_process_settings_carry_the_sources() -> None:
    settings = load_settings(
        _env_file=None,
        PAGERDUTY_API_TOKEN="pd-token-for-tests-0001",
        PAGERDUTY_API_URL="http://127.0.0.1:9/",
        OPSGENIE_API_KEY="og-key-for-tests-0001",
        GITHUB_TOKEN="gh-token-for-tests-0001",
        SWITCHBOARD_FACTS_TOKENS="ci=s3cret-token-for-ci-0001",
    )
    facts = settings.facts()
    assert facts.pagerduty_api_url == "http://127.0.0.1:9"
    assert facts.opsgenie_api_url == "https://api.opsgenie.com"  # the paging one, reused
    assert facts.github_api_url == "https://api.github.com"
    assert facts.tokens() == {"ci": "s3cret-token-for-ci-0001"}
    secrets = settings.secrets()
    for secret in (
        "pd-token-for-tests-0001",
        "gh-token-for-tests-0001",
        "s3cret-token-for-ci-0001",
    ):
        assert secret in secrets  # kept out of the logs


def test_a_malformed_token_list_names_the_variable_not_the_token() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, SWITCHBOARD_FACTS_TOKENS="ci=short")
    assert "SWITCHBOARD_FACTS_TOKENS" in str(caught.value)
    assert "short" not in str(caught.value)


def test_a_facts_url_must_be_http() -> None:
    with pytest.raises(SettingsError, match="GITHUB_API_URL"):
        load_settings(_env_file=None, GITHUB_API_URL="ftp://example.com")


def test_github_host_is_a_host_name() -> None:
    settings = load_settings(_env_file=None, GITHUB_HOST=" GitHub.Example.com:8443 ")
    assert settings.facts().github_host == "github.example.com:8443"
    for hostile in ("https://github.com", "github.com/acme", "gh host", "<!channel>"):
        with pytest.raises(SettingsError, match="GITHUB_HOST"):
            load_settings(_env_file=None, GITHUB_HOST=hostile)
