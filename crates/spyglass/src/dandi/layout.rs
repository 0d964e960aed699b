//! DANDI's layout checks on organised paths: `ORGANIZED_FILENAME_REGEX` on file names
//! and the `sub-<label>/` folder holding them.

/// True for a character DANDI allows in a label (`[^_*\\/<>:|"'?%@;.]`).
fn label_char(c: char) -> bool {
    !matches!(
        c,
        '_' | '*' | '\\' | '/' | '<' | '>' | ':' | '|' | '"' | '\'' | '?' | '%' | '@' | ';' | '.'
    )
}

fn is_label(s: &str) -> bool {
    !s.is_empty() && s.chars().all(label_char)
}

/// True when `name` matches DANDI's `ORGANIZED_FILENAME_REGEX`
/// (`sub-L(_ses-L)?(_(tis|slice|cell|desc|probe|obj)-L)*(_[a-z]+(\+[a-z]+)*)?\.nwb`).
pub fn is_dandi_filename(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".nwb") else {
        return false;
    };
    let mut tokens = stem.split('_').peekable();
    match tokens.next().and_then(|t| t.strip_prefix("sub-")) {
        Some(l) if is_label(l) => {}
        _ => return false,
    }
    if let Some(l) = tokens.peek().and_then(|t| t.strip_prefix("ses-")) {
        if !is_label(l) {
            return false;
        }
        tokens.next();
    }
    let rest: Vec<&str> = tokens.collect();
    for (i, t) in rest.iter().enumerate() {
        let entity = ["tis-", "slice-", "cell-", "desc-", "probe-", "obj-"]
            .iter()
            .find_map(|k| t.strip_prefix(k));
        match entity {
            Some(l) if is_label(l) => continue,
            _ => {}
        }
        let modality = i + 1 == rest.len()
            && t.split('+')
                .all(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_lowercase()));
        if !modality {
            return false;
        }
    }
    true
}

/// True when a `/`-separated path inside a dandiset passes DANDI's layout checks: a
/// `sub-<label>` folder at the root holding a DANDI file name of the same subject.
pub fn is_dandi_path(path: &str) -> bool {
    let Some((folder, name)) = path.split_once('/') else {
        return false;
    };
    if name.contains('/') || !is_dandi_filename(name) {
        return false;
    }
    // the subject of the name as DANDI's folder regex matches it: `sub-` and label characters
    let label_len: usize = name[4..]
        .chars()
        .take_while(|&c| label_char(c))
        .map(char::len_utf8)
        .sum();
    folder.strip_prefix("sub-").is_some_and(is_label) && folder == &name[..4 + label_len]
}
