//! The rule-file format, the built-in packs, and their validation.
//!
//! Signatures are data, not code. A rule file is TOML:
//!
//! ```toml
//! [pack]                      # optional; names the pack in --list-rules
//! name = "mine"
//! description = "Rules for our own honeypot"
//!
//! [[rule]]
//! id = "phpmyadmin-login"     # unique across every loaded file; used by hp-correlate
//! name = "Admin access attempt on MySQL database through phpMyAdmin"
//! impact = "high"             # high, medium or low
//! group = "classic"           # optional: of the rules sharing a group, only the
//!                             # first that matches (in load order) fires
//! tags = ["bruteforce"]       # optional labels
//! mitre = "T1110"             # optional MITRE ATT&CK technique id
//! status = [200, 404]         # optional: fire only on these statuses
//! method = ["POST"]           # optional: fire only on these methods
//!
//! # The condition: every key below is optional, but a rule needs at least
//! # one of all, any, count, regex or longer_than.
//! field = "line"              # where to look; a name or a list (any of them)
//! all = ["pma_password=", "phpmyadmin"]   # every literal occurs
//! any = ["a", "b"]            # at least one literal occurs
//! none = ["token"]            # no literal occurs
//! count = { literal = "..", more_than = 2 }  # non-overlapping occurrences
//! regex = 'union\s+select'    # the `regex` crate's syntax, linear time
//! longer_than = 2048          # the field is longer than this many bytes
//! ignore_case = false         # ASCII case-insensitive literals and regex
//! decode = false              # also match the percent-decoded field
//!
//! [[rule.when]]               # more conditions, all of which must hold,
//! field = "user_agent"        # each with the same keys as above
//! any = ["() {"]
//! ```
//!
//! Fields: `line` (the whole raw line, the default), `request`, `method`,
//! `target`, `path` (the target before `?`), `query` (after `?`), `protocol`,
//! `status`, `referrer`, `user_agent`, `vhost`, `client`. A field the line
//! does not have is empty.
//!
//! Literals are matched on raw bytes and are case-sensitive unless
//! `ignore_case` is set. `count` counts occurrences left to right without
//! overlap, as Python's `str.count` does, so `...` contains one `..`.
//! `decode` makes the condition hold when it holds on the field as written,
//! after one round of percent-decoding, or after two (`%252e` is `.`); in the
//! query, `+` also decodes to a space, and overlong UTF-8 forms of `.`, `/`
//! and `\` (`%c0%af`) decode to the ASCII character.
//!
//! A `regex` needs a literal in `all` or `any` of the same rule, because
//! hp only looks at lines where some literal occurs.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

use crate::input::MAX_LINE_BYTES;

/// The built-in packs, embedded in the binaries at build time.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("classic", include_str!("../rules/classic.toml")),
    ("extended", include_str!("../rules/extended.toml")),
];

/// The packs loaded when the user names none.
pub const DEFAULT_PACKS: &[&str] = &["extended"];

/// Maximum total bytes of all `all`, `any` and `none` literals of a rule
/// set. Every literal goes into one Aho-Corasick automaton, whose state ids
/// are 32-bit; this cap keeps the automaton far below that limit, so that
/// building it cannot fail.
pub const MAX_LITERAL_BYTES: usize = 16 * 1024 * 1024;

/// Largest compiled size of one rule's regex, in bytes. The `regex` crate
/// matches in linear time, but a huge program is still slow to build.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The severity of a detection.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    Low,
    Medium,
    High,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Low => "low",
            Impact::Medium => "medium",
            Impact::High => "high",
        }
    }

    /// Weight for `hp-correlate --score`: high 3, medium 2, low 1.
    pub fn weight(self) -> u64 {
        match self {
            Impact::Low => 1,
            Impact::Medium => 2,
            Impact::High => 3,
        }
    }

    pub fn parse(text: &str) -> Option<Impact> {
        match text {
            "low" => Some(Impact::Low),
            "medium" => Some(Impact::Medium),
            "high" => Some(Impact::High),
            _ => None,
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of a log line that a condition searches.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Line,
    Request,
    Method,
    Target,
    Path,
    Query,
    Protocol,
    Status,
    Referrer,
    UserAgent,
    Vhost,
    Client,
}

/// One field name or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "invalid field: expected one of line, request, method, target, path, query, protocol, status, referrer, user_agent, vhost, client, or a list of them"
)]
enum FieldsDoc {
    One(Field),
    Many(Vec<Field>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountDoc {
    literal: String,
    more_than: u64,
}

/// A condition as written in `[[rule.when]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionDoc {
    field: Option<FieldsDoc>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    count: Option<CountDoc>,
    regex: Option<String>,
    longer_than: Option<usize>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    decode: bool,
}

/// A rule as written. The condition keys repeat those of [`ConditionDoc`]
/// because serde cannot flatten a struct that rejects unknown keys.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    id: toml::Spanned<String>,
    name: String,
    impact: Impact,
    group: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    mitre: Option<String>,
    description: Option<String>,
    status: Option<Vec<u16>>,
    method: Option<Vec<String>>,

