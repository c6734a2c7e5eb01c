//! Typed configuration, read once at start. Bad configuration fails at start with a message that
//! names the variable, never at the first request.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
}

fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { var, problem: problem.into() }
}

/// The name of the one work queue (fan-out, delivery and feed renders, for outbox-fanout). One
/// queue because every SQS trigger polls all month, idle or not: see infra/deploy.md.
pub const DEFAULT_OUTBOX_QUEUE: &str = "petrel-outbox";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and a directory under `data_dir`; no AWS account needed.
    Embedded { data_dir: PathBuf },
    /// DynamoDB, S3 and SQS (or moto server through `AWS_ENDPOINT_URL`).
    Aws { table: String, bucket: String, outbox_queue: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Host (and port) that serves Petrel, e.g. `social.example.com` or `localhost:8080`.
    pub domain: String,
    /// Domain of handles (`@me@example.com`); may differ from `domain`.
    pub handle_domain: String,
    /// `https`, or `http` for a local server.
    pub scheme: String,
    /// Public base URL of stored objects (media, rendered feeds), without a trailing slash.
    pub media_base: String,
    /// `PETREL_MEDIA_BASE` as given, where `{domain}` stands for the domain (kept so that
    /// `with_site` can rebuild `media_base`).
    pub media_base_template: String,
    /// The domain is the one recorded in the table (`repo::site`), read by `Ctx::connect`: for
    /// stacks deployed without a custom domain, whose functions cannot know the CloudFront host
    /// name from their environment.
    pub domain_from_table: bool,
    pub backend: Backend,
    /// Lets the outbound client reach loopback and private addresses. Only for local federation
    /// tests (`petrel serve --allow-private-network`); never set in Lambda.
    pub allow_private_network: bool,
    /// The longest status, in Mastodon's weighted characters.
    pub max_characters: usize,
    /// At most this many deliveries POST to one host at once, per process (politeness).
    pub host_concurrency: usize,
    /// How long what other servers send is kept (infra/table-design.md, "Retention").
    pub retention: Retention,
}

/// Bounds on what other servers make the table hold. Local accounts' own posts never expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days a remote post nobody here interacted with is kept; `None`: forever.
    pub remote_status_days: Option<u32>,
    /// Days a notification is kept; `None`: forever.
    pub notification_days: Option<u32>,
    /// Entries a home timeline keeps (Mastodon: 800).
    pub home_timeline_max: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { remote_status_days: Some(90), notification_days: Some(365), home_timeline_max: 800 }
    }
}

/// How long an unused cached actor outlives the last use that renewed it, beyond the longest of
/// the other retentions: a use renews it once it has less than this margin left over them, so
/// every post or notification it stands behind expires before it does.
pub const ACTOR_MARGIN_DAYS: u32 = 30;

const DAY_SECS: i64 = 86_400;

impl Retention {
    /// The `ttl` (epoch seconds) of a remote post received at `now_secs` that nobody here has
    /// touched; `None` when such posts are kept.
    pub fn remote_status_ttl(&self, now_secs: i64) -> Option<i64> {
        self.remote_status_days.map(|d| now_secs + i64::from(d) * DAY_SECS)
    }

    pub fn notification_ttl(&self, now_secs: i64) -> Option<i64> {
        self.notification_days.map(|d| now_secs + i64::from(d) * DAY_SECS)
    }

    /// Seconds an unused remote actor is kept after a use; `None` when posts or notifications are
    /// kept forever (an actor behind them must be too).
    pub fn actor_secs(&self) -> Option<i64> {
        let longest = self.remote_status_days?.max(self.notification_days?);
        Some(i64::from(longest + ACTOR_MARGIN_DAYS) * DAY_SECS)
    }

    /// Renew an actor's expiry once less than this is left (a use then costs no write for a month).
    pub fn actor_renew_below_secs(&self) -> Option<i64> {
        self.actor_secs().map(|s| s - i64::from(ACTOR_MARGIN_DAYS) * DAY_SECS)
    }
}

