"""spyglass_rs in a lab's database as Python Spyglass 0.6 declares it.

A MariaDB of this module's own (Spyglass's schemas have their real, unprefixed
names, so it cannot share the suite's server) and a base dir laid out as a lab's.
Python Spyglass, in its own environment (.venv-spyglass), runs as one subprocess
(spyglass_lab.py, JSON over stdin): importing it declares the common, LFP, LFP
merge, position and spike-sorting schemas, and its own ``insert_sessions`` ingests
the demo session. Then spyglass_rs, connected without a prefix, finds Spyglass's
tables (names, headings, keys) and reads its rows (the same values as datajoint
fetches in Spyglass's process); its own ingest of the same file (into SQLite) gives
the same rows; it makes LFPV1, TrodesPosV1 (with Spyglass's parameter row) and sort
groups in Spyglass's tables, and Spyglass reads them back (fetch_nwb,
fetch1_dataframe, the merge methods) with the same arrays and frames; the sort groups
equal those Spyglass makes; the cautious delete permits and refuses database
accounts as Spyglass's rules do on Spyglass's LabMember and LabTeam tables.

Slow (Spyglass imports for ~20 s): skipped with SPYGLASS_SKIP_SPYGLASS_INTEROP=1 or
without .venv-spyglass (scripts/setup.sh); SPYGLASS_SPYGLASS_PYTHON names another
interpreter."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spyglass_rs
import spyglass_rs._connection as _connection

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from spyglass_lab import by_merge_id, encode  # noqa: E402

RAW_NAME = "demo20230622.nwb"
NWB = "demo20230622_.nwb"
SESSION = {"nwb_file_name": NWB}


def _spyglass_python():
    if os.environ.get("SPYGLASS_SKIP_SPYGLASS_INTEROP", "") not in ("", "0"):
        pytest.skip("SPYGLASS_SKIP_SPYGLASS_INTEROP is set", allow_module_level=True)
    p = os.environ.get("SPYGLASS_SPYGLASS_PYTHON")
    if p:
        return p
    root = HERE.parent.parent
    p = root / ".venv-spyglass" / "bin" / "python"
    if not p.exists():
        pytest.skip(f"Python Spyglass is missing ({p}): run scripts/setup.sh",
                    allow_module_level=True)
    return str(p)


SPYGLASS_PYTHON = _spyglass_python()
if not shutil.which("mariadbd") and not Path("/usr/sbin/mariadbd").exists():
    pytest.skip("mariadbd is missing: run scripts/setup.sh", allow_module_level=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_with_parent():
    """In the child before exec: SIGTERM when the test process dies (PR_SET_PDEATHSIG),
    so that a killed run leaves no server behind."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class MariaDB:
    """A private MariaDB in a temporary folder, stopped by ``stop``."""

    def __init__(self, folder: Path):
        data, tmp = folder / "data", folder / "tmp"
        tmp.mkdir(parents=True)
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db",
             f"--datadir={data}"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = _free_port()
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.proc = subprocess.Popen(
            [mariadbd, "--no-defaults", f"--datadir={data}", f"--socket={folder / 'mysql.sock'}",
             f"--port={self.port}", f"--pid-file={folder / 'mariadbd.pid'}", f"--tmpdir={tmp}",
             f"--log-error={folder / 'err.log'}", "--bind-address=127.0.0.1", "--user=root",
             "--skip-name-resolve", "--innodb-log-file-size=16M",
             "--innodb-flush-log-at-trx-commit=2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_stop_with_parent)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"MariaDB did not start; see {folder / 'err.log'}")
                time.sleep(0.1)
        self.url = f"mysql://root@127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Spyglass:
    """Python Spyglass running spyglass_lab.py, one JSON command at a time."""

    def __init__(self, lab_dir: Path, base: Path):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DJ_", "SPYGLASS_DB", "VIRTUAL_ENV", "PYTHON"))}
        env.update(PATH=f"{lab_dir / 'bin'}:{env.get('PATH', '')}", HDF5_USE_FILE_LOCKING="FALSE",
                   DJ_SUPPORT_FILEPATH_MANAGEMENT="TRUE", SPYGLASS_BASE_DIR=str(base))
        self.proc = subprocess.Popen(
            [SPYGLASS_PYTHON, str(HERE / "spyglass_lab.py")], cwd=lab_dir, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self._answer()
        assert ready == {"ready": True}, ready

    def _answer(self):
        for line in self.proc.stdout:
            if line.startswith("@@LAB@@ "):
                return json.loads(line[len("@@LAB@@ "):])
        raise RuntimeError(f"Python Spyglass exited ({self.proc.wait()})")

    def __call__(self, op, *args):
        """Runs ``op``; Spyglass's exception fails the test with its traceback."""
        self.proc.stdin.write(json.dumps({"op": op, "args": list(args)}) + "\n")
        self.proc.stdin.flush()
        a = self._answer()
        if "error" in a:
            raise AssertionError(f"Spyglass {op}{tuple(args)}: {a['error']}\n{a['trace']}")
        return a["ok"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Lab:
    """The lab's server, base dir and running Spyglass, with the demo session ingested
    by Spyglass; ``db`` is spyglass_rs connected without a prefix."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.base = folder / "base"
        for sub in ["raw", "analysis", "recording", "spikesorting", "waveforms", "tmp",
                    "video", "export"]:
            (self.base / sub).mkdir(parents=True)
        self.params = spyglass_rs.write_demo_session(self.base / "raw" / RAW_NAME)
        self.server = MariaDB(folder / "mariadb")
        store = lambda name: {"protocol": "file", "location": str(self.base / name),  # noqa: E731
                              "stage": str(self.base / name)}
        conf = {
            "database.host": "127.0.0.1", "database.port": self.server.port,
            "database.user": "root", "database.password": "", "database.use_tls": False,
            "safemode": False, "filepath_checksum_size_limit": 1 << 30,
            "stores": {"raw": store("raw"), "analysis": store("analysis")},
            "custom": {"spyglass_dirs": {"base": str(self.base)}},
        }
        (folder / "dj_local_conf.json").write_text(json.dumps(conf, indent=1))
        # Spyglass records `conda env export` in analysis files: a stand-in conda
        (folder / "bin").mkdir()
        conda = folder / "bin" / "conda"
        conda.write_text("#!/bin/sh\necho 'name: spyglass-lab'\necho 'dependencies: []'\n")
        conda.chmod(0o755)
        self.spyglass = None
        try:
            self.spyglass = Spyglass(folder, self.base)
            self.schemas = self.spyglass("ingest", RAW_NAME)["schemas"]
            self.db = spyglass_rs.connect(self.server.url, base_dir=self.base)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.spyglass is not None:
            self.spyglass.close()
        self.server.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
    t0 = time.monotonic()
    lab = Lab(tmp_path_factory.mktemp("spyglass-lab"))
    print(f"Spyglass declared its schemas and ingested the demo session in "
          f"{time.monotonic() - t0:.1f} s")
    yield lab
    lab.close()


@pytest.fixture
def db(lab):
    """The lab's database, made the default connection of the Spyglass-like modules."""
    _connection._default = lab.db
    return lab.db


def ours(table, restriction=SESSION):
    """Our rows of ``table``, by primary key, written as spyglass_lab.encode writes."""
    return [encode(r) for r in (table & restriction).fetch(as_dict=True, order_by="KEY")]


# -- Spyglass's schemas, as they are ----------------------------------------------------

def test_spyglass_declared_unprefixed_schemas(lab, db):
    for schema in ["common_session", "common_ephys", "common_nwbfile", "lfp_v1", "lfp_merge",
                   "position_v1_trodes_position", "position_merge",
                   "spikesorting_v1_recording", "spikesorting_merge"]:
        assert schema in lab.schemas, lab.schemas
    assert set(lab.schemas) <= set(db.schemas())

    # each class names the table Spyglass declared, with its attributes and key
    theirs = lab.spyglass("full_names")
    for name, t in theirs.items():
        mine = db.table(name)
        assert mine.full_table_name == t["full"], name
        assert list(mine.heading.names) == t["heading"], name
        assert list(mine.primary_key) == t["primary_key"], name


SESSION_TABLES = ["Nwbfile", "Session", "Session.Experimenter", "ElectrodeGroup", "Electrode",
                  "Raw", "IntervalList", "TaskEpoch"]


@pytest.mark.parametrize("name", SESSION_TABLES)
def test_spyglass_rows_read_as_datajoint_fetches(lab, db, name):
    import spyglass_rs.common as common

    table = common
    for part in name.split("."):
        table = getattr(table, part)
    theirs = lab.spyglass("rows", name, SESSION)
    assert len(theirs) > 0, name
    mine = ours(table)
    assert [sorted(r) for r in mine] == [sorted(r) for r in theirs], name
    for a, b in zip(mine, theirs):
        assert a == b, name
    # the frame: DataJoint's, indexed by the primary key
    frame = (table & SESSION).fetch(format="frame", order_by="KEY")
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(theirs)
    assert list(frame.index.names) == list(table().primary_key), name
    assert [encode(r) for r in frame.reset_index().to_dict("records")] == theirs, name


def test_our_ingest_of_the_file_equals_spyglass_ingest(lab, db, tmp_path):
    """spyglass_rs ingests the same file into an SQLite database of its own: the
    session's rows equal those Spyglass's insert_sessions made."""
    import spyglass_rs.common as common

    sqlite = spyglass_rs.connect(f"sqlite:///{tmp_path / 'own.db'}", base_dir=tmp_path / "base",
                                 set_default=False)
    (report,) = sqlite.insert_sessions([lab.base / "raw" / RAW_NAME])
    assert report["status"] == "inserted", report
    for name, restriction in [(n, SESSION) for n in SESSION_TABLES] + [
        ("CameraDevice", True), ("DataAcquisitionDevice", True), ("Probe", True),
        ("Subject", True), ("Task", True),
    ]:
        cls = common
        for part in name.split("."):
            cls = getattr(cls, part)
        # paths under each base dir compared relative to it
        mine = json.dumps(ours(cls(sqlite), restriction)).replace(str(tmp_path / "base"), "<base>")
        theirs = json.dumps(lab.spyglass("rows", name, restriction)).replace(str(lab.base), "<base>")
        assert json.loads(mine) == json.loads(theirs), name


def test_our_insert_sessions_finds_spyglass_ingest(lab, db):
    from spyglass_rs.common import Nwbfile

    (report,) = db.insert_sessions([lab.base / "raw" / RAW_NAME])
    assert report["nwb_file_name"] == NWB and report["status"] == "already present", report
    assert ours(Nwbfile) == lab.spyglass("rows", "Nwbfile", SESSION)


# -- LFP made by spyglass_rs in Spyglass's tables, read by Spyglass ---------------------

LFP_KEY = {
    "nwb_file_name": NWB,
    "lfp_electrode_group_name": "lab",
    "target_interval_list_name": "raw data valid times",
    "filter_name": "LFP 0-400 Hz",
    "filter_sampling_rate": 30000,
}


@pytest.fixture(scope="module")
def lfp(lab, tmp_path_factory):
    """LFPV1 of the demo session made by spyglass_rs in Spyglass's tables, then read by
    Spyglass: (what Spyglass answered, the arrays it saved)."""
    _connection._default = lab.db
    from spyglass_rs.common import FirFilterParameters
    from spyglass_rs.lfp import LFPElectrodeGroup
    from spyglass_rs.lfp.v1 import LFPSelection, LFPV1

    FirFilterParameters().create_standard_filters()
    LFPElectrodeGroup.create_lfp_electrode_group(NWB, "lab", list(range(lab.params["n_channels"])))
    LFPSelection.insert1({**LFP_KEY, "target_sampling_rate": 1000.0})
    report = LFPV1.populate(LFP_KEY)
    assert report["success_count"] == 1 and report["error_list"] == [], report
    out = tmp_path_factory.mktemp("spyglass-read") / "lfp.npz"
    theirs = lab.spyglass("read_lfp", LFP_KEY, str(out))
    return theirs, dict(np.load(out, allow_pickle=False))


def test_spyglass_reads_our_lfpv1_row(lab, lfp, db):
    from spyglass_rs.lfp.v1 import LFPV1

    theirs, _ = lfp
    assert theirs["row"] == encode((LFPV1 & LFP_KEY).fetch1())
    # the standard filters we stored are Spyglass's rows
    from spyglass_rs.common import FirFilterParameters

    assert ours(FirFilterParameters, True) == lab.spyglass("rows", "FirFilterParameters", True)
    # the LFP's valid times and analysis file, as Spyglass reads them
    from spyglass_rs.common import AnalysisNwbfile, IntervalList

    assert ours(IntervalList) == lab.spyglass("rows", "IntervalList", SESSION)
    theirs_files = lab.spyglass("rows", "AnalysisNwbfile", SESSION)
    assert ours(AnalysisNwbfile) == theirs_files
    assert [f["analysis_file_name"] for f in theirs_files] == [theirs["row"]["analysis_file_name"]]


def test_spyglass_fetch_nwb_equals_ours(lab, lfp, db):
    from spyglass_rs.lfp import LFPOutput
    from spyglass_rs.lfp.v1 import LFPV1

    theirs, arrays = lfp
    (row,) = (LFPOutput & {"merge_id": theirs["merge_id"]}).fetch_nwb()
    mine = row["lfp"]
    for name, a in [("data", mine.data), ("timestamps", mine.timestamps),
                    ("electrodes", mine.electrodes)]:
        b = arrays[name]
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal((LFPV1 & LFP_KEY).fetch_nwb()[0]["lfp"].data, arrays["v1_data"])
    assert mine.object_id == theirs["lfp"]["object_id"]
    assert mine.neurodata_type == theirs["lfp"]["type"] == "ElectricalSeries"
    assert mine.conversion == theirs["lfp"]["conversion"]
    assert mine.unit == theirs["lfp"]["unit"]
    assert mine.data.shape[1] == lab.params["n_channels"]


def test_spyglass_fetch1_dataframe_equals_ours(lfp, db):
    from spyglass_rs.lfp import LFPOutput
    from spyglass_rs.lfp.v1 import LFPV1

    theirs, arrays = lfp
    for mine, values, index, name in [
        ((LFPOutput & {"merge_id": theirs["merge_id"]}).fetch1_dataframe(), "df_values",
         "df_index", theirs["df_index_name"]),
        ((LFPV1 & LFP_KEY).fetch1_dataframe(), "direct_values", "direct_index",
         theirs["direct_index_name"]),
    ]:
        expected = pd.DataFrame(arrays[values], index=pd.Index(arrays[index], name=name),
                                columns=list(arrays["df_columns"]))
        pd.testing.assert_frame_equal(mine, expected, check_exact=True)


def test_merge_methods_agree_with_spyglass(lfp, db):
    from spyglass_rs.lfp import LFPOutput
    from spyglass_rs.lfp.v1 import LFPV1

    theirs, _ = lfp
    part = LFPOutput.merge_get_part(LFP_KEY)
    assert [encode(r) for r in part.fetch(as_dict=True, order_by="KEY")] == theirs["part_rows"]
    joined = LFPOutput.merge_get_part(LFP_KEY, join_master=True)
    assert [encode(r) for r in joined.fetch(as_dict=True, order_by="KEY")] == theirs[
        "part_join_master"]
    assert [p.full_table_name for p in LFPOutput.merge_get_part(LFP_KEY, multi_source=True)] \
        == theirs["parts_source"]
    view = [encode(r) for r in LFPOutput.merge_restrict(LFP_KEY).fetch(as_dict=True)]
    assert view == theirs["restrict_rows"]
    assert len(LFPOutput.merge_restrict()) == theirs["restrict_all"]
    assert encode(LFPOutput.merge_fetch(restriction=LFP_KEY, as_dict=True)) == theirs["merge_fetch"]
    assert encode(LFPOutput.merge_fetch("merge_id", restriction=LFP_KEY)) == theirs[
        "merge_fetch_ids"]
    parent = LFPOutput.merge_get_parent({"merge_id": theirs["merge_id"]})
    assert isinstance(parent, LFPV1)
    assert encode(parent.fetch("KEY", as_dict=True)) == theirs["parent"]


IMPORTED_LFP = {"nwb_file_name": NWB, "lfp_electrode_group_name": "lab",
                "interval_list_name": "raw data valid times", "lfp_sampling_rate": 1000.0,
                "lfp_object_id": "an object these tests never read"}
# restrictions selecting both parts, each one alone (by source, by an attribute only one
# part has, as a dict and as SQL)
MERGE_RESTRICTIONS = [True, SESSION, {"source": "ImportedLFP"}, {"filter_name": "LFP 0-400 Hz"},
                      "filter_sampling_rate > 0", {"interval_list_name": "raw data valid times"}]


def test_merged_view_of_two_parts_as_spyglass_fills_it(lab, lfp, db, capsys):
    """LFPOutput holding our LFPV1 entry and an ImportedLFP entry Spyglass's merge insert
    made: each part lacks attributes of the other, which Spyglass's merged view fills
    (0 for numeric ones, NULL for the others). Per restriction, our merge_restrict,
    merge_view and merge_fetch give Spyglass's heading and values."""
    from spyglass_rs.lfp import LFPOutput

    theirs_lfpv1, _ = lfp
    imported = lab.spyglass("import_lfp", IMPORTED_LFP)["merge_id"]
    try:
        answers = lab.spyglass("merge_views", MERGE_RESTRICTIONS)
        # the case this test is about, as Spyglass shows it: the imported entry has
        # filter_sampling_rate (an int of LFPV1) 0 and LFPV1's varchar attributes NULL;
        # the LFPV1 entry has ImportedLFP's interval_list_name NULL
        rows = {r["merge_id"]: r for r in answers[0]["view"]["rows"]}
        assert set(rows) == {imported, theirs_lfpv1["merge_id"]}
        assert rows[imported]["filter_sampling_rate"] == 0
        assert rows[imported]["filter_name"] is None
        assert rows[imported]["target_interval_list_name"] is None
        assert rows[theirs_lfpv1["merge_id"]]["interval_list_name"] is None
        for restriction, theirs in zip(MERGE_RESTRICTIONS, answers):
            view = LFPOutput.merge_restrict(restriction)
            if theirs["view"] is None:
                assert len(view) == 0, restriction
            else:
                assert list(view.heading.names) == theirs["view"]["heading"], restriction
                assert list(view.primary_key) == theirs["view"]["primary_key"], restriction
                assert by_merge_id(view.fetch(as_dict=True)) == theirs["view"]["rows"], \
                    restriction
            # merge_fetch: each part's fetch, in the parts' order, one result as itself
            assert encode(LFPOutput.merge_fetch(restriction=restriction, as_dict=True)) \
                == theirs["merge_fetch"], restriction
            assert encode(LFPOutput.merge_fetch("merge_id", restriction=restriction)) \
                == theirs["merge_fetch_ids"], restriction
        # merge_view prints that view
        LFPOutput.merge_view(True)
        printed = capsys.readouterr().out
        assert imported in printed and theirs_lfpv1["merge_id"] in printed
    finally:
        key = {k: IMPORTED_LFP[k] for k in ["nwb_file_name", "lfp_electrode_group_name",
                                             "interval_list_name"]}
        assert lab.spyglass("unimport_lfp", key) == {"left": 0}


# -- spike sorting's sort groups in Spyglass's tables ----------------------------------

def test_sort_groups_by_shank_as_spyglass_makes_them(lab, db):
    from spyglass_rs.spikesorting.v1 import SortGroup

    theirs = lab.spyglass("sort_groups", NWB)
    assert len(theirs["SortGroup"]) == lab.params["n_groups"], theirs
    SortGroup.set_group_by_shank(NWB)
    mine = {"SortGroup": ours(SortGroup),
            "SortGroup.SortGroupElectrode": ours(SortGroup.SortGroupElectrode)}
    assert mine == theirs
    # and Spyglass reads ours
    assert lab.spyglass("sort_group_rows", NWB) == theirs


# -- the cautious delete on Spyglass's lab tables ---------------------------------------

USERS = {"alice": "Alice Able", "olga": "Olga Outsider", "ada": "Ada Admin"}


@pytest.fixture(scope="module")
def accounts(lab):
    """The lab as Spyglass sets it up (LabMember, LabTeam, LabMemberInfo): Alice in a
    team with the session's experimenter, Olga alone, Ada an admin; each a database
    account. Returns ``{user: spyglass_rs connection as that account}``."""
    lab.spyglass("lab", [["Alice Able", "alice"]], ["Olga Outsider", "olga"],
                 ["Ada Admin", "ada"])
    out = {}
    for user in [*USERS, "bob"]:  # bob: an account that is no lab member
        lab.db.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{user}'")
        lab.db.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%'")
        out[user] = spyglass_rs.connect(
            f"mysql://{user}:pw-{user}@127.0.0.1:{lab.server.port}", base_dir=lab.base,
            set_default=False)
    out["root"] = lab.db
    return out


def test_delete_permission_as_spyglass_decides(lab, accounts):
    restriction = {"nwb_file_name": NWB, "interval_list_name": "raw data valid times"}
    for user, conn in accounts.items():
        spyglass = lab.spyglass("may_delete", user, "IntervalList", restriction)
        target = conn.table("common_interval.IntervalList") & restriction
        try:
            planned = target.delete(dry_run=True)
            permitted, reason = True, planned
        except spyglass_rs.SpyglassError as e:
            permitted, reason = False, str(e)
        assert permitted == spyglass["permitted"], (user, reason, spyglass)
    # Spyglass's rules: the experimenter's team and admins (root is one) may
    assert {u: lab.spyglass("may_delete", u, "IntervalList", restriction)["permitted"]
            for u in accounts} == {"alice": True, "olga": False, "ada": True, "bob": False,
                                   "root": True}


def test_delete_by_a_team_member_is_logged_for_spyglass(lab, accounts):
    name = "lab scratch"
    key = {"nwb_file_name": NWB, "interval_list_name": name}
    assert lab.spyglass("insert_interval", name)["rows"] == 1
    refused = accounts["olga"].table("common_interval.IntervalList") & key
    with pytest.raises(spyglass_rs.SpyglassError, match="(?i)team|permission"):
        refused.delete(safemode=False)
    assert len(lab.spyglass("rows", "IntervalList", key)) == 1
    permitted = accounts["alice"].table("common_interval.IntervalList") & key
    assert permitted.delete(safemode=False) == 1
    assert lab.spyglass("rows", "IntervalList", key) == []
    # Spyglass reads the log row we wrote into its CautiousDelete table
    logged = [r for r in lab.spyglass("rows", "CautiousDelete", {"dj_user": "alice"})]
    assert len(logged) == 1, logged
    # origin is the full table name, as Spyglass writes it; spyglass-rs logs every
    # cautious delete, Spyglass 0.6 only its super deletes
    assert logged[0]["origin"] == "`common_interval`.`interval_list`"
    assert name in logged[0]["restriction"]


# -- position made by spyglass_rs with Spyglass's parameters ----------------------------

def test_spyglass_reads_our_trodes_position(lab, db, tmp_path):
    from spyglass_rs.position import PositionOutput
    from spyglass_rs.position.v1 import TrodesPosParams, TrodesPosSelection, TrodesPosV1

    stored = lab.spyglass("trodes_params")
    assert ours(TrodesPosParams, True) == stored
    (interval,) = [r["interval_list_name"] for r in lab.spyglass("rows", "IntervalList", SESSION)
                   if r["interval_list_name"].startswith("pos ")][:1]
    key = {"nwb_file_name": NWB, "interval_list_name": interval,
           "trodes_pos_params_name": "default"}
    TrodesPosSelection.insert1(key)
    report = TrodesPosV1.populate(key)
    assert report["success_count"] == 1 and report["error_list"] == [], report
    theirs = lab.spyglass("read_position", key, str(tmp_path / "pos.npz"))
    arrays = np.load(tmp_path / "pos.npz")
    for mine, side, columns in [
        ((PositionOutput & {"merge_id": theirs["merge_id"]}).fetch1_dataframe(), "merge",
         theirs["columns"]),
        ((TrodesPosV1 & key).fetch1_dataframe(), "direct", theirs["direct_columns"]),
    ]:
        expected = pd.DataFrame(
            {c: arrays[f"{side}_{i}"] for i, c in enumerate(columns)},
            index=pd.Index(arrays[f"{side}_index"], name=theirs["index_name"]))
        pd.testing.assert_frame_equal(mine, expected, check_exact=True)
