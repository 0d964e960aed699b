"""Fixtures of the spyglass_rs suite: the demo session (written by spyglass-rs's
synthetic writer, the one `spyglass demo` ingests) ingested and its LFP made
through the Python API, once per backend — the embedded SQLite and, when
$SPYGLASS_TEST_MYSQL_URL is set (scripts/test.sh starts a private MariaDB), MySQL
under a schema prefix of its own, where datajoint-python reads the same tables."""

from __future__ import annotations

import os
import urllib.parse
import uuid

import pytest

import spyglass_rs
import spyglass_rs._connection as _connection

MYSQL_URL = os.environ.get("SPYGLASS_TEST_MYSQL_URL", "")
NWB_FILE_NAME = "demo20230622_.nwb"
LFP_GROUP = "demo"


class Ctx:
    """One backend's database with the demo session and its LFP."""

    def __init__(self, backend, conn, params, lfp_key, prefix, base_dir, demo_nwb):
        self.backend = backend
        self.conn = conn
        self.params = params
        self.lfp_key = lfp_key
        self.prefix = prefix
        self.base_dir = base_dir
        self.demo_nwb = demo_nwb
        self.nwb_file_name = NWB_FILE_NAME

    def use(self):
        """Makes this the default connection of the Spyglass-like modules."""
        _connection._default = self.conn
        return self


def _prepare(backend, url, prefix, base_dir, demo_nwb, params):
    conn = spyglass_rs.connect(url, prefix=prefix, base_dir=base_dir)
    reports = conn.insert_sessions([demo_nwb])
    assert reports[0]["status"] == "inserted", reports
    conn.insert_defaults()
    conn.table("common_filter.FirFilterParameters").create_standard_filters()
    from spyglass_rs.lfp import LFPElectrodeGroup
    from spyglass_rs.lfp.v1 import LFPSelection

    _connection._default = conn
    LFPElectrodeGroup.create_lfp_electrode_group(
        NWB_FILE_NAME, LFP_GROUP, list(range(params["n_channels"]))
    )
    key = {
        "nwb_file_name": NWB_FILE_NAME,
        "lfp_electrode_group_name": LFP_GROUP,
        "target_interval_list_name": "raw data valid times",
        "filter_name": "LFP 0-400 Hz",
        "filter_sampling_rate": 30000,
    }
    LFPSelection.insert1({**key, "target_sampling_rate": 1000.0})
    from spyglass_rs.lfp.v1 import LFPV1

    report = LFPV1.populate(key)
    assert report["success_count"] == 1, report
    return Ctx(backend, conn, params, key, prefix, base_dir, demo_nwb)


@pytest.fixture(scope="session")
def demo_nwb(tmp_path_factory):
    """The demo session's NWB file and its parameters."""
    d = tmp_path_factory.mktemp("incoming")
    path = d / "demo20230622.nwb"
    params = spyglass_rs.write_demo_session(path)
    return path, params


@pytest.fixture(scope="session")
def sqlite_ctx(tmp_path_factory, demo_nwb):
    return _new_ctx("sqlite", tmp_path_factory, demo_nwb)


def _drop_schemas(ctx):
    """Drops a MySQL context's schemas (the server may be shared)."""
    for (schema,) in ctx.conn.query(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?",
        [ctx.prefix.replace("_", "\\_") + "%"],
    ):
        try:
            ctx.conn.execute(f"DROP DATABASE `{schema}`")
        except spyglass_rs.SpyglassError:
            pass


def _new_ctx(backend, tmp_path_factory, demo_nwb):
    """A new database of ``backend`` with the demo session and its LFP."""
    base = tmp_path_factory.mktemp(f"{backend}-base")
    if backend == "sqlite":
        url, prefix = f"sqlite:///{base / 'spyglass.db'}", None
    else:
        if not MYSQL_URL:
            pytest.skip("SPYGLASS_TEST_MYSQL_URL is not set (scripts/test.sh starts a MariaDB)")
        url, prefix = MYSQL_URL, f"py{os.getpid()}_{uuid.uuid4().hex[:6]}_"
    return _prepare(backend, url, prefix, base, demo_nwb[0], demo_nwb[1])


@pytest.fixture(scope="session")
def mysql_ctx(tmp_path_factory, demo_nwb):
    ctx = _new_ctx("mysql", tmp_path_factory, demo_nwb)
    yield ctx
    _drop_schemas(ctx)


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def module_ctx(request, tmp_path_factory, demo_nwb):
    """A database of its own for the tests of one module that change it (deletes),
    each backend in turn; the module's tests run in file order on it."""
    if request.param == "mysql":
        request.getfixturevalue("dj_conn")  # the shared database first: no switch later
    ctx = _new_ctx(request.param, tmp_path_factory, demo_nwb)
    yield ctx
    if ctx.backend == "mysql":
        _drop_schemas(ctx)


@pytest.fixture
def scratch(module_ctx):
    """The module's own database, made the default connection."""
    return module_ctx.use()


@pytest.fixture(params=["sqlite", "mysql"])
def ctx(request):
    """Each backend in turn, made the default connection."""
    return request.getfixturevalue(f"{request.param}_ctx").use()


@pytest.fixture(scope="session")
def dj_conn(mysql_ctx):
    """datajoint-python connected to the same MariaDB."""
    import datajoint as dj

    u = urllib.parse.urlparse(MYSQL_URL)
    dj.config["safemode"] = False
    dj.config["database.use_tls"] = False
    return dj.Connection(
        host=f"{u.hostname}:{u.port or 3306}",
        user=urllib.parse.unquote(u.username or "root"),
        password=urllib.parse.unquote(u.password or ""),
        use_tls=False,
    )


@pytest.fixture
def dj_table(dj_conn, mysql_ctx):
    """``dj_table(our_table)``: datajoint-python's FreeTable over the same stored table."""
    import datajoint as dj

    def make(table):
        return dj.FreeTable(dj_conn, table.full_table_name)

    return make
