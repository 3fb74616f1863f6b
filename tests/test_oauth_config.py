"""Social-login settings: ``[oauth.<provider>]`` in TOML, ``SESSILE_OAUTH_<PROVIDER>_<FIELD>``
in the environment (field by field over the file), and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessile.config import ConfigError, load_settings
from sessile.oauth_config import from_environ


def test_environment_names_are_read_by_their_field_suffix() -> None:
    found = from_environ(
        {
            "SESSILE_OAUTH_GOOGLE_CLIENT_ID": "g-id",
            "SESSILE_OAUTH_GOOGLE_CLIENT_SECRET": "g-secret",
            "SESSILE_OAUTH_MY_IDP_ISSUER": "https://idp.example",
            "SESSILE_OAUTH_APPLE_PRIVATE_KEY": "pem",
            "SESSILE_OAUTH_MY_IDP_TRUST_EMAIL_VERIFIED": "true",
            "SESSILE_OAUTH_REDIRECT_URIS": "https://app.example/cb",
            "SESSILE_OAUTH_ALLOW_EMAIL_ACCOUNT_MERGE": "false",
            "SESSILE_OAUTH_CLIENT_ID": "no provider named",
            "OTHER_OAUTH_GOOGLE_CLIENT_ID": "not ours",
        }
    )
    assert found == {
        "google": {"client_id": "g-id", "client_secret": "g-secret"},
        "my_idp": {"issuer": "https://idp.example", "trust_email_verified": "true"},
        "apple": {"private_key": "pem"},
    }


def test_toml_table_and_environment_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sessile.toml"
    path.write_text(
        'oauth_redirect_uris = ["https://app.example/cb"]\n'
        "oauth_allow_email_account_merge = false\n"
        "[oauth.google]\n"
        'client_id = "from-file"\n'
        'client_secret = "file-secret"\n'
        'scopes = "openid email"\n'
        "[oauth.okta]\n"
        'client_id = "okta-id"\n'
        'issuer = "https://example.okta.com"\n'
    )
    monkeypatch.setenv("SESSILE_OAUTH_GOOGLE_CLIENT_ID", "from-env")
    monkeypatch.setenv("SESSILE_OAUTH_GITHUB_CLIENT_ID", "gh")
    settings = load_settings(path)
    assert settings.oauth_redirect_uris == ["https://app.example/cb"]
    assert settings.oauth_allow_email_account_merge is False
    google = settings.oauth["google"]
    assert google.client_id == "from-env"
    assert google.client_secret is not None
    assert google.client_secret.get_secret_value() == "file-secret"
    assert google.scopes == ["openid", "email"]
    assert settings.oauth["okta"].issuer == "https://example.okta.com"
    assert settings.oauth["github"].client_id == "gh"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SESSILE_OAUTH_GOOGLE_ISSUER", "accounts.google.com", "absolute http(s) URL"),
        ("SESSILE_OAUTH_GOOGLE_ENABLED", "maybe", "valid boolean"),
        ("SESSILE_OAUTH_REDIRECT_URIS", "/relative", "absolute http(s) URL"),
        ("SESSILE_OAUTH_REDIRECT_URIS", "https://app.example/#frag", "without a fragment"),
    ],
)
def test_bad_oauth_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv("SESSILE_OAUTH_GOOGLE_CLIENT_ID", "g-id")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert fragment in str(caught.value)


def test_a_provider_without_a_client_id_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSILE_OAUTH_GOOGLE_ISSUER", "https://accounts.google.com")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "SESSILE_OAUTH_GOOGLE_CLIENT_ID" in str(caught.value)


def test_an_apple_key_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSILE_OAUTH_APPLE_CLIENT_ID", "com.example.web")
    monkeypatch.setenv("SESSILE_OAUTH_APPLE_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nnope")
    with pytest.raises(ConfigError, match="team_id and key_id"):
        load_settings()
    monkeypatch.setenv("SESSILE_OAUTH_APPLE_TEAM_ID", "TEAM123456")
    monkeypatch.setenv("SESSILE_OAUTH_APPLE_KEY_ID", "KEY1234567")
    with pytest.raises(ConfigError, match="not a PEM EC private key"):
        load_settings()
    from joserfc.jwk import ECKey

    pem = ECKey.generate_key("P-256").as_pem(private=True).decode()
    monkeypatch.setenv("SESSILE_OAUTH_APPLE_PRIVATE_KEY", pem)
    assert load_settings().oauth["apple"].key_id == "KEY1234567"