fn days(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: Option<u32>,
) -> Result<Option<u32>, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) if v == "0" || v == "never" => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=36_500).contains(n))
            .map(Some)
            .ok_or_else(|| invalid(var, format!("`{v}` is not a number of days from 1 to 36500 (or 0: never)"))),
    }
}

impl Config {
    /// Reads `PETREL_*` variables from the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `get`, so the CLI can put its flags in front of the environment.
    ///
    /// | variable | default |
    /// |---|---|
    /// | PETREL_DOMAIN | `localhost:8080` |
    /// | PETREL_HANDLE_DOMAIN | the domain |
    /// | PETREL_SCHEME | `http` for localhost/127.0.0.1, else `https` |
    /// | PETREL_MEDIA_BASE | `{scheme}://{domain}/media` (`{domain}` is replaced by the domain) |
    /// | PETREL_DOMAIN_FROM_TABLE | `false`; `true`: use the domain `petrel account create` recorded (PETREL_DOMAIN unset) |
    /// | PETREL_BACKEND | `embedded` (or `aws`) |
    /// | PETREL_DATA | `./data` (embedded) |
    /// | PETREL_TABLE, PETREL_BUCKET | `petrel`, `petrel-media` (aws) |
    /// | PETREL_OUTBOX_QUEUE | `petrel-outbox` (name or URL) |
    /// | PETREL_MAX_CHARACTERS | `500`: the longest status (URLs count 23) |
    /// | PETREL_ALLOW_PRIVATE_NETWORK | `false`; `true` lets outbound fetches reach loopback/private hosts (tests only) |
    /// | PETREL_HOST_CONCURRENCY | `2`: deliveries POSTing to one host at once, per process (1 to 50) |
    /// | PETREL_REMOTE_STATUS_DAYS | `90`: remote posts nobody here interacted with expire after this (0: never) |
    /// | PETREL_NOTIFICATION_DAYS | `365`: notifications expire after this (0: never) |
    /// | PETREL_HOME_TIMELINE_MAX | `800`: entries a home timeline keeps |
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let domain_from_table = match get("PETREL_DOMAIN_FROM_TABLE").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => return Err(invalid("PETREL_DOMAIN_FROM_TABLE", format!("`{other}` is not true/false"))),
        };
        if domain_from_table && get("PETREL_DOMAIN").is_some() {
            return Err(invalid("PETREL_DOMAIN_FROM_TABLE", "set either it or PETREL_DOMAIN, not both"));
        }
        // Until the table is read, a reserved name that can never federate.
        let default_domain = if domain_from_table { "unconfigured.invalid" } else { "localhost:8080" };
        let domain = get("PETREL_DOMAIN").unwrap_or_else(|| default_domain.into()).to_ascii_lowercase();
        let local = is_local(&domain);
        let scheme = get("PETREL_SCHEME").unwrap_or_else(|| if local { "http" } else { "https" }.into());
        if scheme != "http" && scheme != "https" {
            return Err(invalid("PETREL_SCHEME", format!("`{scheme}` is neither http nor https")));
        }
        check_host("PETREL_DOMAIN", &scheme, &domain)?;
        let handle_domain = get("PETREL_HANDLE_DOMAIN").unwrap_or_else(|| domain.clone()).to_ascii_lowercase();
        check_host("PETREL_HANDLE_DOMAIN", &scheme, &handle_domain)?;
        let media_base_template = get("PETREL_MEDIA_BASE")
            .unwrap_or_else(|| format!("{scheme}://{{domain}}/media"))
            .trim_end_matches('/')
            .to_string();
        let media_base = media_base_for(&media_base_template, &domain)?;
        let backend = match get("PETREL_BACKEND").as_deref().unwrap_or("embedded") {
            "embedded" => Backend::Embedded { data_dir: get("PETREL_DATA").unwrap_or_else(|| "./data".into()).into() },
            "aws" => Backend::Aws {
                table: get("PETREL_TABLE").unwrap_or_else(|| "petrel".into()),
                bucket: get("PETREL_BUCKET").unwrap_or_else(|| "petrel-media".into()),
                outbox_queue: get("PETREL_OUTBOX_QUEUE").unwrap_or_else(|| DEFAULT_OUTBOX_QUEUE.into()),
            },
            other => return Err(invalid("PETREL_BACKEND", format!("`{other}` is neither `embedded` nor `aws`"))),
        };
        let allow_private_network = match get("PETREL_ALLOW_PRIVATE_NETWORK").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => return Err(invalid("PETREL_ALLOW_PRIVATE_NETWORK", format!("`{other}` is not true/false"))),
        };
        let max_characters =
            match get("PETREL_MAX_CHARACTERS") {
                None => 500,
                Some(v) => v.parse::<usize>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
                    invalid("PETREL_MAX_CHARACTERS", format!("`{v}` is not a number from 1 to 100000"))
                })?,
            };
        let host_concurrency = match get("PETREL_HOST_CONCURRENCY") {
            None => 2,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| invalid("PETREL_HOST_CONCURRENCY", format!("`{v}` is not a number from 1 to 50")))?,
        };
        let defaults = Retention::default();
        let retention = Retention {
            remote_status_days: days(&get, "PETREL_REMOTE_STATUS_DAYS", defaults.remote_status_days)?,
            notification_days: days(&get, "PETREL_NOTIFICATION_DAYS", defaults.notification_days)?,
            home_timeline_max: match get("PETREL_HOME_TIMELINE_MAX") {
                None => defaults.home_timeline_max,
                Some(v) => v.parse::<u32>().ok().filter(|n| (20..=100_000).contains(n)).ok_or_else(|| {
                    invalid("PETREL_HOME_TIMELINE_MAX", format!("`{v}` is not a number from 20 to 100000"))
                })?,
            },
        };
        Ok(Config {
            max_characters,
            host_concurrency,
            retention,
            domain,
            handle_domain,
            scheme,
            media_base,
            media_base_template,
            domain_from_table,
            backend,
            allow_private_network,
        })
    }

    /// The same configuration serving `domain` (and handles on `handle_domain`): the domain
    /// recorded in the table, for `PETREL_DOMAIN_FROM_TABLE`.
    pub fn with_site(&self, domain: &str, handle_domain: &str) -> Result<Config, ConfigError> {
        let (domain, handle_domain) = (domain.to_ascii_lowercase(), handle_domain.to_ascii_lowercase());
        check_host("PETREL_DOMAIN", &self.scheme, &domain)?;
        check_host("PETREL_HANDLE_DOMAIN", &self.scheme, &handle_domain)?;
        Ok(Config {
            media_base: media_base_for(&self.media_base_template, &domain)?,
            domain,
            handle_domain,
            ..self.clone()
        })
    }

    /// `https://domain` (or http locally), without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.domain)
    }
}

