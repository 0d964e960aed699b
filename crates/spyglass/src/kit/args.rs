//! What pipeline commands parse: a session named by its copy or raw file name, and
//! electrode id lists (`0,1,2`, ranges `0-15,32`).

use crate::common::common_session::SESSION;
use crate::error::{Error, Result};
use spyglass_db::{Cond, Db};

/// The session's `nwb_file_name`: as given when it exists, else the copy name of a
/// raw file name (`rat1.nwb` → `rat1_.nwb`).
pub fn session_name(db: &Db, file: &str) -> Result<String> {
    for name in [file.to_string(), crate::ingest::copy_file_name(file)] {
        let q = db
            .table(SESSION)?
            .restrict(Cond::map([("nwb_file_name", name.as_str())]))?;
        if db.exists(&q)? {
            return Ok(name);
        }
    }
    Err(Error::MissingRow {
        table: SESSION.into(),
        key: format!("nwb_file_name = `{file}`"),
        hint: format!(" (list the sessions with `spyglass show {SESSION}`)"),
    })
}

/// A command's session argument, named by its copy or raw file name.
#[derive(clap::Args)]
pub struct SessionArg {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    pub file: String,
}

impl SessionArg {
    /// The session's `nwb_file_name` ([`session_name`]).
    pub fn name(&self, db: &Db) -> Result<String> {
        session_name(db, &self.file)
    }
}

/// The commands of a pipeline whose only command is `select`, with its options
/// `A` (whose doc comment is the command's help).
#[derive(clap::Subcommand)]
pub enum Select<A: clap::Args> {
    // no doc comment: the command's help is `A`'s
    #[allow(missing_docs)]
    #[command(name = "select")]
    Select(A),
}

/// Prints the command that fills `table` next, restricted to `keys`
/// (`next: spyglass populate lfp_v1.LFPV1 --key nwb_file_name=rat1_.nwb`).
pub fn next_populate<V: std::fmt::Display>(table: &str, keys: &[(&str, V)]) {
    let keys: String = keys
        .iter()
        .map(|(k, v)| format!(" --key {k}={v}"))
        .collect();
    println!("next: spyglass populate {table}{keys}");
}

/// `--key ATTR=VALUE` options as restriction pairs on `table`: each attribute must
/// be one of the table's; values are text (the database converts them).
pub fn key_pairs(
    db: &Db,
    table: &str,
    keys: &[String],
) -> Result<Vec<(String, spyglass_db::Value)>> {
    let q = db.table(table)?;
    keys.iter()
        .map(|k| {
            let Some((attr, v)) = k.split_once('=') else {
                return Err(Error::bad(format!("--key {k}"), "expected ATTR=VALUE"));
            };
            if q.heading().iter().all(|h| h.name != attr.trim()) {
                let message = format!("{table} has no attribute `{}`", attr.trim());
                return Err(Error::bad(format!("--key {k}"), message));
            }
            Ok((
                attr.trim().to_string(),
                spyglass_db::Value::Str(v.to_string()),
            ))
        })
        .collect()
}

/// Parses `0,1,2` and ranges `0-15,32` (negative ids allowed, e.g. `-1`).
pub fn parse_ids(text: &str) -> Result<Vec<i64>> {
    let bad = |what: &str| {
        Error::bad(
            "electrode ids",
            format!("`{what}` is not an electrode id or a range of ids"),
        )
    };
    let mut out = vec![];
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let dash = part.char_indices().skip(1).find(|&(_, c)| c == '-');
        match dash {
            Some((i, _)) => {
                let a: i64 = part[..i].trim().parse().map_err(|_| bad(part))?;
                let b: i64 = part[i + 1..].trim().parse().map_err(|_| bad(part))?;
                if b < a || b - a > 100_000 {
                    return Err(Error::bad(
                        "electrode ids",
                        format!("`{part}`: a range goes up, at most 100000 ids"),
                    ));
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad(part))?),
        }
    }
    if out.is_empty() {
        return Err(Error::bad("electrode ids", format!("none in `{text}`")));
    }
    Ok(out)
}

/// Ids given for `n` electrodes by `flag`: one for all, or one per electrode;
/// `default` for all when the flag is absent.
pub fn per_electrode(flag: &str, text: Option<&str>, n: usize, default: i64) -> Result<Vec<i64>> {
    let Some(text) = text else {
        return Ok(vec![default; n]);
    };
    match parse_ids(text)? {
        one if one.len() == 1 => Ok(vec![one[0]; n]),
        each if each.len() == n => Ok(each),
        other => Err(Error::bad(
            flag,
            format!(
                "{} ids for {n} electrodes (give one, or one per electrode)",
                other.len()
            ),
        )),
    }
}

