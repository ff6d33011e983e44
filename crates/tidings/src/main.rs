use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tidings::cli::main().await
}
