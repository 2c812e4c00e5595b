//! Every rule compiled into one literal scan per line.
//!
//! [`Matcher::new`] collects the `all` and `any` literals of every rule into
//! one Aho-Corasick automaton (two when some rules ignore case), so a line is
//! scanned once however many rules are loaded. The scan only proposes
//! candidates: a rule is looked at when one of its literals occurs in the raw
//! line, when it decodes and the line contains a `%` or `+`, or when it has no
//! literal at all (a count or a length). Lines that propose nothing cost one
//! scan and no parse, which is what most lines of a log are.
//!
//! Conditions on the whole raw line are answered from the scan itself, with
//! `memchr` for counted literals. Conditions on a field parse the line once
//! (see [`LogLine`]) and search the field.
//!
//! Rules are tried in load order. Of the rules that share a group, only the
//! first that matches fires; rules without a group fire independently.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;

use crate::logline::{Frame, LineError, LogLine};
use crate::rules::{Condition, Field, Rule, RuleSet};

/// A literal condition compiled against the shared automata.
#[derive(Debug)]
struct CompiledCondition {
    /// Global pattern ids of `all`, `any` and `none`.
    all: Vec<u32>,
    any: Vec<u32>,
    none: Vec<u32>,
    count: Option<(memmem::Finder<'static>, u64)>,
    /// True when the condition looks only at the raw line, so the scan
    /// decides it without a parse.
    on_raw_line: bool,
    /// The condition's own automaton over `all`, `any` then `none`, for
    /// searching a field or a decoded form.
    local: Option<AhoCorasick>,
}

#[derive(Debug)]
struct CompiledRule {
    conditions: Vec<CompiledCondition>,
    group: Option<usize>,
    needs_parse: bool,
}

/// The result of matching one line.
#[derive(Debug)]
pub struct LineMatch<'a> {
    /// The parsed line, when matching needed it; `None` when no rule needed
    /// fields. A parse error is kept so that the caller reports the line.
    pub parsed: Option<Result<LogLine<'a>, LineError>>,
}

/// Reusable per-line state, so matching allocates nothing per line.
#[derive(Debug, Default)]
pub struct Scratch {
    /// For each pattern, the generation of the last line it was seen in.
    seen: Vec<u32>,
    /// For each group, the generation of the last line where it fired.
    group_fired: Vec<u32>,
    /// For each rule, the generation of the last line that proposed it.
    proposed: Vec<u32>,
    generation: u32,
    candidates: Vec<u32>,
    /// Indices of the rules that fired on the last line, in load order.
    pub fired: Vec<usize>,
    decoded_once: Vec<u8>,
    decoded_twice: Vec<u8>,
    hits: Vec<bool>,
}

/// The compiled rule set.
#[derive(Debug)]
pub struct Matcher {
    rules: Vec<CompiledRule>,
    /// Case-sensitive literals; pattern ids start at 0.
    exact: Option<LiteralScan>,
    /// Case-insensitive literals; pattern ids start at `exact_len`.
    folded: Option<LiteralScan>,
    exact_len: u32,
    pattern_count: usize,
    /// For each pattern, the rules that its presence proposes.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules proposed on every line: they have no `all` or `any` literal.
    always: Vec<u32>,
    /// Rules proposed when the line may decode (see `may_decode`).
    on_encoded: Vec<u32>,
    group_count: usize,
    source: Vec<Rule>,
}

/// One set of literals and the search that finds which of them occur in
/// a line.
///
/// The rules need every literal that occurs, overlaps included, which is
/// what `MatchKind::Standard` overlapping search gives. But aho-corasick
/// 1.1 builds its vectorised (Teddy) prefilter only for the leftmost match
/// kinds, so that search walks the automaton byte by byte over every line.
/// Where Teddy can be built, [`LiteralScan::Packed`] finds the leftmost
/// matches with it instead. It recovers the overlapping ones by comparing
/// the few literals that can start inside each match, so the set of
/// literals found is the same.
#[derive(Debug)]
enum LiteralScan {
    Packed {
        /// Leftmost-first, non-overlapping.
        searcher: aho_corasick::packed::Searcher,
        patterns: Vec<Vec<u8>>,
        /// For each pattern, the literals that can start inside a match of
        /// it, with their offset from the match's start. A literal that is
        /// not listed cannot occur inside the match. One that starts after
        /// the match is found by the leftmost search.
        overlaps: Vec<Vec<(usize, u32)>>,
    },
    /// The overlapping automaton, for folded literals (the packed searcher
    /// has no case folding) and where Teddy is unavailable, behind a
    /// leftmost automaton that checks first whether any literal occurs.
    Automaton { gate: AhoCorasick, all: AhoCorasick },
}

