//! Settings of the XDR tools: regions, base URLs, credentials, the honeypot
//! and the blocking feed.
//!
//! Values come from three layers, and a later layer overrides an earlier one:
//!
//! 1. the config file (`--config FILE`, default `$XDG_CONFIG_HOME/hp/xdr.toml`),
//!    either TOML with the keys of [`FileSettings`] or the original
//!    `config.txt` key=value format (`ctr_client_id`, `ctr_client_password`,
//!    `host`, `host_for_token`);
//! 2. the environment: `HP_XDR_CLIENT_ID` and `HP_XDR_CLIENT_PASSWORD`;
//! 3. command-line flags ([`Overrides`]). There is no flag for the password.
//!
//! A config file that contains a password and can be read by group or others
//! produces a warning (not a refusal), so a cron job keeps running while the
//! warning names the fix, `chmod 600`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};
use super::secret::Secret;

/// Environment variable with the API client id.
pub const ENV_CLIENT_ID: &str = "HP_XDR_CLIENT_ID";
/// Environment variable with the API client password.
pub const ENV_CLIENT_PASSWORD: &str = "HP_XDR_CLIENT_PASSWORD";

pub const DEFAULT_PREFIX: &str = "hp";
pub const DEFAULT_SOURCE: &str = "hp-honeypot";
pub const DEFAULT_JUDGEMENT_DAYS: u32 = 30;
/// Default cap on entities per bundle: well under CTIA's default bulk
/// max-size of 2000, because the production limit is not published.
pub const DEFAULT_MAX_ENTITIES: usize = 500;
/// Titles that the standard Secure Firewall feed setup gives its indicators.
pub const DEFAULT_IPV4_INDICATOR_TITLE: &str = "Secure_Firewall_SecureX_Indicator_IPv4";
pub const DEFAULT_IPV6_INDICATOR_TITLE: &str = "Secure_Firewall_SecureX_Indicator_IPv6";

/// An XDR region. Each has a platform host (token, IROH) and a private
/// intelligence host (CTIA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
    Apjc,
}

impl Region {
    pub fn parse(text: &str, origin: &str) -> Result<Region> {
        match text.trim().to_ascii_lowercase().as_str() {
            "us" | "" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            "apjc" => Ok(Region::Apjc),
            other => Err(Error::config(
                origin,
                format!("unknown region '{other}'; use us, eu or apjc"),
            )),
        }
    }

    /// Returns the platform (IROH) base URL of the region.
    pub fn iroh_url(self) -> &'static str {
        match self {
            Region::Us => "https://visibility.amp.cisco.com",
            Region::Eu => "https://visibility.eu.amp.cisco.com",
            Region::Apjc => "https://visibility.apjc.amp.cisco.com",
        }
    }

    /// Returns the private intelligence (CTIA) base URL of the region.
    pub fn ctia_url(self) -> &'static str {
        match self {
            Region::Us => "https://private.intel.amp.cisco.com",
            Region::Eu => "https://private.intel.eu.amp.cisco.com",
            Region::Apjc => "https://private.intel.apjc.amp.cisco.com",
        }
    }
}

/// The scheme, host and port of a server, without a path. Requests that
/// carry the bearer token go only to URLs with the same origin as one of
/// the two configured base URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    scheme: String,
    host: String,
    port: u16,
}

impl BaseUrl {
    /// Parses a base URL. Only `https` is accepted, except `http` to a
    /// loopback host when `allow_http_loopback` is set (tests, the demo).
    pub fn parse(text: &str, origin: &str, allow_http_loopback: bool) -> Result<BaseUrl> {
        let trimmed = text.trim().trim_end_matches('/');
        let Some(url) = Origin::parse(trimmed) else {
            return Err(Error::config(
                origin,
                format!("'{trimmed}' is not a URL of the form https://host[:port]"),
            ));
        };
        if !url.path.is_empty() {
            return Err(Error::config(
                origin,
                format!("'{trimmed}' has a path; give only https://host[:port]"),
            ));
        }

        match url.scheme.as_str() {
            "https" => {}
            "http" if is_loopback_host(&url.host) && allow_http_loopback => {}
            "http" if is_loopback_host(&url.host) => {
                return Err(Error::config(
                    origin,
                    format!(
                        "'{trimmed}' uses plain http; add --allow-http-loopback to allow it for a local test server"
                    ),
                ));
            }
            _ => {
                return Err(Error::config(
                    origin,
                    format!(
                        "'{trimmed}' is not https; plain http is allowed only to a loopback host with --allow-http-loopback"
                    ),
                ));
            }
        }

        Ok(BaseUrl {
            scheme: url.scheme,
            host: url.host,
            port: url.port,
        })
    }

