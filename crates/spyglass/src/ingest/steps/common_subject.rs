//! Ingest step of `common_subject`: the session's subject (G1), a shared row whose
//! age, weight and description may change between sessions (see [`divergence`](crate::ingest::divergence)).

use super::{opt, rec, text, yaml_rec, Ctx, Mode, Rec};
use crate::common::common_subject::{self as subj, standardized_sex};
use crate::error::Result;
use spyglass_db::Value;

pub(super) fn subject(cx: &mut Ctx) -> Result<()> {
    let mut r: Option<Rec> = cx.src.subject.as_ref().and_then(|s| {
        let id = s.subject_id.clone().filter(|i| !i.trim().is_empty())?;
        Some(rec([
            ("subject_id", Value::from(id)),
            ("age", opt(&s.age)),
            ("description", opt(&s.description)),
            ("genotype", opt(&s.genotype)),
            ("sex", Value::from(standardized_sex(s.sex.as_deref()))),
            ("species", opt(&s.species)),
        ]))
    });
    if let Some(c) = cx.cfg.rows("Subject").first() {
        let c = yaml_rec(c);
        let base = r.get_or_insert_with(Rec::new);
        for (k, v) in c {
            let v = if k == "sex" {
                Value::from(standardized_sex(text(&v).as_deref()))
            } else {
                v
            };
            base.insert(k, v);
        }
    }
    match r {
        Some(r) if r.get("subject_id").is_some_and(|v| !v.is_null()) => {
            cx.subject_id = r.get("subject_id").and_then(text);
            cx.put(subj::SUBJECT, vec![r], Mode::Shared)?;
        }
        _ => cx.warn(
            subj::SUBJECT,
            "the file has no subject with a subject_id; Session.subject_id is NULL",
        ),
    }
    Ok(())
}