impl LiteralScan {
    /// Calls `found` with the id of each literal that occurs in `line`, at
    /// least once for each and possibly more often.
    fn for_each_found(&self, line: &[u8], mut found: impl FnMut(usize)) {
        match self {
            LiteralScan::Packed { searcher, patterns, overlaps } => {
                for leftmost in searcher.find_iter(line) {
                    let pattern = leftmost.pattern().as_usize();
                    found(pattern);
                    for &(offset, other) in &overlaps[pattern] {
                        if line[leftmost.start() + offset..].starts_with(&patterns[other as usize]) {
                            found(other as usize);
                        }
                    }
                }
            }
            LiteralScan::Automaton { gate, all } => {
                // No literal starts before the leftmost match.
                let Some(first) = gate.find(line) else { return };
                for overlapping in all.find_overlapping_iter(&line[first.start()..]) {
                    found(overlapping.pattern().as_usize());
                }
            }
        }
    }
}

/// Returns, for each pattern, the other patterns that can start inside a
/// match of it, with their offsets: those that lie within it there, and
/// those that begin with the rest of the match from there.
fn overlaps(patterns: &[Vec<u8>]) -> Vec<Vec<(usize, u32)>> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            let mut found = Vec::new();
            for offset in 0..pattern.len() {
                for (other_index, other) in patterns.iter().enumerate() {
                    let shared = other.len().min(pattern.len() - offset);
                    if other_index != index && other[..shared] == pattern[offset..offset + shared] {
                        found.push((offset, other_index as u32));
                    }
                }
            }
            found
        })
        .collect()
}

/// Interns literals into pattern ids for one automaton.
#[derive(Default)]
struct PatternTable {
    patterns: Vec<Vec<u8>>,
}

impl PatternTable {
    fn intern(&mut self, literal: &[u8], fold: bool) -> u32 {
        let key = if fold { literal.to_ascii_lowercase() } else { literal.to_vec() };
        if let Some(index) = self.patterns.iter().position(|p| *p == key) {
            return index as u32;
        }
        self.patterns.push(key);
        (self.patterns.len() - 1) as u32
    }

    /// Builds the search for these literals.
    fn build(&self, fold: bool) -> Option<LiteralScan> {
        if self.patterns.is_empty() {
            return None;
        }
        // Building fails only past the automaton's 32-bit state ids, which
        // rules::MAX_LITERAL_BYTES keeps every loaded rule set far below.
        let build = |kind| {
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .ascii_case_insensitive(fold)
                .prefilter(true)
                .build(&self.patterns)
                .expect("building the literal automaton")
        };
        let packed = if fold {
            None
        } else {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(&self.patterns)
                .build()
        };
        Some(match packed {
            Some(searcher) => LiteralScan::Packed {
                searcher,
                patterns: self.patterns.clone(),
                overlaps: overlaps(&self.patterns),
            },
            None => LiteralScan::Automaton { gate: build(MatchKind::LeftmostFirst), all: build(MatchKind::Standard) },
        })
    }
}

