//! The `flowgate` binary: parse the configuration, start logging, run the command.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = flowgate::cli::parse();
    flowgate::telemetry::init(&cli.config);
    match flowgate::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, with the chain of causes, and no secrets (errors never carry them).
            eprintln!("flowgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