    /// Returns `scheme://host[:port]`, with the port only when it is not
    /// the scheme's default.
    pub fn as_string(&self) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default_port {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// Returns whether `url` is on this origin (scheme, host and port).
    pub fn owns(&self, url: &str) -> bool {
        match Origin::parse(url) {
            Some(other) => {
                other.scheme == self.scheme
                    && other.host.eq_ignore_ascii_case(&self.host)
                    && other.port == self.port
            }
            None => false,
        }
    }
}

/// A URL split into origin and path. Only what the origin check needs:
/// no user info, no percent-decoding of the host.
struct Origin {
    scheme: String,
    host: String,
    port: u16,
    path: String,
}

impl Origin {
    fn parse(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };

        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }

        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse().ok()?,
                None if after.is_empty() => default_port,
                None => return None,
            };
            (host.to_string(), port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host.to_string(), port.parse().ok()?),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return None;
        }

        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path: path.to_string(),
        })
    }
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The keys a TOML config file may contain. Unknown keys are an error, so a
/// typo does not silently fall back to a default.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub region: Option<String>,
    pub client_id: Option<String>,
    pub client_password: Option<String>,
    pub iroh_url: Option<String>,
    pub ctia_url: Option<String>,
    pub prefix: Option<String>,
    pub source: Option<String>,
    pub honeypot_name: Option<String>,
    pub honeypot_hostname: Option<String>,
    pub honeypot_ip: Option<String>,
    pub honeypot_mac: Option<String>,
    pub feed: Option<bool>,
    pub ipv4_indicator_id: Option<String>,
    pub ipv6_indicator_id: Option<String>,
    pub ipv4_indicator_title: Option<String>,
    pub ipv6_indicator_title: Option<String>,
    pub judgement_days: Option<u32>,
    pub max_entities: Option<usize>,
}

/// A config file after parsing, with the warnings to print about it.
#[derive(Debug)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub settings: FileSettings,
    pub warnings: Vec<String>,
}

/// Returns the default config file path, `$XDG_CONFIG_HOME/hp/xdr.toml`
/// (or `~/.config/hp/xdr.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("hp").join("xdr.toml"))
}

/// Reads a config file in either format and checks its permissions.
pub fn load_file(path: &Path) -> Result<LoadedFile> {
    let origin = format!("config file {}", path.display());
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::config(&origin, format!("cannot read it: {err}")))?;

    let settings = if looks_like_legacy(&text) {
        parse_legacy(&text, &origin)?
    } else {
        parse_toml(&text, &origin)?
    };

    let mut warnings = Vec::new();
    if settings.client_password.is_some()
        && let Some(warning) = permission_warning(path)
    {
        warnings.push(warning);
    }

    Ok(LoadedFile {
        path: path.to_path_buf(),
        settings,
        warnings,
    })
}

/// Parses the TOML config format.
pub fn parse_toml(text: &str, origin: &str) -> Result<FileSettings> {
    toml::from_str(text).map_err(|err| Error::config(origin, err.message().to_string()))
}

const LEGACY_KEYS: [&str; 4] = [
    "ctr_client_id",
    "ctr_client_password",
    "host",
    "host_for_token",
];

fn looks_like_legacy(text: &str) -> bool {
    text.lines().any(|line| {
        line.split_once('=')
            .is_some_and(|(key, _)| LEGACY_KEYS.contains(&key.trim()))
    })
}

/// Parses the original `config.txt` format: `key=value` lines, split at the
/// first `=` so a password that contains `=` survives. Leading and trailing
/// whitespace of keys and values is removed. `host` is the CTIA base URL and
/// `host_for_token` the IROH base URL. Other keys of that file are ignored,
/// except near misses of these four, which are reported as typos.
pub fn parse_legacy(text: &str, origin: &str) -> Result<FileSettings> {
    let mut settings = FileSettings::default();

    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::config(
                origin,
                format!("line {} has no '=': expected key=value", index + 1),
            ));
        };

        let value = Some(value.trim().to_string());
        match key.trim() {
            "ctr_client_id" => settings.client_id = value,
            "ctr_client_password" => settings.client_password = value,
            "host" => settings.ctia_url = value,
            "host_for_token" => settings.iroh_url = value,
            other => {
                // Keys the original tool did not read are ignored, but a
                // near miss of a known key is a typo that would otherwise
                // surface later as "no credentials".
                let closest = LEGACY_KEYS
                    .iter()
                    .map(|known| (strsim::jaro_winkler(other, known), known))
                    .filter(|(score, _)| *score > 0.9)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, known)| known);
                if let Some(known) = closest {
                    return Err(Error::config(
                        origin,
                        format!("line {}: unknown key '{other}'; did you mean '{known}'?", index + 1),
                    ));
                }
            }
        }
    }

    Ok(settings)
}