impl Matcher {
    /// Compiles a rule set.
    pub fn new(set: &RuleSet) -> Matcher {
        let mut exact = PatternTable::default();
        let mut folded = PatternTable::default();

        // First pass: intern every literal so that exact ids are known
        // before folded ids are offset past them.
        let mut raw_ids: Vec<Vec<[Vec<(bool, u32)>; 3]>> = Vec::new();
        for rule in set.rules() {
            let mut per_condition = Vec::new();
            for condition in &rule.conditions {
                let mut intern = |literals: &[Vec<u8>]| -> Vec<(bool, u32)> {
                    literals
                        .iter()
                        .map(|l| {
                            if condition.ignore_case {
                                (true, folded.intern(l, true))
                            } else {
                                (false, exact.intern(l, false))
                            }
                        })
                        .collect()
                };
                per_condition.push([intern(&condition.all), intern(&condition.any), intern(&condition.none)]);
            }
            raw_ids.push(per_condition);
        }

        let exact_len = exact.patterns.len() as u32;
        let pattern_count = exact.patterns.len() + folded.patterns.len();
        let global = |(is_folded, id): &(bool, u32)| if *is_folded { exact_len + id } else { *id };

        let mut groups: Vec<&str> = Vec::new();
        let mut pattern_rules = vec![Vec::new(); pattern_count];
        let mut always = Vec::new();
        let mut on_encoded = Vec::new();
        let mut rules = Vec::new();

        for (rule_index, (rule, ids)) in set.rules().iter().zip(&raw_ids).enumerate() {
            let rule_index = rule_index as u32;
            let mut conditions = Vec::new();
            let mut proposing = Vec::new();

            for (condition, [all, any, none]) in rule.conditions.iter().zip(ids) {
                let all: Vec<u32> = all.iter().map(global).collect();
                let any: Vec<u32> = any.iter().map(global).collect();
                let none: Vec<u32> = none.iter().map(global).collect();
                proposing.extend(all.iter().chain(&any).copied());

                let on_raw_line = condition.fields == [Field::Line] && !condition.decode;
                conditions.push(CompiledCondition {
                    all,
                    any,
                    none,
                    count: condition
                        .count
                        .as_ref()
                        .map(|c| (memmem::Finder::new(&c.literal).into_owned(), c.more_than)),
                    on_raw_line,
                    local: if on_raw_line { None } else { local_automaton(condition) },
                });
            }

            if proposing.is_empty() {
                always.push(rule_index);
            }
            for pattern in proposing {
                if !pattern_rules[pattern as usize].contains(&rule_index) {
                    pattern_rules[pattern as usize].push(rule_index);
                }
            }
            if rule.conditions.iter().any(|c| c.decode) {
                on_encoded.push(rule_index);
            }

            let group = rule.group.as_deref().map(|name| match groups.iter().position(|g| *g == name) {
                Some(index) => index,
                None => {
                    groups.push(name);
                    groups.len() - 1
                }
            });
            let needs_parse = rule.status.is_some()
                || rule.methods.is_some()
                || conditions.iter().any(|c| !c.on_raw_line);
            rules.push(CompiledRule { conditions, group, needs_parse });
        }

        Matcher {
            rules,
            exact: exact.build(false),
            folded: folded.build(true),
            exact_len,
            pattern_count,
            pattern_rules,
            always,
            on_encoded,
            group_count: groups.len(),
            source: set.rules().to_vec(),
        }
    }

    /// Returns the rules, in the order that [`Scratch::fired`] indexes.
    pub fn rules(&self) -> &[Rule] {
        &self.source
    }

