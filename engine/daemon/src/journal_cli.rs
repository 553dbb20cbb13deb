//! `ringex-engine journal verify|dump|replay`: the operator's journal tools, run on the
//! configured data directory's Raft log with the configured engine capacities.

use std::io::Write;
use std::process::ExitCode;

use crate::config::{Config, DumpFormatArg, JournalTool};
use crate::embedded_journal_guard::refuse_embedded_journal;
use crate::replication::committed_inputs::is_raft_data_dir;
use crate::replication::log_tools::{self, DumpFormat, ToolError};

pub fn run(config: &Config, tool: &JournalTool) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run_tool(config, tool, &mut out);
    // A failed flush is reported like any other output error.
    let result = result.and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringex-engine journal: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_tool(config: &Config, tool: &JournalTool, out: &mut dyn Write) -> Result<(), ToolError> {
    let dir = &config.data_dir;
    refuse_embedded_journal(dir).map_err(ToolError::Log)?;
    if !is_raft_data_dir(dir) {
        return Err(ToolError::Log(format!(
            "{} holds no Raft log: no engine has run on it",
            dir.display()
        )));
    }
    match tool {
        JournalTool::Verify => log_tools::verify(dir, config.engine_config(), out),
        JournalTool::Dump {
            format,
            from_seq,
            to_seq,
        } => log_tools::dump(dir, dump_format(*format), *from_seq, *to_seq, out).map(drop),
        JournalTool::Replay { to_seq } => {
            log_tools::replay_to(dir, config.engine_config(), *to_seq, out).map(drop)
        }
    }
}

fn dump_format(format: DumpFormatArg) -> DumpFormat {
    match format {
        DumpFormatArg::Text => DumpFormat::Text,
        DumpFormatArg::Json => DumpFormat::JsonLines,
    }
}