    field: Option<FieldsDoc>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    count: Option<CountDoc>,
    regex: Option<String>,
    longer_than: Option<usize>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    decode: bool,

    #[serde(default)]
    when: Vec<ConditionDoc>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackDoc {
    name: String,
    description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileDoc {
    pack: Option<PackDoc>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleDoc>,
}

/// A counted literal: the condition holds when the literal occurs more than
/// `more_than` times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Count {
    pub literal: Vec<u8>,
    pub more_than: u64,
}

/// One condition of a rule; every part that is set must hold.
#[derive(Clone, Debug)]
pub struct Condition {
    /// The condition holds when it holds on any of these fields.
    pub fields: Vec<Field>,
    pub all: Vec<Vec<u8>>,
    pub any: Vec<Vec<u8>>,
    pub none: Vec<Vec<u8>>,
    pub count: Option<Count>,
    pub regex: Option<regex::bytes::Regex>,
    pub longer_than: Option<usize>,
    pub ignore_case: bool,
    pub decode: bool,
}

/// A validated rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub impact: Impact,
    pub group: Option<String>,
    pub tags: Vec<String>,
    pub mitre: Option<String>,
    pub description: Option<String>,
    /// Fire only on these statuses; `None` means any status.
    pub status: Option<Vec<u16>>,
    /// Fire only on these methods; `None` means any method.
    pub methods: Option<Vec<Vec<u8>>>,
    /// Every condition must hold.
    pub conditions: Vec<Condition>,
    /// The pack (or the file) the rule came from.
    pub pack: String,
}

/// A loaded pack or user file, for `--list-rules`.
#[derive(Clone, Debug)]
pub struct PackInfo {
    pub name: String,
    pub description: Option<String>,
    /// `builtin` for embedded packs, else the file path.
    pub origin: String,
}

/// A failure to load rules. Each message names the file and, where known,
/// the line and the rule.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("cannot read rule file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid rule file {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("invalid rule '{id}' in {path} line {line}: {message}")]
    Invalid { path: String, line: usize, id: String, message: String },
    #[error("duplicate rule id '{id}' in {path} line {line}: it is already defined in {first}; {fix}")]
    Duplicate { path: String, line: usize, id: String, first: String, fix: &'static str },
    #[error(
        "rules too large after loading {path}: their literals take {bytes} bytes, more than the {MAX_LITERAL_BYTES} \
         that one automaton is built for; split the rules across runs"
    )]
    TooLarge { path: String, bytes: usize },
    #[error("unknown rule pack '{name}': the built-in packs are {known}")]
    UnknownPack { name: String, known: String },
    #[error("no rules are loaded: name a pack with --pack or a file with --rules")]
    Empty,
}

/// An ordered set of rules from packs and files.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    packs: Vec<PackInfo>,
}