    /// Returns scratch space sized for this matcher.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            seen: vec![0; self.pattern_count],
            group_fired: vec![0; self.group_count],
            proposed: vec![0; self.rules.len()],
            ..Scratch::default()
        }
    }

    /// Matches one line that passed the structural check. The rules that
    /// fire are left in `scratch.fired`.
    pub fn match_line<'a>(&self, line: &'a [u8], frame: &Frame, scratch: &mut Scratch) -> LineMatch<'a> {
        scratch.fired.clear();
        scratch.candidates.clear();
        scratch.generation = scratch.generation.wrapping_add(1);
        if scratch.generation == 0 {
            // After 2^32 lines the stamps wrap; clear them once.
            scratch.seen.fill(0);
            scratch.group_fired.fill(0);
            scratch.proposed.fill(0);
            scratch.generation = 1;
        }
        let generation = scratch.generation;

        self.scan(line, scratch);
        for &rule in &self.always {
            propose(scratch, rule);
        }
        if !self.on_encoded.is_empty() && may_decode(line) {
            for &rule in &self.on_encoded {
                propose(scratch, rule);
            }
        }
        if scratch.candidates.is_empty() {
            return LineMatch { parsed: None };
        }
        scratch.candidates.sort_unstable();

        let mut parsed: Option<Result<LogLine<'a>, LineError>> = None;
        for index in 0..scratch.candidates.len() {
            let rule_index = scratch.candidates[index] as usize;
            let rule = &self.rules[rule_index];
            if let Some(group) = rule.group {
                if scratch.group_fired[group] == generation {
                    continue;
                }
            }

            let fields = if rule.needs_parse {
                match parsed.get_or_insert_with(|| LogLine::from_frame(line, frame)) {
                    Ok(fields) => Some(&*fields),
                    // A line that fails the full parse fires nothing; the
                    // caller reports it from `parsed`.
                    Err(_) => break,
                }
            } else {
                None
            };

            if self.rule_holds(rule_index, line, fields, scratch) {
                scratch.fired.push(rule_index);
                if let Some(group) = rule.group {
                    scratch.group_fired[group] = generation;
                }
            }
        }

        LineMatch { parsed }
    }

    /// Marks every literal that occurs in the raw line as seen, and proposes
    /// the rules that use it.
    fn scan(&self, line: &[u8], scratch: &mut Scratch) {
        let generation = scratch.generation;
        let automata = [(self.exact.as_ref(), 0), (self.folded.as_ref(), self.exact_len)];
        for (automaton, offset) in automata {
            let Some(automaton) = automaton else { continue };
            automaton.for_each_found(line, |found| {
                let pattern = offset as usize + found;
                if scratch.seen[pattern] == generation {
                    return;
                }
                scratch.seen[pattern] = generation;
                for &rule in &self.pattern_rules[pattern] {
                    propose(scratch, rule);
                }
            });
        }
    }

    fn rule_holds(&self, rule_index: usize, line: &[u8], fields: Option<&LogLine<'_>>, scratch: &mut Scratch) -> bool {
        let source = &self.source[rule_index];
        if let Some(fields) = fields {
            if let Some(statuses) = &source.status {
                if !fields.status.is_some_and(|s| statuses.contains(&s)) {
                    return false;
                }
            }
            if let Some(methods) = &source.methods {
                if !fields.method.is_some_and(|m| methods.iter().any(|allowed| allowed == m)) {
                    return false;
                }
            }
        }

        let compiled = &self.rules[rule_index];
        for (condition, spec) in compiled.conditions.iter().zip(&source.conditions) {
            let holds = if condition.on_raw_line {
                raw_line_holds(condition, spec, line, scratch)
            } else {
                // needs_parse guarantees the fields when a condition is not
                // on the raw line.
                let Some(fields) = fields else { return false };
                spec.fields.iter().any(|field| {
                    let value = field_value(*field, line, fields);
                    field_holds(condition, spec, value, *field, scratch)
                })
            };
            if !holds {
                return false;
            }
        }
        true
    }
}

/// Returns whether percent-decoding could change some field of the line: it
/// contains a `%`, or a `+` after a `?` (only the query decodes `+`). A time
/// offset such as `+0200` comes before any `?`, so it does not count, and
/// most lines of a log are passed over without a parse.
fn may_decode(line: &[u8]) -> bool {
    memchr::memchr(b'%', line).is_some()
        || memchr::memchr(b'?', line).is_some_and(|query| memchr::memchr(b'+', &line[query..]).is_some())
}

fn propose(scratch: &mut Scratch, rule: u32) {
    let slot = &mut scratch.proposed[rule as usize];
    if *slot != scratch.generation {
        *slot = scratch.generation;
        scratch.candidates.push(rule);
    }
}

/// Decides a condition on the whole raw line from the scan.
fn raw_line_holds(condition: &CompiledCondition, spec: &Condition, line: &[u8], scratch: &Scratch) -> bool {
    let seen = |pattern: &u32| scratch.seen[*pattern as usize] == scratch.generation;
    if !condition.all.iter().all(seen) {
        return false;
    }
    if !condition.any.is_empty() && !condition.any.iter().any(seen) {
        return false;
    }
    if condition.none.iter().any(seen) {
        return false;
    }
    other_parts_hold(condition, spec, line)
}

