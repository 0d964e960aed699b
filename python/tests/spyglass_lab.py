"""Python Spyglass 0.6 in a lab's database, driven from test_spyglass_db.py.

Run with Python Spyglass's interpreter (.venv-spyglass) from a directory holding
dj_local_conf.json: imports Spyglass (which declares its schemas, unprefixed, as in
a lab), then reads one JSON command per line on stdin and answers each with one
line ``@@LAB@@ <json>`` on stdout (Spyglass's logging may print other lines).

``encode`` is also imported by the test (without Spyglass) so that both sides of
a comparison are written the same way: numpy arrays as dtype, shape and values,
datetimes as ISO text, UUIDs as text, floats as themselves."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import sys
import traceback
import uuid

import numpy as np


def encode(v):
    """A fetched value as plain JSON data, type kept where JSON would lose it."""
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return {"object_array": [encode(x) for x in v.ravel().tolist()], "shape": list(v.shape)}
        return {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.ravel().tolist()}
    if isinstance(v, np.generic):
        return encode(v.item())
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, dict):
        return {str(k): encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def by_merge_id(rows):
    """Rows (dicts) encoded, in merge_id order (a union's rows come in no set order)."""
    return sorted((encode(r) for r in rows), key=lambda r: r["merge_id"])


def main():
    import datajoint as dj

    dj.config["safemode"] = False
    import spyglass.common as sgc
    from spyglass.data_import import insert_sessions
    from spyglass.lfp import LFPElectrodeGroup, LFPOutput  # noqa: F401 (declares lfp_merge)
    from spyglass.lfp.v1 import LFPV1, LFPSelection  # noqa: F401
    from spyglass.position import PositionOutput  # noqa: F401 (declares position_merge)
    from spyglass.position.v1 import TrodesPosV1  # noqa: F401
    import spyglass.spikesorting.v1  # noqa: F401 (declares spike sorting v1)
    import spyglass.spikesorting.spikesorting_merge  # noqa: F401

    tables = {
        "Nwbfile": sgc.Nwbfile, "Session": sgc.Session, "Session.Experimenter": sgc.Session.Experimenter,
        "ElectrodeGroup": sgc.ElectrodeGroup, "Electrode": sgc.Electrode, "Raw": sgc.Raw,
        "IntervalList": sgc.IntervalList, "TaskEpoch": sgc.TaskEpoch, "LabMember": sgc.LabMember,
        "LFPV1": LFPV1, "LFPSelection": LFPSelection, "LFPOutput": LFPOutput,
        "LFPOutput.LFPV1": LFPOutput.LFPV1, "FirFilterParameters": sgc.FirFilterParameters,
        "PositionOutput.TrodesPosV1": PositionOutput.TrodesPosV1, "TrodesPosV1": TrodesPosV1,
        "LabTeam.LabTeamMember": sgc.LabTeam.LabTeamMember, "AnalysisNwbfile": sgc.AnalysisNwbfile,
        "CameraDevice": sgc.CameraDevice, "DataAcquisitionDevice": sgc.DataAcquisitionDevice,
        "Probe": sgc.Probe, "Subject": sgc.Subject, "Task": sgc.Task,
        "LabMember.LabMemberInfo": sgc.LabMember.LabMemberInfo,
    }
    from spyglass.common.common_usage import CautiousDelete

    tables["CautiousDelete"] = CautiousDelete

    def declared():
        """The schemas on the server (Spyglass's, unprefixed), the server's own left out."""
        system = {"information_schema", "mysql", "performance_schema", "sys"}
        return sorted(r[0] for r in dj.conn().query("SHOW DATABASES").fetchall()
                      if r[0] not in system)

    def ingest(raw_name):
        insert_sessions(raw_name, raise_err=True)
        return {"schemas": declared()}

    def rows(name, restriction):
        """The rows of a table (Spyglass's class) by primary key, as datajoint fetches them."""
        t = tables[name] & restriction
        return [encode(r) for r in t.fetch(as_dict=True, order_by="KEY")]

    def lab(team_members, outsider, admin):
        """The lab: a team of the session's experimenter with ``team_members``, a team
        of ``outsider`` alone, each with a database user; ``admin`` an admin."""
        members = [*team_members, outsider, admin]
        sgc.LabMember.insert(
            [{"lab_member_name": n, "first_name": n.split()[0], "last_name": n.split()[-1]}
             for n, _ in members], skip_duplicates=True)
        experimenters = sgc.Session.Experimenter.fetch("lab_member_name").tolist()
        sgc.LabTeam().create_new_team(
            team_name="exp team", team_members=sorted({*experimenters, *[n for n, _ in team_members]}),
            team_description="the experimenter's team")
        sgc.LabTeam().create_new_team(team_name="outsiders", team_members=[outsider[0]],
                                      team_description="")
        sgc.LabMember.LabMemberInfo.insert(
            [{"lab_member_name": n, "google_user_name": f"{u}@lab.org", "datajoint_user_name": u,
              "admin": int(n == admin[0])} for n, u in members], skip_duplicates=True)
        return {"teams": rows_of(sgc.LabTeam.LabTeamMember)}

    def rows_of(t):
        return [encode(r) for r in t.fetch(as_dict=True, order_by="KEY")]

    def may_delete(user, name, restriction):
        """Spyglass's permission check (cautious_delete's dry run) for ``user``."""
        old = dj.config["database.user"]
        dj.config["database.user"] = user
        sgc.LabMember._admin = []  # the admin list is cached per class
        try:
            (tables[name] & restriction).cautious_delete(dry_run=True)
            return {"permitted": True}
        except (PermissionError, ValueError) as e:
            return {"permitted": False, "reason": f"{type(e).__name__}: {e}"}
        finally:
            dj.config["database.user"] = old

    def read_lfp(key, out_npz):
        """What a lab member reads of an LFPV1 entry: its row, the merge entry
        (merge_get_part, merge_restrict, merge_fetch), fetch_nwb through LFPOutput and
        both fetch1_dataframe; the arrays saved to ``out_npz``."""
        row = (LFPV1 & key).fetch1()
        part = LFPOutput.merge_get_part(key)
        merge_id = part.fetch1("merge_id")
        entry = {"merge_id": merge_id}
        (nwb,) = (LFPOutput & entry).fetch_nwb()
        lfp = nwb["lfp"]
        via_merge = (LFPOutput & entry).fetch1_dataframe()
        direct = (LFPV1 & key).fetch1_dataframe()
        (v1_nwb,) = (LFPV1 & key).fetch_nwb()
        np.savez(out_npz, data=np.asarray(lfp.data[:]), timestamps=np.asarray(lfp.timestamps[:]),
                 electrodes=np.asarray(lfp.electrodes.data[:]),
                 v1_data=np.asarray(v1_nwb["lfp"].data[:]),
                 df_values=via_merge.to_numpy(), df_index=via_merge.index.to_numpy(),
                 df_columns=np.asarray(via_merge.columns), direct_values=direct.to_numpy(),
                 direct_index=direct.index.to_numpy())
        return {
            "row": encode(row), "merge_id": str(merge_id),
            "nwb_keys": sorted(k for k in nwb if not k.startswith("lfp")) ,
            "lfp": {"name": lfp.name, "type": type(lfp).__name__, "rate": lfp.rate,
                    "conversion": float(lfp.conversion), "unit": lfp.unit,
                    "description": lfp.description, "object_id": lfp.object_id},
            "df_index_name": via_merge.index.name, "direct_index_name": direct.index.name,
            "part_rows": rows_of(part),
            "part_join_master": rows_of(LFPOutput.merge_get_part(key, join_master=True)),
            "parts_source": [p.full_table_name for p in LFPOutput.merge_get_part(key, multi_source=True)],
            "restrict_rows": [encode(r) for r in LFPOutput.merge_restrict(key).fetch(as_dict=True)],
            "restrict_all": len(LFPOutput.merge_restrict()),
            "merge_fetch": encode(LFPOutput().merge_fetch(restriction=key, as_dict=True)),
            "merge_fetch_ids": encode(LFPOutput().merge_fetch("merge_id", restriction=key)),
            "parent": encode((LFPOutput.merge_get_parent(entry)).fetch("KEY", as_dict=True)),
        }

    def insert_interval(name):
        """An IntervalList row of the session nothing depends on, inserted by Spyglass."""
        sgc.IntervalList.insert1({"nwb_file_name": nwb_of_session(), "interval_list_name": name,
                                  "valid_times": np.array([[0.0, 1.0]]), "pipeline": "lab"})
        return {"rows": len(sgc.IntervalList & {"interval_list_name": name})}

    def nwb_of_session():
        return sgc.Session.fetch("nwb_file_name", limit=1)[0]

    def trodes_params():
        """Spyglass's `default` TrodesPosParams row."""
        from spyglass.position.v1 import TrodesPosParams

        TrodesPosParams().insert_default()
        return rows_of(TrodesPosParams)

    def read_position(key, out_npz):
        """A TrodesPosV1 entry as a lab member reads it: fetch1_dataframe of the entry
        and through PositionOutput; the frames saved to ``out_npz``."""
        merge_id = PositionOutput.merge_get_part(key).fetch1("merge_id")
        via_merge = (PositionOutput & {"merge_id": merge_id}).fetch1_dataframe()
        direct = (TrodesPosV1 & key).fetch1_dataframe()
        columns = {f"merge_{i}": via_merge.iloc[:, i].to_numpy() for i in range(via_merge.shape[1])}
        columns.update({f"direct_{i}": direct.iloc[:, i].to_numpy() for i in range(direct.shape[1])})
        np.savez(out_npz, merge_index=via_merge.index.to_numpy(),
                 direct_index=direct.index.to_numpy(), **columns)
        return {"merge_id": str(merge_id), "columns": list(via_merge.columns),
                "index_name": via_merge.index.name, "direct_columns": list(direct.columns),
                "dtypes": [str(t) for t in via_merge.dtypes]}

    def full_names():
        """``{schema.Class: full table name, attributes, primary key}`` of the tables compared."""
        out = {}
        for t in tables.values():
            schema = t.database
            out[f"{schema}.{t.__qualname__}"] = {"full": t.full_table_name,
                                                 "heading": list(t.heading.names),
                                                 "primary_key": list(t.primary_key)}
        return out

    def sort_groups(nwb):
        """Spyglass's SortGroup.set_group_by_shank: its rows, then removed again (so
        that spyglass_rs can make them in the same tables)."""
        from spyglass.spikesorting.v1 import SortGroup

        key = {"nwb_file_name": nwb}
        SortGroup().set_group_by_shank(nwb_file_name=nwb)
        out = {"SortGroup": rows_of(SortGroup & key),
               "SortGroup.SortGroupElectrode": rows_of(SortGroup.SortGroupElectrode & key)}
        (SortGroup.SortGroupElectrode & key).delete_quick()
        (SortGroup & key).delete_quick()
        return out

    def sort_group_rows(nwb):
        from spyglass.spikesorting.v1 import SortGroup

        key = {"nwb_file_name": nwb}
        return {"SortGroup": rows_of(SortGroup & key),
                "SortGroup.SortGroupElectrode": rows_of(SortGroup.SortGroupElectrode & key)}

    def import_lfp(row):
        """An ImportedLFP row (inserted directly, as its populate would) and its LFPOutput
        entry, through Spyglass's merge insert into the ImportedLFP part."""
        from spyglass.lfp.lfp_imported import ImportedLFP

        ImportedLFP.insert1(row, allow_direct_insert=True)
        key = (ImportedLFP & row).fetch1("KEY")
        LFPOutput.insert([key], part_name="ImportedLFP")
        return {"merge_id": str((LFPOutput.ImportedLFP & key).fetch1("merge_id"))}

    def unimport_lfp(row):
        """Removes what import_lfp made."""
        from spyglass.lfp.lfp_imported import ImportedLFP

        key = (ImportedLFP & row).fetch1("KEY")
        ids = (LFPOutput.ImportedLFP & key).fetch("KEY")
        (LFPOutput.ImportedLFP & ids).delete_quick()
        (LFPOutput & ids).delete_quick()
        (ImportedLFP & key).delete_quick()
        return {"left": len(ImportedLFP & key)}

    def merge_views(restrictions):
        """LFPOutput's merged view per restriction as Spyglass makes it (merge_restrict:
        heading, primary key, rows by merge_id; None when no part holds rows) and
        merge_fetch's results (as dicts, and of merge_id; in the parts' order)."""
        out = []
        for r in restrictions:
            # Spyglass pops `source` from a dict restriction: each call gets a copy
            copy = (lambda: dict(r)) if isinstance(r, dict) else (lambda: r)
            view = LFPOutput.merge_restrict(copy())
            out.append({
                "view": None if view is None else {
                    "heading": list(view.heading.names),
                    "primary_key": list(view.primary_key),
                    "rows": by_merge_id(view.fetch(as_dict=True)),
                },
                "merge_fetch": encode(LFPOutput().merge_fetch(restriction=copy(),
                                                              as_dict=True)),
                "merge_fetch_ids": encode(LFPOutput().merge_fetch("merge_id",
                                                                  restriction=copy())),
            })
        return out

    ops = {"full_names": full_names, "import_lfp": import_lfp, "unimport_lfp": unimport_lfp,
           "merge_views": merge_views, "sort_groups": sort_groups,
           "sort_group_rows": sort_group_rows, "declared": declared, "insert_interval": insert_interval, "trodes_params": trodes_params,
           "read_position": read_position, "ingest": ingest, "rows": rows, "lab": lab,
           "may_delete": may_delete, "read_lfp": read_lfp}
    print("@@LAB@@ " + json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        try:
            result = {"ok": ops[cmd["op"]](*cmd.get("args", []))}
        except Exception as e:  # reported to the test, which fails with it
            result = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        print("@@LAB@@ " + json.dumps(result, default=str), flush=True)
    # no interpreter teardown: pynwb's cached open files complain at shutdown
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
