use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use awsaudit::cli::{Cli, Command, ListFormat};
use awsaudit::error::{AppError, Exit};

fn init_logging(verbose: u8) {
    let default = match verbose {
        // The SDK's own warnings (a config file that is not there, a retry) are noise at the
        // default level; the report carries every failure, and -v shows them as they happen.
        0 => "error,awsaudit=warn",
        1 => "warn,awsaudit=info",
        // The signer and the HTTP stack log requests at trace level; they stay below it so
        // that no -v level can print a header carrying credentials. RUST_LOG can override.
        // The endpoint resolver's debug line prints the resolved identity (the access key id).
        2 => "debug,hyper=info,hyper_util=info,h2=info,rustls=info,aws_sigv4=info,aws_smithy_runtime::client::orchestrator::endpoints=info",
        _ => "trace,aws_sigv4=debug,aws_smithy_runtime=debug,aws_smithy_runtime::client::orchestrator::endpoints=info,aws_smithy_http_client=debug,hyper=debug,hyper_util=debug,h2=debug,rustls=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose >= 2)
        .init();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit().into()
        }
    }
}

fn run(cli: Cli) -> Result<Exit, AppError> {
    match cli.command {
        Some(Command::Checks { format }) => {
            print(&list_checks(format))?;
            Ok(Exit::Ok)
        }
        Some(Command::Operations { format }) => {
            print(&awsaudit::collect::ops::list(format))?;
            Ok(Exit::Ok)
        }
        Some(Command::Crosswalk { format }) => {
            print(&awsaudit::crosswalk::list(format))?;
            Ok(Exit::Ok)
        }
        Some(Command::WriteRecording { dir }) => {
            let n = awsaudit::http::synthetic::write(&dir, std::io::stdin().lock())?;
            eprintln!("{}: {n} exchanges", dir.display());
            Ok(Exit::Ok)
        }
        Some(Command::Explain { check }) => {
            let c = checks::rules::find(&check).ok_or_else(|| {
                AppError::Config(format!(
                    "unknown check `{check}`: `audit checks` lists them"
                ))
            })?;
            print(&format!(
                "{} {} ({})\n{}\n\n{}\n{}",
                c.code,
                c.name,
                c.severity,
                c.summary,
                awsaudit::crosswalk::explain(c),
                c.documentation()
            ))?;
            Ok(Exit::Ok)
        }
        Some(Command::Merge {
            reports,
            output,
            fail_on,
        }) => awsaudit::run::merge(&reports, &output, fail_on.threshold(), &mut print),
        None => awsaudit::run::audit(&cli.audit, &mut print),
    }
}

fn list_checks(format: ListFormat) -> String {
    let all = checks::rules::ALL;
    match format {
        ListFormat::Json => {
            let v: Vec<serde_json::Value> = all
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "code": c.code,
                        "name": c.name,
                        "severity": c.severity,
                        "severities": c.severities,
                        "summary": c.summary,
                        "needs": c.needs(),
                        "controls": c.controls,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&v).expect("serialises") + "\n"
        }
        ListFormat::Table => {
            let width = all.iter().map(|c| c.name.len()).max().unwrap_or(0);
            let sev_width = all
                .iter()
                .map(|c| c.severity_range().len())
                .max()
                .unwrap_or(0);
            all.iter()
                .map(|c| {
                    format!(
                        "{}  {:width$}  {:sev_width$}  {}\n",
                        c.code,
                        c.name,
                        c.severity_range(),
                        c.summary
                    )
                })
                .collect()
        }
        ListFormat::Markdown => {
            let mut out =
                String::from("| code | name | severity | what it reports |\n|---|---|---|---|\n");
            for c in all {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    c.code,
                    c.name,
                    c.severity_range(),
                    c.summary.replace('|', "\\|")
                ));
            }
            out
        }
    }
}

/// Writes to stdout; a closed pipe (`audit | head`) is not an error worth a panic.
fn print(text: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(AppError::Config(format!("cannot write to stdout: {e}"))),
    }
}