/// Checks the count, the length and the regex, the parts of a condition that
/// literals do not decide.
fn other_parts_hold(condition: &CompiledCondition, spec: &Condition, value: &[u8]) -> bool {
    if let Some(limit) = spec.longer_than {
        if value.len() <= limit {
            return false;
        }
    }
    if let Some((finder, more_than)) = &condition.count {
        if count_non_overlapping(finder, value) <= *more_than {
            return false;
        }
    }
    if let Some(regex) = &spec.regex {
        if !regex.is_match(value) {
            return false;
        }
    }
    true
}

/// Counts occurrences left to right without overlap, as Python's
/// `str.count` does.
fn count_non_overlapping(finder: &memmem::Finder<'_>, haystack: &[u8]) -> u64 {
    let needle_len = finder.needle().len();
    if needle_len == 1 {
        return memchr::memchr_iter(finder.needle()[0], haystack).count() as u64;
    }
    let mut count = 0;
    let mut pos = 0;
    while let Some(found) = finder.find(&haystack[pos..]) {
        count += 1;
        pos += found + needle_len;
    }
    count
}

/// Checks a condition on one field, and on its decoded forms when the
/// condition decodes.
fn field_holds(condition: &CompiledCondition, spec: &Condition, value: &[u8], field: Field, scratch: &mut Scratch) -> bool {
    if literal_parts_hold(condition, spec, value, &mut scratch.hits) && other_parts_hold(condition, spec, value) {
        return true;
    }
    if !spec.decode {
        return false;
    }

    let plus_from = match field {
        Field::Query => Some(0),
        Field::Target | Field::Request | Field::Line => memchr::memchr(b'?', value),
        _ => None,
    };
    let mut once = std::mem::take(&mut scratch.decoded_once);
    let mut twice = std::mem::take(&mut scratch.decoded_twice);
    let mut holds = false;

    if percent_decode(value, plus_from, &mut once) {
        holds = literal_parts_hold(condition, spec, &once, &mut scratch.hits) && other_parts_hold(condition, spec, &once);
        if !holds && percent_decode(&once, None, &mut twice) {
            holds = literal_parts_hold(condition, spec, &twice, &mut scratch.hits)
                && other_parts_hold(condition, spec, &twice);
        }
    }

    scratch.decoded_once = once;
    scratch.decoded_twice = twice;
    holds
}

/// Checks `all`, `any` and `none` on a value with the condition's own
/// automaton.
fn literal_parts_hold(condition: &CompiledCondition, spec: &Condition, value: &[u8], hits: &mut Vec<bool>) -> bool {
    let Some(local) = &condition.local else {
        return true;
    };
    let (all_len, any_len) = (spec.all.len(), spec.any.len());
    hits.clear();
    hits.resize(local.patterns_len(), false);
    for found in local.find_overlapping_iter(value) {
        hits[found.pattern().as_usize()] = true;
    }

    let all_hold = hits[..all_len].iter().all(|h| *h);
    let any_holds = any_len == 0 || hits[all_len..all_len + any_len].iter().any(|h| *h);
    let none_holds = !hits[all_len + any_len..].iter().any(|h| *h);
    all_hold && any_holds && none_holds
}

/// Builds a condition's automaton over `all`, `any` then `none`, keeping
/// duplicates so that pattern ids map back to their list by position.
fn local_automaton(condition: &Condition) -> Option<AhoCorasick> {
    let patterns: Vec<&[u8]> = condition
        .all
        .iter()
        .chain(&condition.any)
        .chain(&condition.none)
        .map(Vec::as_slice)
        .collect();
    if patterns.is_empty() {
        return None;
    }
    Some(
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(condition.ignore_case)
            .build(patterns)
            .expect("building a condition automaton"),
    )
}

/// Returns the bytes of one field of a parsed line. A field the line lacks
/// is empty.
pub fn field_value<'a>(field: Field, line: &'a [u8], fields: &LogLine<'a>) -> &'a [u8] {
    let target = fields.target.unwrap_or(b"");
    let query_start = memchr::memchr(b'?', target);
    match field {
        Field::Line => line,
        Field::Request => fields.request,
        Field::Method => fields.method.unwrap_or(b""),
        Field::Target => target,
        Field::Path => query_start.map_or(target, |q| &target[..q]),
        Field::Query => query_start.map_or(b"", |q| &target[q + 1..]),
        Field::Protocol => fields.protocol.unwrap_or(b""),
        Field::Status => status_text(fields).unwrap_or(b""),
        Field::Referrer => fields.referrer.unwrap_or(b""),
        Field::UserAgent => fields.user_agent.unwrap_or(b""),
        Field::Vhost => fields.vhost.unwrap_or(b""),
        Field::Client => fields.client,
    }
}

