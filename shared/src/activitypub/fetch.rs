//! The one HTTP client for every outbound request (actor and object fetches, WebFinger, NodeInfo,
//! deliveries, Web Push), hardened against server-side request forgery.
//!
//! Every address the client connects to has been checked by [`check_ip`]:
//! - IP-literal hosts are checked before a request is built (reqwest does not resolve them);
//! - names are resolved by [`CheckedResolver`], reqwest's only resolver, which drops refused
//!   addresses and hands reqwest the rest — and reqwest connects to exactly those addresses.
//!   There is no second lookup between the check and the connection, so a DNS answer that
//!   changes between two lookups (rebinding) cannot slip a private address in;
//! - proxies from the environment are ignored (a proxy would resolve the name itself);
//! - redirects are followed here, not by reqwest, so every hop goes through the same checks.
//!
//! Bodies are streamed and cut off at [`FetchPolicy::max_body`]; every call is bounded by
//! [`FetchPolicy::timeout`] as a whole, redirects included.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use time::OffsetDateTime;
use url::{Host, Url};

use super::signatures::{sign, SignatureError, Signer};

const ACCEPT_ACTIVITY: &str =
    r#"application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;
const ACCEPT_JSON: &str = "application/jrd+json, application/json";
const ACTIVITY_STREAMS: &str = "https://www.w3.org/ns/activitystreams";
const USER_AGENT: &str = concat!("Petrel/", env!("CARGO_PKG_VERSION"), " (ActivityPub)");

/// What the client may reach and how much it may spend doing so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Local federation tests only (`Config.allow_private_network`): loopback and the RFC 1918
    /// ranges become reachable. Link-local (cloud metadata) and every other special range stay
    /// refused.
    pub allow_private_network: bool,
    /// For a whole call, redirects and body included.
    pub timeout: Duration,
    /// Largest response body read, in bytes.
    pub max_body: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_private_network: false,
            timeout: Duration::from_secs(10),
            max_body: 1_048_576,
            max_redirects: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused to connect to {0}")]
    Blocked(String),
    #[error("not a fetchable http(s) URL")]
    BadUrl,
    #[error("timed out")]
    Timeout,
    #[error("response body too large")]
    TooLarge,
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    #[error("the document's id is not on the host it was fetched from")]
    IdMismatch,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("network error: {0}")]
    Network(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("cannot sign the request: {0}")]
    Sign(#[from] SignatureError),
    #[error("this request's budget of outbound fetches is spent")]
    BudgetSpent,
}

tokio::task_local! {
    static BUDGET: Arc<Budget>;
}

/// What the work of one inbound request may spend on outbound fetches: a number of calls and a
/// deadline for all of them together. An unauthenticated request can make Petrel fetch (the
/// signer's key, the object's author, a reply's parent…); this bounds what one request costs
/// (infra/deploy.md, "What one unauthenticated request can cost").
#[derive(Debug)]
pub struct Budget {
    calls_left: std::sync::atomic::AtomicU32,
    deadline: tokio::time::Instant,
}

impl Budget {
    /// Takes one call; the time left until the deadline, or why none is left.
    fn take(&self) -> Result<Duration, FetchError> {
        use std::sync::atomic::Ordering;
        self.calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| FetchError::BudgetSpent)?;
        let left = self.deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(FetchError::Timeout);
        }
        Ok(left)
    }
}

/// Runs `work` with at most `calls` outbound calls of the safe client, all within `total`.
/// Calls outside such a scope (deliveries, the CLI) have only the client's per-call limits.
pub async fn with_budget<F: Future>(calls: u32, total: Duration, work: F) -> F::Output {
    let budget =
        Budget { calls_left: std::sync::atomic::AtomicU32::new(calls), deadline: tokio::time::Instant::now() + total };
    BUDGET.scope(Arc::new(budget), work).await
}

