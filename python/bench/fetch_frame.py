"""Benchmark: fetch of 1M rows into a pandas DataFrame, spyglass_rs next to
datajoint-python, on the same MariaDB table, each side in its own process (wall
time, best of 3, and the process's peak RSS).

    SPYGLASS_TEST_MYSQL_URL=mysql://root@127.0.0.1:PORT .venv-python/bin/python python/bench/fetch_frame.py [ROWS]

The table (`bench_fetch.row`: an int key, a float, a non-null int, a varchar and a
datetime) is made once by datajoint-python and filled by the server (seq_1_to_N)."""

import os
import subprocess
import sys
import time
import urllib.parse

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
URL = os.environ.get("SPYGLASS_TEST_MYSQL_URL", "")
SCHEMA = "bench_fetch"


def dj_connection():
    import datajoint as dj

    u = urllib.parse.urlparse(URL)
    dj.config["safemode"] = False
    return dj.Connection(
        host=f"{u.hostname}:{u.port or 3306}",
        user=urllib.parse.unquote(u.username or "root"),
        password=urllib.parse.unquote(u.password or ""),
        use_tls=False,
    )


def make_table():
    import datajoint as dj

    conn = dj_connection()
    schema = dj.Schema(SCHEMA, connection=conn)

    @schema
    class Row(dj.Manual):
        definition = """
        row_id : int
        ---
        value : double
        count : int
        label : varchar(32)
        stamp : datetime
        """

    if len(Row()) != ROWS:
        Row.delete_quick()
        conn.query(
            f"INSERT INTO `{SCHEMA}`.`row` SELECT seq, seq * 0.001, MOD(seq, 97), "
            f"CONCAT('row-', MOD(seq, 1000)), '2024-01-01 00:00:00' + INTERVAL seq SECOND "
            f"FROM `{SCHEMA}`.seq_1_to_{ROWS}"
        )
    assert len(Row()) == ROWS


def run_side(side):
    import resource

    best = None
    for _ in range(3):
        if side == "spyglass_rs":
            import spyglass_rs

            db = spyglass_rs.connect(URL, set_default=False)
            t0 = time.perf_counter()
            frame = db.table(f"{SCHEMA}.Row").fetch(format="frame")
        else:
            import datajoint as dj

            conn = dj_connection()
            t0 = time.perf_counter()
            frame = dj.FreeTable(conn, f"`{SCHEMA}`.`row`").fetch(format="frame")
        dt = time.perf_counter() - t0
        assert len(frame) == ROWS
        best = dt if best is None else min(best, dt)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{best:.3f} {peak_mb:.0f} {frame['value'].sum():.6f}")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        run_side(sys.argv[2])
        return
    if not URL:
        sys.exit("set SPYGLASS_TEST_MYSQL_URL (a MariaDB server; scripts/test.sh starts one)")
    make_table()
    out = {}
    for side in ("spyglass_rs", "datajoint-python"):
        res = subprocess.run(
            [sys.executable, __file__, "--side", side], check=True, capture_output=True, text=True
        )
        t, mb, checksum = res.stdout.split()
        out[side] = (float(t), float(mb), checksum)
    assert out["spyglass_rs"][2] == out["datajoint-python"][2], out
    (ours_t, ours_mb, _), (dj_t, dj_mb, _) = out["spyglass_rs"], out["datajoint-python"]
    print(f"fetch of {ROWS} rows into a DataFrame (MariaDB, best of 3):")
    print(f"  spyglass_rs       {ours_t:7.2f} s   peak RSS {ours_mb:6.0f} MB")
    print(f"  datajoint-python  {dj_t:7.2f} s   peak RSS {dj_mb:6.0f} MB")
    print(f"  ratio             {dj_t / ours_t:7.1f}x faster")


if __name__ == "__main__":
    main()