impl RuleSet {
    /// Loads the given built-in packs, then the given files, in that order.
    pub fn load(packs: &[&str], files: &[impl AsRef<Path>]) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for pack in packs {
            set.add_builtin(pack)?;
        }
        for file in files {
            set.add_file(file.as_ref())?;
        }
        if set.rules.is_empty() {
            return Err(RuleError::Empty);
        }
        Ok(set)
    }

    /// Adds a built-in pack by name.
    pub fn add_builtin(&mut self, name: &str) -> Result<(), RuleError> {
        let Some((_, text)) = BUILTIN_PACKS.iter().find(|(pack, _)| *pack == name) else {
            let known = BUILTIN_PACKS.iter().map(|(pack, _)| *pack).collect::<Vec<_>>().join(", ");
            return Err(RuleError::UnknownPack { name: name.to_owned(), known });
        };
        self.add_text(text, &format!("rules/{name}.toml"), name, "builtin")
    }

    /// Adds a user's rule file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), RuleError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| RuleError::Read { path: shown.clone(), source })?;
        self.add_text(&text, &shown, &shown, &shown)
    }

    /// Parses and validates rule-file text. `path` names it in errors;
    /// `pack` is the pack name used when the file has no `[pack]` table.
    pub fn add_text(&mut self, text: &str, path: &str, pack: &str, origin: &str) -> Result<(), RuleError> {
        let doc: RuleFileDoc = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;

        let pack_name = doc.pack.as_ref().map_or_else(|| pack.to_owned(), |p| p.name.clone());
        let mut seen: HashMap<String, String> =
            self.rules.iter().map(|r| (r.id.clone(), r.pack.clone())).collect();

        let mut added = Vec::with_capacity(doc.rules.len());
        for rule_doc in doc.rules {
            let line = line_of(text, rule_doc.id.span().start);
            let id = rule_doc.id.get_ref().clone();
            if let Some(first) = seen.get(&id) {
                // Built-in packs cannot be edited, so the fix is to load fewer.
                let builtin = origin == "builtin" || BUILTIN_PACKS.iter().any(|(pack, _)| pack == first);
                let fix = if builtin {
                    "load only one of the packs that define it (see --list-rules), or give your rule another id"
                } else {
                    "give the rule another id"
                };
                return Err(RuleError::Duplicate { path: path.to_owned(), line, id, first: first.clone(), fix });
            }
            let rule = build_rule(rule_doc, &pack_name).map_err(|message| RuleError::Invalid {
                path: path.to_owned(),
                line,
                id: id.clone(),
                message,
            })?;
            seen.insert(id, pack_name.clone());
            added.push(rule);
        }

        self.rules.extend(added);
        let literal_bytes: usize = self
            .rules
            .iter()
            .flat_map(|rule| &rule.conditions)
            .flat_map(|condition| condition.all.iter().chain(&condition.any).chain(&condition.none))
            .map(Vec::len)
            .sum();
        if literal_bytes > MAX_LITERAL_BYTES {
            return Err(RuleError::TooLarge { path: path.to_owned(), bytes: literal_bytes });
        }
        self.packs.push(PackInfo {
            name: pack_name,
            description: doc.pack.and_then(|p| p.description),
            origin: origin.to_owned(),
        });
        Ok(())
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn packs(&self) -> &[PackInfo] {
        &self.packs
    }

    /// Appends an already validated rule, for lookups that merge packs.
    pub(crate) fn push_rule(&mut self, rule: Rule) {
        self.rules.push(rule);
    }

    /// Finds a rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// Writes the loaded packs and rules for `--list-rules`: one line per pack,
/// then one line per rule with its id, impact, pack and name.
pub fn write_listing(set: &RuleSet, out: &mut impl std::io::Write) -> std::io::Result<()> {
    for pack in set.packs() {
        let count = set.rules().iter().filter(|rule| rule.pack == pack.name).count();
        writeln!(out, "pack {} ({}, {count} rules): {}", pack.name, pack.origin, pack.description.as_deref().unwrap_or("-"))?;
    }
    writeln!(out)?;
    // Capped: a format width above 65,535 panics, and an id may be that long.
    let id_width = set.rules().iter().map(|rule| rule.id.len()).max().unwrap_or(0).min(40);
    for rule in set.rules() {
        writeln!(out, "{:<id_width$}  {:<6}  {:<12}  {}", rule.id, rule.impact.as_str(), rule.pack, rule.name)?;
    }
    Ok(())
}

/// Describes a TOML or schema error with its line, the rule it sits in,
/// and for an unknown key the closest known one.
fn syntax_error(text: &str, path: &str, error: &toml::de::Error) -> RuleError {
    let Some(span) = error.span() else {
        return RuleError::Syntax { path: path.to_owned(), message: error.message().to_owned() };
    };
    let line = line_of(text, span.start);

    let mut message = format!("line {line}");
    if let Some(id) = enclosing_rule_id(text, line) {
        message.push_str(&format!(", rule '{id}'"));
    }
    message.push_str(": ");
    message.push_str(error.message());
    if let Some(suggestion) = suggest_key(error.message()) {
        message.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    RuleError::Syntax { path: path.to_owned(), message }
}

/// Finds the `id` of the `[[rule]]` table that contains `line` by reading
/// the text, since a document that failed to parse has no rules to ask.
fn enclosing_rule_id(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let end = line.min(lines.len());
    let header = lines[..end].iter().rposition(|l| l.trim() == "[[rule]]")?;
    lines[header + 1..]
        .iter()
        .take_while(|l| !l.trim().starts_with("[[rule]]"))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "id").then(|| value.trim().trim_matches(['"', '\'']).to_owned())
        })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" message, the
