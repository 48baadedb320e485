//! packwright-hook's integration tests, one binary so they link once: the
//! merge engines' tables and properties, the CLI, file safety, snapshots,
//! migrations and the admin's commands, run against the built hook.

mod engine;
mod fixture;

mod admin;
mod backup;
mod cli;
mod engine_env;
mod engine_ini;
mod engine_json;
mod engine_limit;
mod engine_list;
mod engine_toml;
mod engine_yaml;
mod hostile;
mod migrate;
mod prop;
mod restore;
mod safety;
