//! Writes the man pages in `man/` and the shell completions in
//! `completions/` from the command-line definitions.
//!
//! Run `cargo run --example gen-docs` after changing an option; a test fails
//! while a committed file differs from what this writes.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets = [("man", hp::cli::man_pages()?), ("completions", hp::cli::completions())];

    for (dir, files) in sets {
        std::fs::create_dir_all(root.join(dir))?;
        for (name, content) in files {
            std::fs::write(root.join(dir).join(&name), content)?;
            println!("wrote {dir}/{name}");
        }
    }
    Ok(())
}
