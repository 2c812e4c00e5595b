//! Command-line wrapper that runs the XDR stand-in until a signal (or stdin EOF) stops it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use xdr_standin::{Config, StandIn};

/// Local stand-in for the Cisco XDR private-intel API, serving plain HTTP on 127.0.0.1.
///
/// The accepted client id and password come from XDR_STANDIN_CLIENT_ID and
/// XDR_STANDIN_CLIENT_PASSWORD (defaults: hp-test-client / hp-test-secret-password).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// TCP port to listen on. 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Lifetime of issued bearer tokens, in seconds.
    #[arg(long, default_value_t = 600)]
    token_ttl: u64,
    /// Maximum number of entities in one bundle import or bulk delete.
    #[arg(long, default_value_t = 2000)]
    max_bundle_entities: usize,
    /// Maximum offset + limit for offset paging in searches.
    #[arg(long, default_value_t = 10000)]
    max_result_window: usize,
    /// Number of requests to handle before returning 429 to every further request.
    #[arg(long)]
    rate_budget: Option<usize>,
    /// Create the blocking-feed indicators and feeds at start.
    #[arg(long)]
    seed_feeds: bool,
    /// Exit when standard input reaches end of file, so a parent process can stop the
    /// server by closing the pipe.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let defaults = Config::default();
    let config = Config {
        client_id: std::env::var("XDR_STANDIN_CLIENT_ID").unwrap_or(defaults.client_id),
        client_password: std::env::var("XDR_STANDIN_CLIENT_PASSWORD")
            .unwrap_or(defaults.client_password),
        token_ttl_secs: args.token_ttl,
        max_bundle_entities: args.max_bundle_entities,
        max_result_window: args.max_result_window,
        rate_budget: args.rate_budget,
    };

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(error) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("xdr-standin: failed to install the handler for signal {signal}: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }

    let server = match StandIn::start_on(config, args.port, true) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("xdr-standin: failed to start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if args.seed_feeds {
        let fixtures = server.seed_feeds();
        eprintln!("xdr-standin: seeded feeds {fixtures}");
    }

    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", server.base_url());
    let _ = stdout.flush();
    eprintln!("xdr-standin: started on {}", server.base_url());

    if args.exit_on_stdin_eof {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            stop.store(true, Ordering::SeqCst);
        });
    }

    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("xdr-standin: stopping");
    server.stop();
    std::process::ExitCode::SUCCESS
}