/// Returns the status as text. Status codes are three digits, so the text
/// comes from a fixed table and needs no buffer.
fn status_text(fields: &LogLine<'_>) -> Option<&'static [u8]> {
    static DIGITS: [[u8; 3]; 1000] = {
        let mut table = [[0u8; 3]; 1000];
        let mut i = 0;
        while i < 1000 {
            table[i] = [b'0' + (i / 100) as u8, b'0' + ((i / 10) % 10) as u8, b'0' + (i % 10) as u8];
            i += 1;
        }
        table
    };
    fields.status.filter(|s| *s < 1000).map(|s| DIGITS[s as usize].as_slice())
}

/// Percent-decodes `input` into `out` and returns whether anything changed.
///
/// `%XX` becomes its byte; a `%` not followed by two hex digits stays. From
/// `plus_from` on (the query), `+` becomes a space. Overlong UTF-8 forms of
/// `.`, `/` and `\` (`%c0%ae`, `%c0%af`, `%c1%9c`), which old servers
/// accepted and scanners still send, become the ASCII character.
pub fn percent_decode(input: &[u8], plus_from: Option<usize>, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        if byte == b'%' {
            if let (Some(high), Some(low)) = (input.get(i + 1).and_then(hex), input.get(i + 2).and_then(hex)) {
                out.push(high << 4 | low);
                i += 3;
                changed = true;
                continue;
            }
        } else if byte == b'+' && plus_from.is_some_and(|from| i >= from) {
            out.push(b' ');
            i += 1;
            changed = true;
            continue;
        }
        out.push(byte);
        i += 1;
    }

    // Fold overlong two-byte forms of ASCII punctuation in place.
    let mut write = 0;
    let mut read = 0;
    while read < out.len() {
        let folded = match (out[read], out.get(read + 1)) {
            (0xc0, Some(0xae)) => Some(b'.'),
            (0xc0, Some(0xaf)) => Some(b'/'),
            (0xc1, Some(0x9c)) => Some(b'\\'),
            _ => None,
        };
        if let Some(ascii) = folded {
            out[write] = ascii;
            read += 2;
            changed = true;
        } else {
            out[write] = out[read];
            read += 1;
        }
        write += 1;
    }
    out.truncate(write);
    changed
}