#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;

    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    Some(format!(
        "config file {} contains the client password and can be read by group or others (mode {:o}); \
         restrict it with: chmod 600 {}",
        path.display(),
        mode,
        path.display()
    ))
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path) -> Option<String> {
    None
}

/// Values given on the command line. Every field overrides the file and the
/// environment when set.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub region: Option<String>,
    pub iroh_url: Option<String>,
    pub ctia_url: Option<String>,
    pub allow_http_loopback: bool,
    pub prefix: Option<String>,
    pub source: Option<String>,
    pub honeypot_name: Option<String>,
    pub honeypot_hostname: Option<String>,
    pub honeypot_ip: Option<String>,
    pub honeypot_mac: Option<String>,
    pub feed: Option<bool>,
    pub judgement_days: Option<u32>,
    pub max_entities: Option<usize>,
}

/// The API client credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub client_id: String,
    pub password: Secret,
}

/// The honeypot that the attackers connected to: the sighting's target.
#[derive(Clone, Debug)]
pub struct Honeypot {
    /// Name in titles and in the incident's external id.
    pub name: String,
    pub hostname: String,
    pub ip: IpAddr,
    pub mac: Option<String>,
}

/// The reference to the indicator of one address family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndicatorRef {
    /// A full CTIA id, used as is.
    Id(String),
    /// A title, looked up at run time; exactly one indicator must match.
    Title(String),
}

/// Blocking-feed settings: where the judgements of each family are linked.
#[derive(Clone, Debug)]
pub struct FeedSettings {
    pub ipv4: IndicatorRef,
    pub ipv6: IndicatorRef,
}

/// The resolved settings that the tools run with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub iroh: BaseUrl,
    pub ctia: BaseUrl,
    /// `None` when neither the environment nor the file gives both values;
    /// a dry run needs none.
    pub credentials: Option<Credentials>,
    pub prefix: String,
    pub source: String,
    pub feed: Option<FeedSettings>,
    pub judgement_days: u32,
    pub max_entities: usize,
    honeypot_name: Option<String>,
    honeypot_hostname: Option<String>,
    honeypot_ip: Option<String>,
    honeypot_mac: Option<String>,
}

