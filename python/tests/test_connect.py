"""connect()'s configuration rules, the CLI's (hand-derived expectations)."""

import os

import spyglass_rs


def _clear(monkeypatch, tmp_path):
    for v in ("SPYGLASS_DB", "DJ_HOST", "DJ_USER", "DJ_PASS"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPYGLASS_BASE_DIR", str(tmp_path / "base"))
    monkeypatch.chdir(tmp_path)


def test_default_is_sqlite_in_the_base_dir(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path)
    assert spyglass_rs.database_url() == f"sqlite:///{tmp_path / 'base' / 'spyglass.db'}"


def test_argument_then_env_then_config_file(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path)
    (tmp_path / "spyglass.toml").write_text('[database]\nurl = "sqlite:///from-toml.db"\n')
    assert spyglass_rs.database_url() == "sqlite:///from-toml.db"
    monkeypatch.setenv("SPYGLASS_DB", "sqlite:///from-env.db")
    assert spyglass_rs.database_url() == "sqlite:///from-env.db"
    assert spyglass_rs.database_url("sqlite:///given.db") == "sqlite:///given.db"


def test_datajoint_settings_name_a_server(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path)
    monkeypatch.setenv("DJ_HOST", "db.example.org")
    assert spyglass_rs.database_url() == "mysql://db.example.org:3306"


def test_password_is_redacted(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path)
    shown = spyglass_rs.database_url("mysql://me:secret@host:3306")
    assert "secret" not in shown and "host:3306" in shown


def test_connect_opens_the_default_and_binds_the_modules(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path)
    db = spyglass_rs.connect()
    assert db.backend == "sqlite"
    assert os.path.exists(tmp_path / "base" / "spyglass.db")
    from spyglass_rs.common import Session

    assert len(Session) == 0
    assert Session().table_name == "common_session.Session"
    assert spyglass_rs.conn() is db


def test_bad_url_is_a_clear_error(tmp_path):
    try:
        spyglass_rs.connect("nosuch://x", set_default=False)
    except spyglass_rs.SpyglassError as e:
        assert "nosuch" in str(e)
    else:
        raise AssertionError("an unknown scheme must raise")