fn is_local(domain: &str) -> bool {
    let host = domain.rsplit_once(':').map_or(domain, |(h, _)| h);
    host == "localhost" || host == "127.0.0.1" || host.ends_with(".localhost")
}

fn media_base_for(template: &str, domain: &str) -> Result<String, ConfigError> {
    let media_base = template.replace("{domain}", domain);
    let media_url = url::Url::parse(&media_base).map_err(|e| invalid("PETREL_MEDIA_BASE", e.to_string()))?;
    if !matches!(media_url.scheme(), "http" | "https") || media_url.query().is_some() {
        return Err(invalid("PETREL_MEDIA_BASE", "must be an http(s) URL without a query"));
    }
    Ok(media_base)
}

fn check_host(var: &'static str, scheme: &str, domain: &str) -> Result<(), ConfigError> {
    let parsed =
        url::Url::parse(&format!("{scheme}://{domain}/")).map_err(|e| invalid(var, format!("`{domain}`: {e}")))?;
    let rebuilt = match parsed.port() {
        Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    // Rejects paths, credentials and the like: the value must be exactly a host and port.
    if rebuilt != domain && format!("{rebuilt}:{}", parsed.port_or_known_default().unwrap_or(0)) != domain {
        return Err(invalid(var, format!("`{domain}` must be a bare host name with an optional port")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_vars(|k| m.get(k).cloned())
    }

    #[test]
    fn local_default_is_http_on_localhost() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.base_url(), "http://localhost:8080");
        assert_eq!(c.media_base, "http://localhost:8080/media");
        assert_eq!(c.backend, Backend::Embedded { data_dir: "./data".into() });
    }

    #[test]
    fn public_domain_defaults_to_https_and_handle_domain_may_differ() {
        let c = cfg(&[("PETREL_DOMAIN", "social.example.com"), ("PETREL_HANDLE_DOMAIN", "example.com")]).unwrap();
        assert_eq!(c.base_url(), "https://social.example.com");
        assert_eq!(c.handle_domain, "example.com");
    }

    #[test]
    fn the_domain_may_come_from_the_table() {
        let vars = [
            ("PETREL_DOMAIN_FROM_TABLE", "true"),
            ("PETREL_SCHEME", "https"),
            ("PETREL_MEDIA_BASE", "https://{domain}"),
        ];
        let c = cfg(&vars).unwrap();
        assert!(c.domain_from_table);
        assert_eq!(
            (c.domain.as_str(), c.media_base.as_str()),
            ("unconfigured.invalid", "https://unconfigured.invalid")
        );
        let c = c.with_site("d111.cloudfront.net", "d111.cloudfront.net").unwrap();
        assert_eq!(c.base_url(), "https://d111.cloudfront.net");
        assert_eq!(c.media_base, "https://d111.cloudfront.net");
        assert!(c.with_site("evil.example/x", "evil.example").is_err());
        let e = cfg(&[("PETREL_DOMAIN_FROM_TABLE", "true"), ("PETREL_DOMAIN", "a.example")]).unwrap_err();
        assert!(e.to_string().starts_with("PETREL_DOMAIN_FROM_TABLE"), "{e}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = cfg(&[("PETREL_DOMAIN", "example.com/path")]).unwrap_err();
        assert!(e.to_string().starts_with("PETREL_DOMAIN"), "{e}");
        let e = cfg(&[("PETREL_BACKEND", "redis")]).unwrap_err();
        assert!(e.to_string().starts_with("PETREL_BACKEND"), "{e}");
        let e = cfg(&[("PETREL_SCHEME", "ftp")]).unwrap_err();
        assert!(e.to_string().starts_with("PETREL_SCHEME"), "{e}");
        let e = cfg(&[("PETREL_MAX_CHARACTERS", "0")]).unwrap_err();
        assert!(e.to_string().starts_with("PETREL_MAX_CHARACTERS"), "{e}");
        assert_eq!(cfg(&[("PETREL_MAX_CHARACTERS", "1000")]).unwrap().max_characters, 1000);
        assert_eq!(cfg(&[]).unwrap().max_characters, 500);
    }

    #[test]
    fn retention_defaults_and_bounds() {
        let r = cfg(&[]).unwrap().retention;
        assert_eq!(r, Retention { remote_status_days: Some(90), notification_days: Some(365), home_timeline_max: 800 });
        // An unused actor outlives the longest retention by the margin.
        assert_eq!(r.actor_secs(), Some((365 + 30) * 86_400));
        assert_eq!(r.remote_status_ttl(1000), Some(1000 + 90 * 86_400));
        let r = cfg(&[("PETREL_REMOTE_STATUS_DAYS", "0"), ("PETREL_HOME_TIMELINE_MAX", "100")]).unwrap().retention;
        assert_eq!((r.remote_status_days, r.home_timeline_max, r.actor_secs()), (None, 100, None));
        for (var, bad) in
            [("PETREL_REMOTE_STATUS_DAYS", "-1"), ("PETREL_NOTIFICATION_DAYS", "x"), ("PETREL_HOME_TIMELINE_MAX", "5")]
        {
            let e = cfg(&[(var, bad)]).unwrap_err();
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }
}