impl Settings {
    /// Combines the layers. `env` looks up an environment variable, so tests
    /// can pass a map.
    pub fn resolve(
        file: Option<&LoadedFile>,
        env: impl Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Settings> {
        let empty = FileSettings::default();
        let (file_settings, file_origin) = match file {
            Some(loaded) => (
                &loaded.settings,
                format!("config file {}", loaded.path.display()),
            ),
            None => (&empty, "the defaults".to_string()),
        };

        let (region, region_origin) = pick(
            &flags.region,
            "--region",
            &file_settings.region,
            &file_origin,
        );
        let region = match region {
            Some(text) => Region::parse(&text, &region_origin)?,
            None => Region::Us,
        };

        let (iroh, iroh_origin) = pick(
            &flags.iroh_url,
            "--iroh-url",
            &file_settings.iroh_url,
            &file_origin,
        );
        let iroh = iroh.unwrap_or_else(|| region.iroh_url().to_string());
        let iroh = BaseUrl::parse(&iroh, &iroh_origin, flags.allow_http_loopback)?;

        let (ctia, ctia_origin) = pick(
            &flags.ctia_url,
            "--ctia-url",
            &file_settings.ctia_url,
            &file_origin,
        );
        let ctia = ctia.unwrap_or_else(|| region.ctia_url().to_string());
        let ctia = BaseUrl::parse(&ctia, &ctia_origin, flags.allow_http_loopback)?;

        let credentials = resolve_credentials(file_settings, &env);

        let (prefix, prefix_origin) = pick(
            &flags.prefix,
            "--prefix",
            &file_settings.prefix,
            &file_origin,
        );
        let prefix = prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string());
        check_prefix(&prefix, &prefix_origin)?;

        let (source, source_origin) = pick(
            &flags.source,
            "--source",
            &file_settings.source,
            &file_origin,
        );
        let source = source.unwrap_or_else(|| DEFAULT_SOURCE.to_string());
        if source.trim().is_empty() || source.len() > 2048 {
            return Err(Error::config(
                source_origin,
                "source must be 1 to 2048 characters",
            ));
        }

        let feed_enabled = flags.feed.or(file_settings.feed).unwrap_or(false);
        let feed = feed_enabled.then(|| FeedSettings {
            ipv4: indicator_ref(
                &file_settings.ipv4_indicator_id,
                &file_settings.ipv4_indicator_title,
                DEFAULT_IPV4_INDICATOR_TITLE,
            ),
            ipv6: indicator_ref(
                &file_settings.ipv6_indicator_id,
                &file_settings.ipv6_indicator_title,
                DEFAULT_IPV6_INDICATOR_TITLE,
            ),
        });
        if let Some(feed) = &feed {
            for (indicator, key) in [
                (&feed.ipv4, "ipv4_indicator_id"),
                (&feed.ipv6, "ipv6_indicator_id"),
            ] {
                if let IndicatorRef::Id(id) = indicator
                    && (!ctia.owns(id) || !id.contains("/ctia/indicator/"))
                {
                    return Err(Error::config(
                        format!("{file_origin}, key {key}"),
                        format!(
                            "'{id}' is not an indicator id on {}; expected {}/ctia/indicator/indicator-<uuid>",
                            ctia.as_string(),
                            ctia.as_string()
                        ),
                    ));
                }
            }
        }

        let judgement_days = flags
            .judgement_days
            .or(file_settings.judgement_days)
            .unwrap_or(DEFAULT_JUDGEMENT_DAYS);
        if judgement_days == 0 || judgement_days > 3650 {
            return Err(Error::config(
                "judgement_days",
                format!("{judgement_days} is out of range; use 1 to 3650 days"),
            ));
        }

        let max_entities = flags
            .max_entities
            .or(file_settings.max_entities)
            .unwrap_or(DEFAULT_MAX_ENTITIES);
        if max_entities < super::bundle::MIN_ENTITIES {
            return Err(Error::config(
                "max_entities",
                format!(
                    "{max_entities} is too small; a bundle needs at least {} entities for one attacker",
                    super::bundle::MIN_ENTITIES
                ),
            ));
        }

        Ok(Settings {
            iroh,
            ctia,
            credentials,
            prefix,
            source,
            feed,
            judgement_days,
            max_entities,
            honeypot_name: flags
                .honeypot_name
                .clone()
                .or(file_settings.honeypot_name.clone()),
            honeypot_hostname: flags
                .honeypot_hostname
                .clone()
                .or(file_settings.honeypot_hostname.clone()),
            honeypot_ip: flags
                .honeypot_ip
                .clone()
                .or(file_settings.honeypot_ip.clone()),
            honeypot_mac: flags
                .honeypot_mac
                .clone()
                .or(file_settings.honeypot_mac.clone()),
        })
    }

    /// Returns the honeypot description, which only hp-xdr needs.
    pub fn honeypot(&self) -> Result<Honeypot> {
        let Some(hostname) = self
            .honeypot_hostname
            .clone()
            .filter(|h| !h.trim().is_empty())
        else {
            return Err(Error::config(
                "honeypot_hostname",
                "missing; set honeypot_hostname in the config file or pass --honeypot-hostname",
            ));
        };
        let Some(ip_text) = self.honeypot_ip.clone() else {
            return Err(Error::config(
                "honeypot_ip",
                "missing; set honeypot_ip in the config file or pass --honeypot-ip",
            ));
        };
        let ip = ip_text.trim().parse::<IpAddr>().map_err(|_| {
            Error::config(
                "honeypot_ip",
                format!("'{ip_text}' is not an IPv4 or IPv6 address"),
            )
        })?;
        let name = self
            .honeypot_name
            .clone()
            .unwrap_or_else(|| hostname.clone());

        Ok(Honeypot {
            name,
            hostname,
            ip: ip.to_canonical(),
            mac: self.honeypot_mac.clone(),
        })
    }