/// The subcommands of a clap `Subcommand` enum, for [`crate::kit::Pipeline::commands`];
/// with `group` (its name and about text), one command of that name holding them.
pub fn subcommands<S: clap::Subcommand>(
    group: Option<(&'static str, &'static str)>,
) -> Vec<clap::Command> {
    let commands = S::augment_subcommands(clap::Command::new("pipeline"))
        .get_subcommands()
        .cloned()
        .collect::<Vec<_>>();
    match group {
        None => commands,
        Some((name, about)) => vec![clap::Command::new(name)
            .about(about)
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommands(commands)],
    }
}

/// Parses the matched subcommand into `S`, for [`crate::kit::Pipeline::run`].
pub fn parse<S: clap::FromArgMatches>(args: &clap::ArgMatches) -> Result<S> {
    S::from_arg_matches(args).map_err(|e| Error::bad("arguments", e.to_string()))
}

/// Parses the subcommand matched inside a command group (`provides!`'s
/// `commands: Command as "group" => …`) into `S`.
pub fn parse_in<S: clap::FromArgMatches>(args: &clap::ArgMatches) -> Result<S> {
    match args.subcommand() {
        Some((_, group)) => parse(group),
        None => Err(Error::bad("arguments", "a command is needed")),
    }
}

/// `params add` / `params list` of a parameter table, for a pipeline's `params`
/// subcommand: `add` takes the set's name and the pipeline's options `A`.
#[derive(clap::Subcommand)]
pub enum ParamsCommand<A: clap::Args> {
    /// Add a parameter set (options not given take Spyglass's defaults).
    Add(Named<A>),
    /// List the stored parameter sets.
    List,
}

/// A pipeline's commands `C` after its parameter table's `params add` /
/// `params list`: `commands: args::WithParams<ParamsArgs, Command>;`.
#[derive(clap::Subcommand)]
pub enum WithParams<A: clap::Args, C: clap::Subcommand> {
    /// Add or list parameter sets.
    #[command(subcommand)]
    Params(ParamsCommand<A>),
    /// The pipeline's other commands.
    #[command(flatten)]
    Other(C),
}

/// A new parameter set: its name, then the pipeline's options for it.
#[derive(clap::Args)]
pub struct Named<A: clap::Args> {
    /// The parameter set's name.
    pub name: String,
    /// The pipeline's options.
    #[command(flatten)]
    pub args: A,
}

#[cfg(test)]
mod tests {
    use super::{parse_ids, subcommands, Select, WithParams};

    /// Select something for a test.
    #[derive(clap::Args)]
    struct TestSelect {
        /// A name.
        name: String,
    }

    /// Test parameters.
    #[derive(clap::Args)]
    struct TestParams {
        /// A number.
        #[arg(long)]
        number: Option<f64>,
    }

    #[test]
    fn select_is_one_command_with_the_arguments_help() {
        let commands = subcommands::<Select<TestSelect>>(None);
        let names: Vec<&str> = commands.iter().map(|c| c.get_name()).collect();
        assert_eq!(names, ["select"]);
        let about = commands[0].get_about().map(|a| a.to_string());
        assert_eq!(about.as_deref(), Some("Select something for a test"));
    }

    #[test]
    fn params_add_takes_a_name_then_the_options() {
        let commands = subcommands::<WithParams<TestParams, Select<TestSelect>>>(None);
        let names: Vec<&str> = commands.iter().map(|c| c.get_name()).collect();
        assert_eq!(names, ["params", "select"]);
        let add = commands[0].find_subcommand("add").expect("params add");
        let args: Vec<&str> = add.get_arguments().map(|a| a.get_id().as_str()).collect();
        assert_eq!(args, ["name", "number"]);
        assert!(commands[0].find_subcommand("list").is_some());
    }

    #[test]
    fn ids_and_ranges() {
        assert_eq!(parse_ids("0-3, 7,-1").unwrap(), vec![0, 1, 2, 3, 7, -1]);
        assert!(parse_ids("3-1").is_err());
        assert!(parse_ids("a").is_err());
        assert!(parse_ids(" , ").is_err());
    }
}
