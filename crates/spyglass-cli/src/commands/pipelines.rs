//! `spyglass <family> <command> …` (the pipelines' own commands, found in the
//! registry) and `spyglass defaults`.

use anyhow::{anyhow, Result};
use spyglass::{Settings, Spyglass};
use spyglass_db::Db;

/// Runs `spyglass <family> …` when `family` names a pipeline family; `Ok(false)` when not.
pub fn run(db_flag: Option<&str>, family: &str, args: &clap::ArgMatches) -> Result<bool> {
    let Some((_, pipelines)) = spyglass::pipelines::families()
        .into_iter()
        .find(|(f, _)| *f == family)
    else {
        return Ok(false);
    };
    let name = args
        .subcommand_name()
        .ok_or_else(|| anyhow!("`spyglass {family}` needs a command"))?;
    let pipeline = pipelines
        .into_iter()
        .find(|p| p.commands().iter().any(|c| c.get_name() == name))
        .ok_or_else(|| anyhow!("no pipeline of family `{family}` has command `{name}`"))?;
    let sg = Spyglass::from_prepared(crate::open::open(db_flag)?, Settings::from_env());
    pipeline.run(&sg, name, args)?;
    Ok(true)
}

/// `spyglass defaults [TABLE...]`.
pub fn defaults(db: &Db, tables: &[String]) -> Result<()> {
    for (t, n) in spyglass::defaults::insert_defaults(db, tables)? {
        println!("{t}: {n} default rows inserted");
    }
    Ok(())
}
