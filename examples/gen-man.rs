//! Writes the man pages in `man/` from the command-line definitions.
//!
//! Run `cargo run --example gen-man` after changing an option; a test fails
//! while a committed page differs from what this writes.

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    std::fs::create_dir_all(&dir)?;
    for (name, roff) in hp::cli::man_pages()? {
        std::fs::write(dir.join(&name), roff)?;
        println!("wrote man/{name}");
    }
    Ok(())
}
