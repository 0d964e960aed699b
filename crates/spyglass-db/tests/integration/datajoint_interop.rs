//! Interop with datajoint-python 0.14 on one MariaDB server (the oracle runs in the
//! test venv): (a) tables, rows and blobs written by spyglass-rs read back by
//! `dj.VirtualModule` with equal values and equivalent `describe()` definitions;
//! (b) tables written by datajoint-python read by spyglass-rs with equal values;
//! (c) a job reserved by one side is taken for the other; (d) a cascade delete by
//! spyglass-rs removes what datajoint-python removes, except in the renamed-key
//! over-delete case, where only the rows that depend on the deleted one go.

use serde_json::{json, Value as J};
use spyglass_blob::{Array, Value as Blob};
use spyglass_db::declare::parse::{parse, Item};
use spyglass_db::{Cond, Db, InsertOptions, Row, TableSpec, Tier, Value};

/// Python preamble: connect datajoint to the test server given as argv[1..5].
const CONNECT: &str = r#"
import sys, json, datetime, decimal, uuid
import numpy as np
import datajoint as dj
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
dj.config['database.host'] = host
dj.config['database.port'] = port
dj.config['database.user'] = user
dj.config['database.password'] = pw
dj.config['database.use_tls'] = False
dj.config['safemode'] = False
dj.config['loglevel'] = 'WARNING'
args = sys.argv[5:]

def plain(v):
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return [plain(x) for x in v.tolist()]
        return plain(v.tolist())
    if isinstance(v, np.generic):
        return plain(v.item())
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.timedelta):
        t = int(v.total_seconds())
        return '%02d:%02d:%02d' % (t // 3600, t // 60 % 60, t % 60)
    if isinstance(v, datetime.datetime):
        return v.strftime('%Y-%m-%d %H:%M:%S')
    if isinstance(v, datetime.date):
        return v.strftime('%Y-%m-%d')
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, float) and v != v:
        return None
    return v
"#;

struct Server {
    url: String,
    args: Vec<String>,
}

fn server() -> Server {
    let url = spyglass_testkit::mysql_url();
    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    Server {
        args: vec![
            c.host,
            c.port.to_string(),
            c.user.unwrap_or_else(|| "root".into()),
            c.password.unwrap_or_default(),
        ],
        url,
    }
}

impl Server {
    fn python(&self, code: &str, extra: &[&str]) -> String {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        spyglass_testkit::run_python(&format!("{CONNECT}\n{code}"), &args)
    }

    fn db(&self) -> Db {
        Db::open(&self.url).unwrap()
    }
}

fn row(pairs: Vec<(&str, Value)>) -> Row {
    Row::from_pairs(pairs)
}

/// One attribute line: (name, type, nullable, default, comment).
type AttrShape = (String, String, bool, Option<String>, String);

/// The attribute lines of a definition, and foreign keys as (renames) — for
/// comparing definitions across implementations.
fn shape(def: &str) -> (Vec<AttrShape>, Vec<Vec<(String, String)>>) {
    let d = parse("t", def).unwrap_or_else(|e| panic!("{e}\n{def}"));
    let mut attrs = Vec::new();
    let mut fks = Vec::new();
    for item in d.items {
        match item {
            Item::Attr(a) => attrs.push((
                a.name,
                a.ty.mysql_type(),
                a.nullable,
                a.default
                    .map(|x| x.trim_matches(|c| c == '"' || c == '\'').to_string()),
                a.comment,
            )),
            Item::ForeignKey(f) => {
                let mut r = f.renames;
                r.sort();
                fks.push(r)
            }
            Item::Index { .. } => {}
        }
    }
    fks.sort();
    (attrs, fks)
}