    /// Returns the credentials, or an error that names where to set them.
    pub fn require_credentials(&self) -> Result<&Credentials> {
        self.credentials.as_ref().ok_or_else(|| {
            Error::config(
                "the environment and the config file",
                format!("no API client credentials; set {ENV_CLIENT_ID} and {ENV_CLIENT_PASSWORD}, or client_id and client_password in the config file"),
            )
        })
    }
}

/// Returns the flag value if set, else the file value, with the name of
/// where it came from for error messages.
fn pick(
    flag: &Option<String>,
    flag_name: &str,
    file: &Option<String>,
    file_origin: &str,
) -> (Option<String>, String) {
    match (flag, file) {
        (Some(value), _) => (Some(value.clone()), flag_name.to_string()),
        (None, Some(value)) => (Some(value.clone()), file_origin.to_string()),
        (None, None) => (None, "the defaults".to_string()),
    }
}

fn resolve_credentials(
    file: &FileSettings,
    env: &impl Fn(&str) -> Option<String>,
) -> Option<Credentials> {
    let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
    let client_id = non_empty(env(ENV_CLIENT_ID)).or_else(|| non_empty(file.client_id.clone()))?;
    let password =
        non_empty(env(ENV_CLIENT_PASSWORD)).or_else(|| non_empty(file.client_password.clone()))?;
    Some(Credentials {
        client_id,
        password: Secret::new(password),
    })
}

fn indicator_ref(id: &Option<String>, title: &Option<String>, default_title: &str) -> IndicatorRef {
    match (id, title) {
        (Some(id), _) => IndicatorRef::Id(id.trim().to_string()),
        (None, Some(title)) => IndicatorRef::Title(title.trim().to_string()),
        (None, None) => IndicatorRef::Title(default_title.to_string()),
    }
}

