//! The pipeline kit: what every pipeline of the framework is built from, so that a
//! pipeline is one file of the same shape plus one line in [`crate::pipelines::all`].
//!
//! - [`Pipeline`]: a pipeline's tables, default rows, makers, merge-table parts and
//!   commands, declared in its own file.
//! - [`Spyglass`]: the one handle — the database, the directory layout, the stores
//!   configured once, the pipelines declared once each, the active export.
//! - [`Make`]: a typed three-phase make (typed key, inputs and output); the engine's
//!   fingerprint of the inputs is derived from their serialization.
//! - [`Cx`]: what a make works with (database and directory layout); [`Tables`]:
//!   typed fetch and insert, merge insert, IntervalList rows, analysis files, on
//!   any database handle; [`analysis_file`]: an analysis file from a parent
//!   ([`analysis_file_beside`]: its parent copied while the make computes).
//! - [`DictParams`]: a parameter table of named dicts (defaults, checked inserts,
//!   `params list` / `params add`).
//!
//! - `family!`: declares a family's pipeline modules and lists them — a new
//!   pipeline is one line there; `identity!`: a pipeline's name, command family and
//!   required pipelines in one line; `provides!`: its makers, default rows, merge
//!   parts and commands, one line each; [`prelude`]: one import for a pipeline file.
//!
//! The guide to writing a pipeline with it is `docs/pipelines.md`.

pub mod args;
mod cx;
mod handle;
mod make;
mod params;
mod pipeline;
pub mod prelude;

pub use cx::{
    analysis_file, analysis_file_beside, insert_param_dict, key_text, row_of, Cx, Session, Tables,
    With, Written,
};
pub use handle::Spyglass;
pub use make::{Made, Make};
pub use params::DictParams;
pub use pipeline::{DefaultRows, Defaults, MergePart, Pipeline, Schema};

/// Declares the pipeline modules of a family and lists their pipelines, in
/// declaration order (a pipeline after those it refers to):
/// `family! { v1 => LfpV1, band_v1 => LfpBandV1 }` is `pub mod v1; pub mod
/// band_v1;` and `pub fn pipelines()` returning both. [`crate::pipelines::all`]
/// reads each family's list, so a new pipeline is its file plus one line here.
macro_rules! family {
    ($($module:ident => $pipeline:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// This family's pipelines, in declaration order.
        pub fn pipelines() -> Vec<&'static dyn $crate::kit::Pipeline> {
            vec![$(&$module::$pipeline),*]
        }
    };
}
pub(crate) use family;

/// A [`Pipeline`]'s identity, inside its `impl Pipeline` block: its name, then
/// optionally its command family and the pipelines it requires —
/// `identity!(SCHEMA, family "lfp", requires ["lfp_electrode", "common_filter"]);`
/// writes [`Pipeline::name`], [`Pipeline::family`] and [`Pipeline::requires`].
macro_rules! identity {
    ($name:expr $(, family $family:literal)? $(, requires [$($required:expr),* $(,)?])? $(,)?) => {
        fn name(&self) -> &'static str {
            $name
        }
        $(
            fn family(&self) -> Option<&'static str> {
                Some($family)
            }
        )?
        $(
            fn requires(&self) -> &'static [&'static str] {
                &[$($required),*]
            }
        )?
    };
}
pub(crate) use identity;

/// A pipeline's makers, default rows, merge-table parts and commands, inside its
/// `impl Pipeline`, one line each (every section optional, in this order):
/// `makers: TABLE => MakeStruct, …;` (a [`Made`] maker each), `defaults: &PARAMETERS, …;`
/// (anything `Into<Defaults>`), `merge: MASTER => SOURCE, …;` and `commands: Command;`
/// (the pipeline's clap subcommand enum) or `commands: Command as "group" => "about";`
/// (its commands under one `spyglass <family> group …`, read with [`args::parse_in`]).
macro_rules! provides {
    ($(makers: $($table:expr => $make:expr),+ ;)?
     $(defaults: $($default:expr),+ ;)?
     $(merge: $($master:expr => $source:expr),+ ;)?
     $(commands: $command:ty $(as $group:literal => $about:literal)? ;)?) => {
        $(
            fn makers(
                &self,
                settings: &$crate::settings::Settings,
            ) -> Vec<(&'static str, std::sync::Arc<dyn spyglass_db::populate::Maker>)> {
                vec![$(($table, $crate::kit::Made::maker($make, settings))),+]
            }
        )?
        $(
            fn defaults(&self) -> Vec<$crate::kit::Defaults> {
                vec![$(($default).into()),+]
            }
        )?
        $(
            fn merge_parts(&self) -> Vec<$crate::kit::MergePart> {
                vec![$($crate::kit::MergePart::of($master, $source)),+]
            }
        )?
        $(
            fn commands(&self) -> Vec<clap::Command> {
                $crate::kit::args::subcommands::<$command>(None $(.or(Some(($group, $about))))?)
            }
        )?
    };
}
pub(crate) use provides;

/// Declares a [`DictParams`] static from its table, name and blob attributes,
/// default sets and the function that reads a dict as the make does (its check):
/// `dict_params! { pub static PARAMETERS = PARAMS, "dlc_si_params_name" => "params",
/// &DEFAULTS, parse_params; }`.
macro_rules! dict_params {
    ($(#[$doc:meta])* $vis:vis static $name:ident = $table:expr, $name_attr:literal => $dict_attr:literal, $defaults:expr, $parse:path $(;)?) => {
        $(#[$doc])*
        $vis static $name: $crate::kit::DictParams = $crate::kit::DictParams {
            table: $table,
            name_attr: $name_attr,
            dict_attr: $dict_attr,
            defaults: $defaults,
            check: |name, dict| $parse(name, dict).map(drop),
        };
    };
}
pub(crate) use dict_params;
