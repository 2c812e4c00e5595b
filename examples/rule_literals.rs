//! Prints every literal of the named built-in packs, one a line, for
//! `scripts/bench` to hand to `grep -F -f` as the reference scan.
//!
//! Usage: `rule_literals [PACK...]` (the default packs when none is named).
//! The literals are those of `all`, `any`, `none` and `count`, each once, in
//! rule order.

use std::io::{self, Write};

use hp::rules::{self, RuleSet};

fn main() -> io::Result<()> {
    let named: Vec<String> = std::env::args().skip(1).collect();
    let packs: Vec<&str> =
        if named.is_empty() { rules::DEFAULT_PACKS.to_vec() } else { named.iter().map(String::as_str).collect() };
    let set = RuleSet::load(&packs, &[] as &[&str]).map_err(io::Error::other)?;

    let mut literals: Vec<&[u8]> = Vec::new();
    for rule in set.rules() {
        for condition in &rule.conditions {
            let counted = condition.count.iter().map(|count| &count.literal);
            for literal in condition.all.iter().chain(&condition.any).chain(&condition.none).chain(counted) {
                if !literals.contains(&literal.as_slice()) {
                    literals.push(literal);
                }
            }
        }
    }

    let mut out = io::stdout().lock();
    for literal in literals {
        // grep -f reads one pattern per line, so a literal cannot hold one.
        // Such a literal matches decoded text only (a raw log line has no
        // newline), so leaving it out does not change what grep scans for.
        if literal.contains(&b'\n') {
            eprintln!("rule_literals: left out a literal with a newline: {:?}", String::from_utf8_lossy(literal));
            continue;
        }
        out.write_all(literal)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
