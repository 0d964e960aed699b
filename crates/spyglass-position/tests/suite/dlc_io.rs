//! DLC result files written by pandas (as DLC writes them) read back equal to
//! pandas' own reading, and layouts the reader does not support refused.

use spyglass_position::dlc_io::{read_dlc_csv, read_dlc_h5, unpickle, DlcTable, Pickled};
use spyglass_position::PositionError;
use spyglass_testkit::scratch_dir;

use crate::common::{assert_close, oracle, p, read_f64};

const WRITE_PY: &str = r#"
import sys
import numpy as np
import pandas as pd
d = sys.argv[1]
rng = np.random.default_rng(3)
scorer = 'DLC_resnet50_spyglass-rsDec2shuffle1_100000'
parts = ['greenLED', 'redLED_C', 'redLED_L', 'nose\u00e9']
cols = pd.MultiIndex.from_product([[scorer], parts, ['x', 'y', 'likelihood']], names=['scorer', 'bodyparts', 'coords'])
n = 257
data = rng.uniform(0, 640, size=(n, len(cols)))
data[:, 2::3] = rng.uniform(0, 1, size=(n, len(parts)))
data[5, 0] = np.nan
df = pd.DataFrame(data, columns=cols, index=np.arange(n) + 10)
# as DLC's analyze_videos writes its results
df.to_hdf(d + '/pose.h5', key='df_with_missing', format='table', mode='w')
df.to_csv(d + '/pose.csv')
# read back the way Spyglass's dlc_reader does
back = pd.read_hdf(d + '/pose.h5')
top = back.columns.levels[0][0]
body = back.get(top)
out = [back.index.to_numpy().astype(np.float64)]
for bp in body.columns.get_level_values(0).unique():
    for c in ['x', 'y', 'likelihood']:
        out.append(body[bp][c].to_numpy())
np.concatenate(out).astype('<f8').tofile(d + '/pandas.f64')
print('|'.join(body.columns.get_level_values(0).unique()))
# a multi-animal file and a fixed-format file, which the reader must refuse
ma = pd.MultiIndex.from_product([[scorer], ['a1'], parts[:1], ['x', 'y', 'likelihood']], names=['scorer', 'individuals', 'bodyparts', 'coords'])
pd.DataFrame(data[:, :3], columns=ma).to_hdf(d + '/multi.h5', key='df_with_missing', format='table', mode='w')
df.to_hdf(d + '/fixed.h5', key='df_with_missing', format='fixed', mode='w')
"#;

fn flatten(t: &DlcTable) -> Vec<f64> {
    let mut v: Vec<f64> = t.frame_index.iter().map(|&i| i as f64).collect();
    for b in &t.body_parts {
        v.extend(&b.x);
        v.extend(&b.y);
        v.extend(&b.likelihood);
    }
    v
}

#[test]
fn pandas_written_dlc_files_read_as_pandas_reads_them() {
    let dir = scratch_dir();
    let d = dir.path();
    let names = oracle(WRITE_PY, &[p(d)]);
    let want = read_f64(&d.join("pandas.f64"));
    let h5 = read_dlc_h5(&d.join("pose.h5"), "df_with_missing").expect("read h5");
    assert_eq!(h5.scorer, "DLC_resnet50_spyglass-rsDec2shuffle1_100000");
    let ours: Vec<&str> = h5.body_parts.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(ours.join("|"), names.trim());
    assert_close("h5 vs pandas", &flatten(&h5), &want, 0.0);
    let csv = read_dlc_csv(&d.join("pose.csv")).expect("read csv");
    assert_eq!(csv.scorer, h5.scorer);
    // the csv holds Python's repr of each float, which round-trips exactly
    assert_close("csv vs pandas", &flatten(&csv), &want, 0.0);
    assert!(h5.body_part("redLED_C").is_ok());
    assert!(matches!(
        h5.body_part("tail"),
        Err(PositionError::MissingBodyPart(_))
    ));
    for bad in ["multi.h5", "fixed.h5"] {
        let e = read_dlc_h5(&d.join(bad), "df_with_missing").unwrap_err();
        eprintln!("{bad}: {e}");
        assert!(matches!(e, PositionError::DlcFile { .. }), "{bad}: {e}");
        assert!(e.to_string().contains(bad));
    }
    assert!(read_dlc_h5(&d.join("pose.h5"), "nothing").is_err());
}

#[test]
fn unpickle_reads_protocol_zero_and_refuses_the_rest() {
    let text = b"(lp0\n(VDLC\np1\nVnose\\u00e9\np2\nVx\np3\ntp4\na(g1\ng2\nVy\ntp5\na.";
    let v = unpickle(text).unwrap();
    let Pickled::List(items) = v else {
        panic!("list")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1],
        Pickled::Tuple(vec![
            Pickled::Str("DLC".into()),
            Pickled::Str("nose\u{e9}".into()),
            Pickled::Str("y".into())
        ])
    );
    assert!(unpickle(b"\x80\x04]q\x00.").is_err());
}

#[test]
fn malformed_csv_is_an_error() {
    let dir = scratch_dir();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "scorer,s,s,s\nbodyparts,a,a,a\ncoords,x,y,likelihood\n0,1,2,0.5\n1,1,oops,0.5\n",
    )
    .unwrap();
    let e = read_dlc_csv(&path).unwrap_err();
    assert!(e.to_string().contains("oops"), "{e}");
    std::fs::write(
        &path,
        "scorer,s,s,s\nindividuals,i,i,i\nbodyparts,a,a,a\ncoords,x,y,likelihood\n",
    )
    .unwrap();
    assert!(read_dlc_csv(&path)
        .unwrap_err()
        .to_string()
        .contains("multi-animal"));
}
