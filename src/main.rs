use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use awsaudit::cli::{Cli, Command, ListFormat};
use awsaudit::error::{AppError, Exit};
use awsaudit::progress::Progress;
use awsaudit::stop::{Stop, StopReason};

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
        Some(Command::Explain { check }) => {
            let c = checks::rules::find(&check).ok_or_else(|| {
                AppError::Config(format!(
                    "unknown check `{check}`: `audit checks` lists them"
                ))
            })?;
            print(&format!(
                "{} {} ({})\n{}\n\n{}",
                c.code,
                c.name,
                c.severity,
                c.summary,
                c.documentation()
            ))?;
            Ok(Exit::Ok)
        }
        Some(Command::Merge {
            reports,
            output,
            fail_on,
        }) => {
            let outputs = awsaudit::output::resolve_outputs(&output, None)?;
            let runtime = runtime()?;
            let s3 = runtime.block_on(awsaudit::output::connect_s3(&outputs, None, None))?;
            let report = awsaudit::report::merge::merge(&reports)?;
            runtime.block_on(awsaudit::output::deliver(
                &report,
                &outputs,
                s3.as_ref(),
                &mut print,
            ))?;
            warn_gaps(&report);
            Ok(awsaudit::exit_for(&report, fail_on.threshold()))
        }
        None => {
            let args = cli.audit;
            // Every bad output path or baseline is an error before any AWS call.
            let outputs = awsaudit::output::resolve_outputs(&args.output, args.shard)?;
            let baseline = args
                .baseline
                .as_deref()
                .map(awsaudit::report::baseline::Baseline::load)
                .transpose()?;
            let webhook = args
                .webhook
                .as_deref()
                .map(|url| {
                    awsaudit::output::webhook::Webhook::new(
                        url,
                        args.webhook_spool.as_deref(),
                        args.webhook_attempts,
                        std::time::Duration::from_secs(args.webhook_timeout),
                    )
                })
                .transpose()?;
            let suppressions = args
                .suppressions
                .as_deref()
                .map(|p| awsaudit::report::suppress::Suppressions::load(p, checks::rules::ALL))
                .transpose()?;
            let runtime = runtime()?;
            // The time limit and the signals cover the whole run, from the first call.
            let stop = Stop::new();
            watch_for_stop(&runtime, &stop, args.timeout);
            let s3 = runtime.block_on(async {
                tokio::select! {
                    biased;
                    why = stop.wait() => Err(AppError::Config(format!(
                        "{} while checking the S3 output buckets; nothing was audited",
                        why.describe()
                    ))),
                    r = awsaudit::output::connect_s3(
                        &outputs,
                        args.profile.as_deref(),
                        args.endpoint_url.as_deref(),
                    ) => r,
                }
            })?;
            let mut report = runtime.block_on(awsaudit::audit(
                &args,
                Progress::new(true),
                suppressions.as_ref(),
                stop,
            ))?;
            if let Some(b) = &baseline {
                b.apply(&mut report, args.only_new);
            }
            runtime.block_on(awsaudit::output::deliver(
                &report,
                &outputs,
                s3.as_ref(),
                &mut print,
            ))?;
            let mut exit = awsaudit::exit_for(&report, args.fail_on.threshold());
            if let Some(hook) = &webhook {
                let d = runtime.block_on(hook.deliver(&report));
                for problem in d.problems() {
                    eprintln!("error: {problem}");
                }
                if d.failed() {
                    exit = Exit::Delivery;
                }
                tracing::info!(
                    batches = d.batches,
                    events = d.events,
                    from_earlier_runs = d.from_earlier_runs,
                    set_aside = d.set_aside.len(),
                    "webhook delivered"
                );
            }
            warn_gaps(&report);
            Ok(exit)
        }
    }
}

/// Ends the collection on `--timeout`, Ctrl-C or SIGTERM, keeping what it has; a second
/// signal exits at once.
fn watch_for_stop(
    runtime: &tokio::runtime::Runtime,
    stop: &Stop,
    timeout: Option<std::time::Duration>,
) {
    if let Some(d) = timeout {
        let stop = stop.clone();
        runtime.spawn(async move {
            tokio::time::sleep(d).await;
            if stop.stop(StopReason::Timeout(d)) {
                eprintln!(
                    "warning: {}: ending the collection and reporting what it has",
                    StopReason::Timeout(d).describe()
                );
            }
        });
    }
    let stop = stop.clone();
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut signals = 0;
        loop {
            #[cfg(unix)]
            let name = tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } "SIGINT" }
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => "SIGTERM",
            };
            #[cfg(not(unix))]
            let name = match tokio::signal::ctrl_c().await {
                Ok(()) => "SIGINT",
                Err(_) => return,
            };
            signals += 1;
            if signals > 1 {
                eprintln!("error: {name} again: exiting without a report");
                std::process::exit(130);
            }
            stop.stop(StopReason::Signal(name));
            eprintln!("warning: {name}: ending the collection and reporting what it has (again to exit at once)");
        }
    });
}

/// One line on stderr when the report has coverage gaps.
fn warn_gaps(report: &awsaudit::report::Report) {
    if !report.coverage.gaps.is_empty() {
        eprintln!("warning: {}", awsaudit::render::gap_summary(report));
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Config(format!("cannot start the async runtime: {e}")))
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