/// expected key closest to `x`, when one is close enough to be a typo.
fn suggest_key(message: &str) -> Option<String> {
    let unknown = message.strip_prefix("unknown field `")?.split('`').next()?;
    let expected = message.split_once("expected")?.1;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.to_owned())
}

/// 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

fn build_rule(doc: RuleDoc, pack: &str) -> Result<Rule, String> {
    let id = doc.id.into_inner();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
        return Err("an id is letters, digits, '-', '_' and '.' only".to_owned());
    }
    if doc.name.trim().is_empty() {
        return Err("the name is empty".to_owned());
    }

    let top = ConditionDoc {
        field: doc.field,
        all: doc.all,
        any: doc.any,
        none: doc.none,
        count: doc.count,
        regex: doc.regex,
        longer_than: doc.longer_than,
        ignore_case: doc.ignore_case,
        decode: doc.decode,
    };
    let top_is_empty = top.field.is_none()
        && top.all.is_empty()
        && top.any.is_empty()
        && top.none.is_empty()
        && top.count.is_none()
        && top.regex.is_none()
        && top.longer_than.is_none();

    let mut conditions = Vec::new();
    if !top_is_empty {
        conditions.push(build_condition(top).map_err(|e| format!("{e}"))?);
    }
    for (index, when) in doc.when.into_iter().enumerate() {
        conditions.push(build_condition(when).map_err(|e| format!("[[rule.when]] number {}: {e}", index + 1))?);
    }
    if conditions.is_empty() {
        return Err("the rule is empty: give it at least one of all, any, count, regex or longer_than".to_owned());
    }

    let has_literal = conditions.iter().any(|c| !c.all.is_empty() || !c.any.is_empty());
    if conditions.iter().any(|c| c.regex.is_some()) && !has_literal {
        return Err(
            "a rule with a regex needs a literal in 'all' or 'any' as well, so that lines without it are skipped fast"
                .to_owned(),
        );
    }
    if doc.status.as_ref().is_some_and(|s| s.is_empty()) || doc.method.as_ref().is_some_and(|m| m.is_empty()) {
        return Err("an empty 'status' or 'method' list never matches; drop the key to allow any".to_owned());
    }
    if let Some(status) = doc.status.as_ref().and_then(|s| s.iter().find(|s| !(100..=999).contains(*s))) {
        return Err(format!("status {status} is not a three-digit HTTP status"));
    }

    Ok(Rule {
        id,
        name: doc.name,
        impact: doc.impact,
        group: doc.group,
        tags: doc.tags,
        mitre: doc.mitre,
        description: doc.description,
        status: doc.status,
        methods: doc.method.map(|m| m.into_iter().map(String::into_bytes).collect()),
        conditions,
        pack: pack.to_owned(),
    })
}