/// The prefix starts every external id and is matched by
/// `external-key-prefixes`, so it must be short, lowercase and free of the
/// separators that the query string and the id format use.
fn check_prefix(prefix: &str, origin: &str) -> Result<()> {
    let valid = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && prefix.starts_with(|c: char| c.is_ascii_lowercase());
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            origin,
            format!(
                "prefix '{prefix}' is invalid; use 1 to 32 lowercase letters, digits or '_', starting with a letter"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn loaded(settings: FileSettings) -> LoadedFile {
        LoadedFile {
            path: PathBuf::from("/etc/hp/xdr.toml"),
            settings,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn legacy_typo_is_an_error() {
        let error = parse_legacy("ctr_client_id=a\nctr_client_pasword=x\nmethod=basic\n", "config.txt")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("did you mean 'ctr_client_password'"), "{error}");
    }

    #[test]
    fn legacy_password_keeps_equals_signs() {
        let text = "ctr_client_id=client-abc\nctr_client_password=pa=ss==word\nhost=https://private.intel.eu.amp.cisco.com\nhost_for_token=https://visibility.eu.amp.cisco.com\n";
        assert!(looks_like_legacy(text));
        let settings = parse_legacy(text, "test").unwrap();
        assert_eq!(settings.client_id.as_deref(), Some("client-abc"));
        assert_eq!(settings.client_password.as_deref(), Some("pa=ss==word"));
        assert_eq!(
            settings.ctia_url.as_deref(),
            Some("https://private.intel.eu.amp.cisco.com")
        );
        assert_eq!(
            settings.iroh_url.as_deref(),
            Some("https://visibility.eu.amp.cisco.com")
        );
    }

    #[test]
    fn toml_rejects_unknown_key() {
        let err = parse_toml("regoin = \"eu\"\n", "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("regoin"), "{err}");
    }

    #[test]
    fn toml_reads_every_kind_of_value() {
        let text = "region = \"eu\"\nclient_password = \"a=b\"\nfeed = true\njudgement_days = 7\nmax_entities = 20\n";
        let settings = parse_toml(text, "test").unwrap();
        assert_eq!(settings.region.as_deref(), Some("eu"));
        assert_eq!(settings.client_password.as_deref(), Some("a=b"));
        assert_eq!(settings.feed, Some(true));
        assert_eq!(settings.judgement_days, Some(7));
        assert_eq!(settings.max_entities, Some(20));
    }

    #[cfg(unix)]
    #[test]
    fn readable_password_file_warns() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xdr.toml");
        std::fs::write(
            &path,
            "client_id = \"x\"\nclient_password = \"secret-value\"\n",
        )
        .unwrap();

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = load_file(&path).unwrap();
        assert_eq!(file.warnings.len(), 1);
        assert!(file.warnings[0].contains("chmod 600"));
        assert!(!file.warnings[0].contains("secret-value"));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_file(&path).unwrap().warnings.is_empty());
    }

    #[test]
    fn region_picks_both_hosts() {
        let flags = Overrides {
            region: Some("apjc".into()),
            ..Overrides::default()
        };
        let settings = Settings::resolve(None, no_env, &flags).unwrap();
        assert_eq!(
            settings.iroh.as_string(),
            "https://visibility.apjc.amp.cisco.com"
        );
        assert_eq!(
            settings.ctia.as_string(),
            "https://private.intel.apjc.amp.cisco.com"
        );
    }

    #[test]
    fn unknown_region_is_rejected() {
        let flags = Overrides {
            region: Some("mars".into()),
            ..Overrides::default()
        };
        let err = Settings::resolve(None, no_env, &flags)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mars"), "{err}");
        assert!(err.contains("us, eu or apjc"), "{err}");
    }

    #[test]
    fn env_overrides_file_credentials() {
        let file = loaded(FileSettings {
            client_id: Some("file-id".into()),
            client_password: Some("file-password".into()),
            ..FileSettings::default()
        });
        let env = |name: &str| (name == ENV_CLIENT_ID).then(|| "env-id".to_string());
        let settings = Settings::resolve(Some(&file), env, &Overrides::default()).unwrap();
        let credentials = settings.credentials.unwrap();
        assert_eq!(credentials.client_id, "env-id");
        assert_eq!(credentials.password.expose(), "file-password");
    }

    #[test]
    fn flag_overrides_file_url() {
        let file = loaded(FileSettings {
            ctia_url: Some("https://ctia.example.com".into()),
            ..FileSettings::default()
        });
        let flags = Overrides {
            ctia_url: Some("https://other.example.com:8443/".into()),
            ..Overrides::default()
        };
        let settings = Settings::resolve(Some(&file), no_env, &flags).unwrap();
        assert_eq!(settings.ctia.as_string(), "https://other.example.com:8443");
    }

    #[test]
    fn plain_http_needs_loopback_and_flag() {
        assert!(BaseUrl::parse("http://ctia.example.com", "t", true).is_err());
        assert!(BaseUrl::parse("http://127.0.0.1:8080", "t", false).is_err());
        assert!(BaseUrl::parse("http://127.0.0.1:8080", "t", true).is_ok());
        assert!(BaseUrl::parse("http://[::1]:8080", "t", true).is_ok());
        assert!(BaseUrl::parse("ftp://127.0.0.1", "t", true).is_err());
        assert!(BaseUrl::parse("https://host/ctia", "t", false).is_err());
        assert!(BaseUrl::parse("https://user@host", "t", false).is_err());
    }

    #[test]
    fn owns_compares_scheme_host_and_port() {
        let base = BaseUrl::parse("https://private.intel.eu.amp.cisco.com", "t", false).unwrap();
        assert!(base.owns("https://private.intel.eu.amp.cisco.com:443/ctia/incident/incident-1"));
        assert!(base.owns("https://PRIVATE.intel.eu.amp.cisco.com/ctia/incident/incident-1"));
        assert!(!base.owns("https://evil.example.com/ctia/incident/incident-1"));
        assert!(!base.owns("https://private.intel.eu.amp.cisco.com.evil.example/ctia/x"));
        assert!(!base.owns("https://private.intel.eu.amp.cisco.com@evil.example/ctia/x"));
        assert!(!base.owns("http://private.intel.eu.amp.cisco.com/ctia/x"));
        assert!(!base.owns("https://private.intel.eu.amp.cisco.com:8443/ctia/x"));
    }

    #[test]
    fn invalid_prefix_is_rejected() {
        for prefix in ["", "HP", "hp-", "1hp", "h p"] {
            let flags = Overrides {
                prefix: Some(prefix.into()),
                ..Overrides::default()
            };
            assert!(
                Settings::resolve(None, no_env, &flags).is_err(),
                "prefix {prefix:?}"
            );
        }
    }

    #[test]
    fn honeypot_requires_ip() {
        let flags = Overrides {
            honeypot_hostname: Some("web01".into()),
            ..Overrides::default()
        };
        let settings = Settings::resolve(None, no_env, &flags).unwrap();
        let err = settings.honeypot().unwrap_err().to_string();
        assert!(err.contains("--honeypot-ip"), "{err}");
    }
}
