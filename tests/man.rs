//! The committed man pages and shell completions match the command-line
//! definitions.

use std::path::Path;

fn assert_current(dir: &str, files: Vec<(String, Vec<u8>)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    for (name, content) in files {
        let committed = std::fs::read(root.join(&name)).unwrap_or_default();
        assert!(
            committed == content,
            "{dir}/{name} is stale or missing: run `cargo run --example gen-docs` and commit the result"
        );
    }
}

#[test]
fn man_pages_are_current() {
    assert_current("man", hp::cli::man_pages().unwrap());
}

#[test]
fn completions_are_current() {
    assert_current("completions", hp::cli::completions());
}