fn build_condition(doc: ConditionDoc) -> Result<Condition, String> {
    let fields = match doc.field {
        None => vec![Field::Line],
        Some(FieldsDoc::One(field)) => vec![field],
        Some(FieldsDoc::Many(fields)) if fields.is_empty() => return Err("'field' is an empty list".to_owned()),
        Some(FieldsDoc::Many(fields)) => fields,
    };

    let positive = !doc.all.is_empty()
        || !doc.any.is_empty()
        || doc.count.is_some()
        || doc.regex.is_some()
        || doc.longer_than.is_some();
    if !positive {
        return Err("the condition is empty: give it at least one of all, any, count, regex or longer_than".to_owned());
    }
    for literal in doc.all.iter().chain(&doc.any).chain(&doc.none) {
        if literal.is_empty() {
            return Err("an empty literal matches every line; remove it".to_owned());
        }
    }

    let count = match doc.count {
        None => None,
        Some(count) if count.literal.is_empty() => return Err("'count.literal' is empty".to_owned()),
        Some(count) if count.more_than >= MAX_LINE_BYTES as u64 => {
            return Err(format!(
                "'count.more_than' is {}, but a line holds at most {MAX_LINE_BYTES} bytes, so the rule could never fire",
                count.more_than
            ));
        }
        Some(count) => Some(Count { literal: count.literal.into_bytes(), more_than: count.more_than }),
    };
    if doc.longer_than.is_some_and(|n| n >= MAX_LINE_BYTES) {
        return Err(format!("'longer_than' must be below the maximum line length of {MAX_LINE_BYTES} bytes"));
    }

    let regex = match doc.regex {
        None => None,
        Some(pattern) => Some(
            regex::bytes::RegexBuilder::new(&pattern)
                .case_insensitive(doc.ignore_case)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| format!("invalid regex {pattern:?}: {e}"))?,
        ),
    };

    Ok(Condition {
        fields,
        all: doc.all.into_iter().map(String::into_bytes).collect(),
        any: doc.any.into_iter().map(String::into_bytes).collect(),
        none: doc.none.into_iter().map(String::into_bytes).collect(),
        count,
        regex,
        longer_than: doc.longer_than,
        ignore_case: doc.ignore_case,
        decode: doc.decode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add_text(text, "mine.toml", "mine", "mine.toml")?;
        Ok(set)
    }

    #[test]
    fn classic_pack_loads_fifteen_rules() {
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        assert_eq!(set.rules().len(), 15);
        assert_eq!(set.rules()[0].id, "phpmyadmin-login");
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\ncontain = [\"a\"]\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("mine.toml"), "{message}");
        assert!(message.contains("contain"), "{message}");
        assert!(message.contains("line 5"), "{message}");
        assert!(message.contains("rule 'x'"), "{message}");
    }

    #[test]
    fn typo_gets_a_suggestion() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\nignorecase = true\nall = [\"a\"]\n").unwrap_err();
        assert!(err.to_string().contains("did you mean `ignore_case`?"), "{err}");
    }

    #[test]
    fn duplicate_id_is_rejected() {
        let rule = "[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\nall = [\"a\"]\n";
        let err = load(&format!("{rule}{rule}")).unwrap_err();
        assert!(matches!(err, RuleError::Duplicate { line: 7, .. }), "{err}");
    }

    #[test]
    fn empty_rule_is_rejected() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\n").unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn bad_regex_is_rejected() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\nall = [\"a\"]\nregex = \"(\"\n").unwrap_err();
        assert!(err.to_string().contains("invalid regex"), "{err}");
    }

    #[test]
    fn regex_without_literal_is_rejected() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\nregex = \"a+\"\n").unwrap_err();
        assert!(err.to_string().contains("needs a literal"), "{err}");
    }

    #[test]
    fn huge_count_is_rejected() {
        let err = load("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\ncount = { literal = \"a\", more_than = 99999999999 }\n")
            .unwrap_err();
        assert!(err.to_string().contains("never fire"), "{err}");
    }

    #[test]
    fn oversized_literals_are_rejected() {
        let literal = "a".repeat(MAX_LITERAL_BYTES + 1);
        let err = load(&format!("[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\nall = [\"{literal}\"]\n")).unwrap_err();
        assert!(matches!(err, RuleError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn unknown_pack_lists_known() {
        let err = RuleSet::load(&["nope"], &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("classic"), "{err}");
    }

    #[test]
    fn field_list_and_when_parse() {
        let set = load(
            "[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"high\"\nfield = [\"user_agent\", \"referrer\"]\nany = [\"() {\"]\n\
             [[rule.when]]\nfield = \"status\"\nall = [\"4\"]\n",
        )
        .unwrap();
        let rule = &set.rules()[0];
        assert_eq!(rule.conditions.len(), 2);
        assert_eq!(rule.conditions[0].fields, vec![Field::UserAgent, Field::Referrer]);
    }
}