impl FetchError {
    /// Whether trying again later may succeed: timeouts, network failures, 5xx and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout | FetchError::Network(_) => true,
            FetchError::Status(status) => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// The result of a delivery POST: non-2xx statuses are reported, not turned into errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostOutcome {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

/// Whether the client may connect to `ip` under `policy`.
pub fn check_ip(ip: IpAddr, policy: &FetchPolicy) -> Result<(), FetchError> {
    match reach(ip) {
        Reach::Public => Ok(()),
        Reach::Private if policy.allow_private_network => Ok(()),
        Reach::Private | Reach::Forbidden => Err(FetchError::Blocked(ip.to_string())),
    }
}

enum Reach {
    Public,
    /// Loopback and RFC 1918: reachable only with `allow_private_network`.
    Private,
    Forbidden,
}

fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => reach_v6(v6),
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    if ip.is_loopback() || ip.is_private() {
        return Reach::Private;
    }
    let [a, b, c, _] = ip.octets();
    let forbidden = a == 0                      // "this network", 0.0.0.0 included
        || a >= 224                             // multicast 224/4, reserved 240/4, broadcast
        || (a == 100 && (b & 0xc0) == 64)       // CGNAT 100.64/10
        || (a == 169 && b == 254)               // link-local: 169.254.169.254, 169.254.170.2 metadata
        || (a == 192 && b == 0 && c == 0)       // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)       // TEST-NET-1
        || (a == 192 && b == 88 && c == 99)     // 6to4 relay anycast
        || (a == 198 && (b & 0xfe) == 18)       // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100)    // TEST-NET-2
        || (a == 203 && b == 0 && c == 113); // TEST-NET-3
    if forbidden {
        Reach::Forbidden
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    if ip.is_loopback() {
        return Reach::Private;
    }
    if ip.is_unspecified() {
        return Reach::Forbidden;
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // Forms that carry an IPv4 address reach that address: judge it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return reach_v4(v4); // ::ffff:a.b.c.d
    }
    if s[..6] == [0; 6] {
        return reach_v4(embedded(s[6], s[7])); // ::a.b.c.d (IPv4-compatible, deprecated)
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return reach_v4(embedded(s[6], s[7])); // NAT64 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return reach_v4(embedded(s[1], s[2])); // 6to4 2002::/16
    }
    let forbidden = (s[0] & 0xe000) != 0x2000   // outside global unicast 2000::/3: ULA fc00::/7
                                                 // (AWS's fd00:ec2::254), fe80::/10, ff00::/8, 100::/64 …
        || (s[0] == 0x2001 && s[1] < 0x200)     // IETF protocol assignments 2001::/23, Teredo included
        || (s[0] == 0x2001 && s[1] == 0x0db8)   // documentation
        || (s[0] == 0x3fff && s[1] < 0x1000); // documentation 3fff::/20
    if forbidden {
        Reach::Forbidden
    } else {
        Reach::Public
    }
}

/// Marks a name whose every address was refused, so the error survives reqwest's wrapping.
#[derive(Debug)]
struct BlockedHost(String);

impl fmt::Display for BlockedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves only to refused addresses", self.0)
    }
}

impl StdError for BlockedHost {}

/// reqwest's resolver: the system's lookup, minus every address [`check_ip`] refuses. reqwest
/// connects to what this returns and nothing else, which is what defeats DNS rebinding.
struct CheckedResolver {
    policy: FetchPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|addr| check_ip(addr.ip(), &policy).is_ok()).collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedHost(host)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn from_reqwest(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(&error);
    let mut chain = Vec::new();
    while let Some(err) = source {
        if let Some(blocked) = err.downcast_ref::<BlockedHost>() {
            return FetchError::Blocked(blocked.0.clone());
        }
        chain.push(err.to_string());
        source = err.source();
    }
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Network(chain.join(": "))
    }
}

/// One client for every outbound request; build it once per process. Cheap to clone.
///
/// The reqwest client (its rustls configuration and root store) is built on the first outbound
/// request, not at start: the feed function never makes one, the others not on most requests,
/// and at a 256 MB function's sixth of a CPU that set-up is a measurable part of a cold start.
#[derive(Clone, Debug)]
pub struct SafeClient {
    client: Arc<std::sync::OnceLock<reqwest::Client>>,
    policy: FetchPolicy,
}

