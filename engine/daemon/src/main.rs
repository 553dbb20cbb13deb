//! `ringex-engine`: runs the engine daemon, or with `journal …` inspects a journal, or
//! with `cluster …` asks running cluster nodes.

use std::process::ExitCode;

use clap::Parser;
use ringex_daemon::config::{Cli, CliCommand, Config, DEFAULT_CONFIG_TOML};
use ringex_daemon::{cluster_cli, cluster_node, daemon, journal_cli, logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{DEFAULT_CONFIG_TOML}");
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref(), &cli.overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ringex-engine: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.print_config {
        print!("{}", config.to_toml());
        return ExitCode::SUCCESS;
    }
    logging::init(&config.log);
    match cli.command {
        None => daemon::exit_code(cluster_node::run(&config, &config.node_cluster())),
        Some(CliCommand::Journal { tool }) => journal_cli::run(&config, &tool),
        Some(CliCommand::Cluster { tool, json }) => cluster_cli::run(&config, &tool, json),
    }
}