#[test]
fn a_rust_writes_datajoint_reads() {
    let srv = server();
    let db = srv.db();
    let schema = format!("{}interop_a", spyglass_testkit::unique_prefix());
    let d = |spec: TableSpec| db.declare(&schema, &spec).unwrap();
    d(TableSpec::new(
        "Subject",
        Tier::Manual,
        "# animals\nsubject_id : int unsigned # id\n---\nname : varchar(40)\nsex = \"U\" : enum('M','F','U')\ndob : date\nweight = null : double\nuid : uuid # stable id\nscore : decimal(5,2)",
    ));
    d(TableSpec::new(
        "Method",
        Tier::Lookup,
        "method : varchar(16)\n---\nlabel : varchar(32)",
    )
    .contents(vec![
        row(vec![("method", "fast".into()), ("label", "Fast".into())]),
        row(vec![("method", "slow".into()), ("label", "Slow".into())]),
    ]));
    d(TableSpec::new(
        "Session",
        Tier::Manual,
        "-> Subject\nsession_idx : smallint\n---\nstart : datetime\n-> [nullable] Method\nsignal : longblob\nmeta = null : blob",
    )
    .part("Epoch", "-> master\nepoch : int\n---\nlength : float"));
    d(TableSpec::new(
        "Pair",
        Tier::Manual,
        "-> Session\n-> Session.proj(other_subject='subject_id', other_idx='session_idx')",
    ));
    let u = uuid::Uuid::parse_str("12345678-1234-5678-1234-567812345678").unwrap();
    db.insert(
        &format!("{schema}.Subject"),
        &[row(vec![
            ("subject_id", 1.into()),
            ("name", "rat one".into()),
            ("dob", "2020-01-02".into()),
            ("weight", 301.5.into()),
            ("uid", Value::Uuid(u)),
            ("score", Value::Decimal("12.50".into())),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    let signal = Blob::Array(
        Array::from_row_major(vec![2, 3], vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(),
    );
    let meta = Blob::Dict(vec![
        (Blob::Str("rate".into()), Blob::Float(30000.0)),
        (
            Blob::Str("channels".into()),
            Blob::Array(Array::vector(vec![1i64, 2, 3])),
        ),
        (Blob::Str("name".into()), Blob::Str("tetrode".into())),
        (
            Blob::Str("nested".into()),
            Blob::List(vec![Blob::Int(1), Blob::Str("a".into()), Blob::None]),
        ),
    ]);
    let sess = |i: i64, m: Value| {
        row(vec![
            ("subject_id", 1.into()),
            ("session_idx", i.into()),
            ("start", "2024-03-04 05:06:07".into()),
            ("method", m),
            ("signal", Value::from(signal.clone())),
            ("meta", Value::from(meta.clone())),
        ])
    };
    db.insert(
        &format!("{schema}.Session"),
        &[sess(1, "fast".into()), sess(2, Value::Null)],
        InsertOptions::default(),
    )
    .unwrap();
    db.insert(
        &format!("{schema}.Session.Epoch"),
        &[row(vec![
            ("subject_id", 1.into()),
            ("session_idx", 1.into()),
            ("epoch", 1.into()),
            ("length", 2.5.into()),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    db.insert(
        &format!("{schema}.Pair"),
        &[row(vec![
            ("subject_id", 1.into()),
            ("session_idx", 1.into()),
            ("other_subject", 1.into()),
            ("other_idx", 2.into()),
        ])],
        InsertOptions::default(),
    )
    .unwrap();

    let out = srv.python(
        r#"
vm = dj.VirtualModule('vm', args[0])
res = {}
for name, t in [('Subject', vm.Subject), ('Method', vm.Method), ('Session', vm.Session), ('Epoch', vm.Session.Epoch), ('Pair', vm.Pair)]:
    res[name] = {'rows': [plain(r) for r in t.fetch(as_dict=True, order_by='KEY')], 'describe': t.describe(printout=False)}
print(json.dumps(res))
"#,
        &[&schema],
    );
    let got: J = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        got["Subject"]["rows"],
        json!([{"subject_id": 1, "name": "rat one", "sex": "U", "dob": "2020-01-02", "weight": 301.5,
                "uid": "12345678-1234-5678-1234-567812345678", "score": "12.50"}])
    );
    assert_eq!(
        got["Method"]["rows"],
        json!([{"method": "fast", "label": "Fast"}, {"method": "slow", "label": "Slow"}])
    );
    let s = &got["Session"]["rows"];
    assert_eq!(s.as_array().unwrap().len(), 2);
    assert_eq!(s[0]["start"], "2024-03-04 05:06:07");
    assert_eq!(s[0]["method"], "fast");
    assert_eq!(s[1]["method"], J::Null);
    assert_eq!(s[0]["signal"], json!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    assert_eq!(
        s[0]["meta"],
        json!({"rate": 30000.0, "channels": [1, 2, 3], "name": "tetrode", "nested": [1, "a", null]})
    );
    assert_eq!(
        got["Epoch"]["rows"],
        json!([{"subject_id": 1, "session_idx": 1, "epoch": 1, "length": 2.5}])
    );
    assert_eq!(
        got["Pair"]["rows"],
        json!([{"subject_id": 1, "session_idx": 1, "other_subject": 1, "other_idx": 2}])
    );
    // describe() gives back equivalent definitions
    for (name, class) in [
        ("Subject", "Subject"),
        ("Session", "Session"),
        ("Pair", "Pair"),
        ("Epoch", "Session.Epoch"),
    ] {
        let theirs = got[name]["describe"].as_str().unwrap();
        let ours = db.describe(&format!("{schema}.{class}")).unwrap();
        assert_eq!(
            shape(theirs),
            shape(&ours),
            "{name}:\n--- datajoint\n{theirs}\n--- ours\n{ours}"
        );
    }
}

#[test]
fn b_datajoint_writes_rust_reads() {
    let srv = server();
    let store = spyglass_testkit::scratch_dir();
    let schema = format!("{}interop_b", spyglass_testkit::unique_prefix());
    let out = srv.python(
        r#"
schema = dj.Schema(args[0])
@schema
class Animal(dj.Manual):
    definition = """
    # animals
    animal_id : int unsigned
    ---
    tiny : tinyint
    small : smallint unsigned
    big : bigint
    price : decimal(6,3)
    ratio : float
    precise : double
    code : char(3)
    label : varchar(30)
    kind = 'rat' : enum('rat', 'mouse')
    born : date
    seen : datetime
    flag : bool
    uid : uuid
    note = null : varchar(10)
    at : time
    stamp : timestamp
    """
@schema
class Rec(dj.Manual):
    definition = """
    -> Animal
    rec : int
    ---
    arr : longblob
    mat : longblob
    dct : longblob
    txt : longblob
    nested : longblob
    scalar : blob
    """
    class Chan(dj.Part):
        definition = """
        -> master
        chan : smallint
        ---
        gain : double
        """
@schema
class Link(dj.Manual):
    definition = """
    -> Rec
    -> Rec.proj(other_animal='animal_id', other_rec='rec')
    ---
    weight : double
    """
u = uuid.UUID('0f0e0d0c-0b0a-0908-0706-050403020100')
Animal.insert1(dict(animal_id=7, tiny=-5, small=600, big=-9000000000, price=decimal.Decimal('12.345'), ratio=0.5,
    precise=3.141592653589793, code='abc', label='seven', born=datetime.date(2019, 12, 31),
    seen=datetime.datetime(2020, 1, 2, 3, 4, 5), flag=True, uid=u, at=datetime.timedelta(hours=3, minutes=4, seconds=5),
    stamp=datetime.datetime(2021, 6, 7, 8, 9, 10)))
dj.config['stores'] = {'ext': {'protocol': 'file', 'location': args[1]}}
@schema
class Files(dj.Manual):
    definition = """
    file_id : int
    ---
    doc : attach
    big : blob@ext
    """
import os
path = os.path.join(args[1], 'notes.txt')
open(path, 'wb').write(b'attached bytes')
Files.insert1(dict(file_id=1, doc=path, big=np.arange(3000, dtype=np.float64).reshape(1000, 3)))
Rec.insert([
    dict(animal_id=7, rec=1, arr=np.arange(5, dtype=np.int16), mat=np.array([[1., 2.], [3., 4.], [5., 6.]]),
         dct={'a': np.array([1.5, 2.5]), 'b': 'text', 'c': 3}, txt='hello', nested=[1, [2, 3], {'k': 'v'}], scalar=np.float32(0.25)),
    dict(animal_id=7, rec=2, arr=np.array([], dtype=np.float64), mat=np.zeros((2, 0)), dct={}, txt='', nested=[], scalar=7)])
Rec.Chan.insert([dict(animal_id=7, rec=1, chan=c, gain=0.1 * c) for c in range(3)])
Link.insert1(dict(animal_id=7, rec=1, other_animal=7, other_rec=2, weight=0.75))
res = {}
for name, t in [('Animal', Animal), ('Rec', Rec), ('Chan', Rec.Chan), ('Link', Link)]:
    res[name] = [plain(r) for r in t.fetch(as_dict=True, order_by='KEY')]
print(json.dumps(res))
"#,
        &[&schema, store.path().to_str().unwrap()],
    );
    let want: J = serde_json::from_str(out.trim()).unwrap();
    let db = srv.db();
    db.set_store("ext", spyglass_db::stores::StoreConfig::local(store.path()));
    // attachments and external blobs written by datajoint-python
    let f = db
        .fetch1(&db.table(&format!("{schema}.Files")).unwrap())
        .unwrap();
    assert_eq!(
        f.get("doc"),
        Some(&Value::Attach {
            name: "notes.txt".into(),
            data: b"attached bytes".to_vec()
        })
    );
    let big = f.get("big").unwrap().as_blob().unwrap();
    assert_eq!(big.array_shape(), Some(&[1000usize, 3][..]));
    assert_eq!(
        big.as_array().unwrap().to_f64_row_major().unwrap(),
        (0..3000).map(|i| i as f64).collect::<Vec<f64>>()
    );
    for (name, class) in [
        ("Animal", "Animal"),
        ("Rec", "Rec"),
        ("Chan", "Rec.Chan"),
        ("Link", "Link"),
    ] {
        let q = db.table(&format!("{schema}.{class}")).unwrap();
        let rows = db
            .fetch_with(&q, &spyglass_db::FetchSpec::default().order_by(&["KEY"]))
            .unwrap();
        let mut got: Vec<J> = rows.iter().map(Row::to_json).collect();
        for (g, w) in got.iter_mut().zip(want[name].as_array().unwrap()) {
            // datajoint reads bool as an integer; decimals as text; both sides agree on the rest
            for (k, v) in w.as_object().unwrap() {
                let ours = &g[k];
                let same = ours == v
                    || (ours.is_f64()
                        && v.is_f64()
                        && (ours.as_f64().unwrap() - v.as_f64().unwrap()).abs() < 1e-6)
                    || (ours.is_boolean() && v.as_i64() == Some(ours.as_bool().unwrap() as i64));
                assert!(same, "{name}.{k}: ours {ours} vs datajoint {v}");
            }
        }
        assert_eq!(
            got.len(),
            want[name].as_array().unwrap().len(),
            "{name} row count"
        );
    }
    // the catalog rebuilt from information_schema has DataJoint's tiers, parts and renamed keys
    let link = db.table_info(&format!("{schema}.Link")).unwrap();
    let renamed = link.foreign_keys.iter().find(|f| f.is_aliased()).unwrap();
    assert_eq!(
        renamed.attr_map,
        vec![
            ("other_animal".to_string(), "animal_id".to_string()),
            ("other_rec".to_string(), "rec".to_string())
        ]
    );
    assert_eq!(
        db.table_info(&format!("{schema}.Rec.Chan")).unwrap().tier,
        Tier::Part
    );
    let animal = db.table_info(&format!("{schema}.Animal")).unwrap();
    assert_eq!(
        animal.heading.get("uid").unwrap().ty,
        spyglass_db::AttrType::Uuid
    );
    assert_eq!(animal.comment, "animals");
    // joins across DataJoint-made tables
    let j = db
        .table(&format!("{schema}.Rec"))
        .unwrap()
        .join(&db.table(&format!("{schema}.Rec.Chan")).unwrap())
        .unwrap();
    assert_eq!(db.count(&j).unwrap(), 3);
}

#[test]
fn c_job_reservations_are_shared() {
    let srv = server();
    let db = srv.db();
    let schema = format!("{}interop_c", spyglass_testkit::unique_prefix());
    db.declare(
        &schema,
        &TableSpec::new("Src", Tier::Manual, "subject_id : int\nsession_idx : int"),
    )
    .unwrap();
    db.declare(
        &schema,
        &TableSpec::new("Out", Tier::Computed, "-> Src\n---\nv : int"),
    )
    .unwrap();
    let out_name = db
        .table_info(&format!("{schema}.Out"))
        .unwrap()
        .name
        .clone();
    let k1 = row(vec![("subject_id", 1.into()), ("session_idx", 2.into())]);
    let k2 = row(vec![("subject_id", 3.into()), ("session_idx", 4.into())]);
    // Rust reserves k1; Python reserves k2
    assert!(db.reserve_job(&out_name, &k1).unwrap());
    let out = srv.python(
        r#"
schema = dj.Schema(args[0])
jobs = schema.jobs
taken = jobs.reserve(args[1], dict(subject_id=1, session_idx=2))
mine = jobs.reserve(args[1], dict(subject_id=3, session_idx=4))
rows = [plain(r) for r in jobs.fetch('key_hash', 'status', 'key', as_dict=True, order_by='key_hash')]
print(json.dumps({'taken': taken, 'mine': mine, 'rows': rows, 'hash': dj.hash.key_hash(dict(subject_id=1, session_idx=2))}))
"#,
        &[&schema, &out_name.table],
    );
    let got: J = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(got["taken"], false, "datajoint sees the Rust reservation");
    assert_eq!(got["mine"], true);
    assert_eq!(got["hash"], spyglass_db::key_hash(&k1));
    // the key blob Rust wrote unpacks to the key dict in Python
    let ours = got["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key_hash"] == spyglass_db::key_hash(&k1))
        .unwrap();
    assert_eq!(ours["key"], json!({"subject_id": 1, "session_idx": 2}));
    assert!(
        !db.reserve_job(&out_name, &k2).unwrap(),
        "Rust sees the Python reservation"
    );
}

#[test]
fn d_cascade_delete_matches_datajoint() {
    let srv = server();
    let p = spyglass_testkit::unique_prefix();
    let (dj_schema, rs_schema) = (format!("{p}del_dj"), format!("{p}del_rs"));
    let build = r#"
for name in args:
    schema = dj.Schema(name)
    @schema
    class Subject(dj.Manual):
        definition = """
        sid : int
        """
    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        idx : int
        """
    @schema
    class Probe(dj.Manual):
        definition = """
        -> Session
        probe : int
        """
        class Chan(dj.Part):
            definition = """
            -> master
            ch : int
            """
    @schema
    class Shifted(dj.Manual):
        definition = """
        -> Session.proj(first='idx')
        """
    @schema
    class Pair(dj.Manual):
        definition = """
        -> Session
        -> Session.proj(s2='sid', i2='idx')
        """
    Subject.insert([(1,), (2,)])
    Session.insert([(1, 1), (1, 2), (1, 3), (2, 1)])
    Probe.insert([(1, 1, 1), (1, 2, 1), (2, 1, 1)])
    Probe.Chan.insert([(1, 1, 1, 0), (1, 1, 1, 1), (1, 2, 1, 0), (2, 1, 1, 0)])
    Shifted.insert([(1, 1), (1, 2), (1, 3), (2, 1)])
    Pair.insert([(1, 1, 1, 2), (1, 2, 1, 3), (2, 1, 1, 1)])
"#;
    srv.python(build, &[&dj_schema, &rs_schema]);
    // datajoint deletes Session (1,1) in its copy, spyglass-rs in the other
    srv.python(
        "vm = dj.VirtualModule('vm', args[0])\n(vm.Session & dict(sid=1, idx=1)).delete()\n",
        &[&dj_schema],
    );
    let db = srv.db();
    db.delete(
        &format!("{rs_schema}.Session"),
        Cond::map([("sid", 1), ("idx", 1)]),
        Default::default(),
    )
    .unwrap();
    let counts = srv.python(
        r#"
res = {}
for name in args:
    vm = dj.VirtualModule('vm', name)
    res[name] = {t: len(getattr(vm, t)()) for t in ['Subject', 'Session', 'Probe', 'Shifted', 'Pair']}
    res[name]['Chan'] = len(vm.Probe.Chan())
print(json.dumps(res))
"#,
        &[&dj_schema, &rs_schema],
    );
    let c: J = serde_json::from_str(counts.trim()).unwrap();
    let (theirs, ours) = (&c[&dj_schema], &c[&rs_schema]);
    for t in ["Subject", "Session", "Probe", "Chan", "Pair"] {
        assert_eq!(
            theirs[t], ours[t],
            "{t}: datajoint {} vs ours {}",
            theirs[t], ours[t]
        );
    }
    // hand-derived: Session (1,1) goes with its probe and its 2 channels, and the pair
    // that names it as either side
    assert_eq!(
        (
            ours["Session"].as_i64(),
            ours["Probe"].as_i64(),
            ours["Chan"].as_i64(),
            ours["Pair"].as_i64()
        ),
        (Some(3), Some(2), Some(2), Some(1))
    );
    // the over-delete case: Shifted renames the second key column; datajoint 0.14
    // removes every row with sid=1, spyglass-rs only the one row that depended on (1,1)
    assert_eq!(ours["Shifted"], 3);
    assert_eq!(
        theirs["Shifted"], 1,
        "datajoint 0.14 over-deletes: only the sid=2 row is left"
    );
}