impl SafeClient {
    pub fn new(policy: FetchPolicy) -> SafeClient {
        SafeClient { client: Arc::default(), policy }
    }

    fn client(&self) -> Result<&reqwest::Client, FetchError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let policy = self.policy;
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(from_reqwest)?;
        // Two first requests at once may both build one; the loser's is dropped.
        Ok(self.client.get_or_init(|| client))
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// An ActivityPub document: only `application/activity+json` or `application/ld+json` with
    /// the ActivityStreams profile, and its `id` must be on the host it was finally fetched from.
    /// Signed (authorized fetch) when a signer is given.
    pub async fn get_activity(&self, url: &Url, signer: Option<&Signer>) -> Result<Value, FetchError> {
        self.bounded(async {
            let (final_url, response) = self.get_following(url, ACCEPT_ACTIVITY, signer).await?;
            let content_type = content_type(response.headers());
            if !is_activity_type(&content_type) {
                return Err(FetchError::ContentType(content_type));
            }
            let document: Value = parse_json(&self.read_body(response).await?)?;
            let id = document.get("id").and_then(Value::as_str).ok_or(FetchError::IdMismatch)?;
            let id = Url::parse(id).map_err(|_| FetchError::IdMismatch)?;
            if id.host_str() != final_url.host_str() || id.port_or_known_default() != final_url.port_or_known_default()
            {
                return Err(FetchError::IdMismatch);
            }
            Ok(document)
        })
        .await
    }

    /// WebFinger/NodeInfo/host-meta JSON: accepts application/jrd+json or application/json.
    pub async fn get_json(&self, url: &Url) -> Result<Value, FetchError> {
        self.bounded(async {
            let (_, response) = self.get_following(url, ACCEPT_JSON, None).await?;
            let content_type = content_type(response.headers());
            let (essence, _) = media_type(&content_type);
            if essence != "application/jrd+json" && essence != "application/json" {
                return Err(FetchError::ContentType(content_type));
            }
            parse_json(&self.read_body(response).await?)
        })
        .await
    }

    /// Signed POST of an activity (Content-Type: application/activity+json). Returns the status and a
    /// parsed Retry-After; non-2xx is NOT an error here (delivery decides about retries). Redirects
    /// are not followed (a redirected inbox is reported as its 3xx status).
    pub async fn post_activity(&self, inbox: &Url, body: &[u8], signer: &Signer) -> Result<PostOutcome, FetchError> {
        self.bounded(async {
            check_url(inbox, &self.policy)?;
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
            sign(signer, &Method::POST, inbox, &mut headers, Some(body), OffsetDateTime::now_utc())?;
            let response = self
                .client()?
                .post(inbox.clone())
                .headers(headers)
                .body(body.to_vec())
                .send()
                .await
                .map_err(from_reqwest)?;
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            Ok(PostOutcome { status: response.status().as_u16(), retry_after })
        })
        .await
    }

