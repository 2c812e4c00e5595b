//! The committed man pages match the command-line definitions.

#[test]
fn man_pages_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for (name, roff) in hp::cli::man_pages().unwrap() {
        let committed = std::fs::read(dir.join(&name)).unwrap_or_default();
        assert!(
            committed == roff,
            "man/{name} is stale or missing: run `cargo run --example gen-man` and commit the result"
        );
    }
}