fn hex(byte: &u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(set: &RuleSet, line: &[u8]) -> Vec<String> {
        let matcher = Matcher::new(set);
        let mut scratch = matcher.scratch();
        let frame = Frame::find(line).unwrap();
        matcher.match_line(line, &frame, &mut scratch);
        scratch.fired.iter().map(|i| matcher.rules()[*i].id.clone()).collect()
    }

    fn classic() -> RuleSet {
        RuleSet::load(&["classic"], &[] as &[&str]).unwrap()
    }

    fn user(text: &str) -> RuleSet {
        let mut set = RuleSet::default();
        set.add_text(text, "t.toml", "t", "t.toml").unwrap();
        set
    }

    const PMA: &[u8] = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /phpmyadmin/index.php?pma_username=a&pma_password=b HTTP/1.1" 404 1 "-" "-""#;

    #[test]
    fn classic_group_fires_first_only() {
        assert_eq!(fired(&classic(), PMA), vec!["phpmyadmin-login"]);
    }

    #[test]
    fn classic_none_literal_blocks() {
        let line = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /phpmyadmin/?token=1&pma_password=b HTTP/1.1" 404 1 "-" "-""#;
        assert_eq!(fired(&classic(), line), vec!["resource-scan"]);
    }

    #[test]
    fn classic_independent_rules_add_detections() {
        let line = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /robots.txt?<script> HTTP/1.1" 404 1 "-" "-""#;
        assert_eq!(fired(&classic(), line), vec!["resource-scan", "site-mapping", "xss-attempt"]);
    }

    #[test]
    fn classic_counts_without_overlap() {
        let three = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /.../../.. HTTP/1.1" 200 1 "-" "-""#;
        assert_eq!(fired(&classic(), three), vec!["dir-traversal"]);
        let two = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /..../ HTTP/1.1" 200 1 "-" "-""#;
        assert!(fired(&classic(), two).is_empty());
    }

    #[test]
    fn field_scope_and_ignore_case() {
        let set = user("[[rule]]\nid = \"ua\"\nname = \"UA\"\nimpact = \"low\"\nfield = \"user_agent\"\nany = [\"sqlmap\"]\nignore_case = true\n");
        let hit = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET / HTTP/1.1" 200 1 "-" "SQLMap/1.0""#;
        let miss = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /sqlmap HTTP/1.1" 200 1 "-" "curl""#;
        assert_eq!(fired(&set, hit), vec!["ua"]);
        assert!(fired(&set, miss).is_empty());
    }

    #[test]
    fn decode_sees_encoded_traversal() {
        let set = user("[[rule]]\nid = \"tr\"\nname = \"T\"\nimpact = \"high\"\nfield = \"target\"\nall = [\"../\"]\ndecode = true\n");
        for target in ["/%2e%2e%2fetc", "/%252e%252e%252fetc", "/..%c0%afetc", "/../etc"] {
            let line = format!(r#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET {target} HTTP/1.1" 200 1 "-" "-""#);
            assert_eq!(fired(&set, line.as_bytes()), vec!["tr"], "{target}");
        }
    }

    #[test]
    fn status_and_method_gates() {
        let set = user("[[rule]]\nid = \"s\"\nname = \"S\"\nimpact = \"low\"\nstatus = [404]\nmethod = [\"POST\"]\nall = [\"/x\"]\n");
        let hit = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "POST /x HTTP/1.1" 404 1 "-" "-""#;
        let wrong_status = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "POST /x HTTP/1.1" 200 1 "-" "-""#;
        let wrong_method = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /x HTTP/1.1" 404 1 "-" "-""#;
        assert_eq!(fired(&set, hit), vec!["s"]);
        assert!(fired(&set, wrong_status).is_empty());
        assert!(fired(&set, wrong_method).is_empty());
    }

    /// Returns the literals that a plain overlapping search finds in `line`.
    fn overlapping_reference(patterns: &[Vec<u8>], line: &[u8]) -> Vec<usize> {
        let automaton = AhoCorasick::new(patterns).unwrap();
        let mut found: Vec<usize> = automaton.find_overlapping_iter(line).map(|m| m.pattern().as_usize()).collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    #[test]
    fn literal_scan_finds_overlapping_literals() {
        let mut table = PatternTable::default();
        let literals: &[&[u8]] =
            &[b"HelloThink", b"HelloThinkPHP", b"wget", b"token", b"/shell", b"/etc/passwd", b"..", b"%3Cscript", b"<script", b"alert(", b"\" 404 "];
        for literal in literals {
            table.intern(literal, false);
        }
        let scan = table.build(false).unwrap();

        // Pieces that make literals overlap in many ways, joined by a
        // fixed pseudo-random sequence.
        let pieces: &[&[u8]] = &[b"HelloThink", b"PHP", b"wge", b"t", b"oken", b"/she", b"ll", b"/etc/passwd", b".", b"%3C", b"<", b"script", b"alert(", b"\" 40", b"4 ", b"x"];
        let mut state = 0x2545_f491_u64;
        for _ in 0..3000 {
            let mut line = Vec::new();
            for _ in 0..12 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                line.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
            }
            let mut found = Vec::new();
            scan.for_each_found(&line, |pattern| found.push(pattern));
            found.sort_unstable();
            found.dedup();
            assert_eq!(found, overlapping_reference(&table.patterns, &line), "{:?}", String::from_utf8_lossy(&line));
        }
    }

    #[test]
    fn percent_decode_forms() {
        let mut out = Vec::new();
        assert!(percent_decode(b"a%2Fb+c", Some(0), &mut out));
        assert_eq!(out, b"a/b c");
        assert!(!percent_decode(b"100%", None, &mut out));
        assert_eq!(out, b"100%");
        assert!(percent_decode(b"%c0%ae%c0%ae%c0%af", None, &mut out));
        assert_eq!(out, b"../");
    }
}