    /// An unsigned POST of `body` with `headers` (a Web Push message to a push service), under the
    /// same checks as every other request. Like [`SafeClient::post_activity`], it reports the
    /// status and a parsed Retry-After rather than failing on non-2xx, and follows no redirect.
    pub async fn post_push(
        &self,
        endpoint: &Url,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<PostOutcome, FetchError> {
        self.bounded(async {
            check_url(endpoint, &self.policy)?;
            let response =
                self.client()?.post(endpoint.clone()).headers(headers).body(body).send().await.map_err(from_reqwest)?;
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            Ok(PostOutcome { status: response.status().as_u16(), retry_after })
        })
        .await
    }

    async fn bounded<T>(&self, work: impl Future<Output = Result<T, FetchError>>) -> Result<T, FetchError> {
        let limit = match BUDGET.try_with(|b| b.take()) {
            Ok(taken) => taken?.min(self.policy.timeout),
            Err(_) => self.policy.timeout,
        };
        tokio::time::timeout(limit, work).await.unwrap_or(Err(FetchError::Timeout))
    }

    /// GETs `url`, following up to `max_redirects` redirects, each hop checked (and signed) anew.
    /// Returns the final URL and its 2xx response.
    async fn get_following(
        &self,
        url: &Url,
        accept: &'static str,
        signer: Option<&Signer>,
    ) -> Result<(Url, reqwest::Response), FetchError> {
        let mut current = url.clone();
        for _ in 0..=self.policy.max_redirects {
            check_url(&current, &self.policy)?;
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
            if let Some(signer) = signer {
                sign(signer, &Method::GET, &current, &mut headers, None, OffsetDateTime::now_utc())?;
            }
            let response = self.client()?.get(current.clone()).headers(headers).send().await.map_err(from_reqwest)?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok());
                let Some(location) = location else {
                    return Err(FetchError::Status(status.as_u16()));
                };
                current = current.join(location).map_err(|_| FetchError::BadUrl)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return Ok((current, response));
        }
        Err(FetchError::TooManyRedirects)
    }

    /// Reads the body chunk by chunk, stopping as soon as it would exceed `max_body`.
    async fn read_body(&self, response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        read_body_max(response, self.policy.max_body).await
    }

    /// An unsigned GET of a web page or an image (link previews, `rel="me"` checks) under
    /// limits of its own, tighter than the client's: at most `max_body` bytes and `timeout` for
    /// the whole call, redirects included, and only a response whose media type is one of
    /// `types` (`"text/html"`, or a prefix such as `"image/"`).
    pub async fn get_limited(
        &self,
        url: &Url,
        accept: &'static str,
        types: &[&str],
        max_body: usize,
        timeout: Duration,
    ) -> Result<FetchedPage, FetchError> {
        let work = self.bounded(async {
            let (final_url, response) = self.get_following(url, accept, None).await?;
            let content_type = content_type(response.headers());
            let (essence, _) = media_type(&content_type);
            let allowed = types.iter().any(|t| if t.ends_with('/') { essence.starts_with(t) } else { essence == *t });
            if !allowed {
                return Err(FetchError::ContentType(content_type));
            }
            let robots = response.headers().get("x-robots-tag").and_then(|v| v.to_str().ok()).map(str::to_string);
            let body = read_body_max(response, max_body).await?;
            Ok(FetchedPage { url: final_url, content_type: essence, robots, body })
        });
        tokio::time::timeout(timeout, work).await.unwrap_or(Err(FetchError::Timeout))
    }
}

/// A response fetched by [`SafeClient::get_limited`].
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// Where it was finally fetched from (after redirects).
    pub url: Url,
    /// The media type, lowercased, without parameters.
    pub content_type: String,
    /// The `X-Robots-Tag` header.
    pub robots: Option<String>,
    pub body: Vec<u8>,
}

/// Reads the body chunk by chunk, stopping as soon as it would exceed `max` bytes.
async fn read_body_max(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|len| len > max as u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Scheme and credentials, and the address itself when the host is an IP literal (names are
/// checked by the resolver).
fn check_url(url: &Url, policy: &FetchPolicy) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadUrl);
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), policy),
        Some(Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), policy),
        Some(Host::Domain(_)) => Ok(()),
        None => Err(FetchError::BadUrl),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Json(e.to_string()))
}

fn content_type(headers: &HeaderMap) -> String {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// `type/subtype` lowercased, and the parameters with their values unquoted.
fn media_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned()))
        .collect();
    (essence, params)
}

fn is_activity_type(content_type: &str) -> bool {
    let (essence, params) = media_type(content_type);
    match essence.as_str() {
        "application/activity+json" => true,
        "application/ld+json" => {
            params.iter().any(|(k, v)| k == "profile" && v.split_whitespace().any(|p| p == ACTIVITY_STREAMS))
        }
        _ => false,
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (a date in the past means "now").
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}
