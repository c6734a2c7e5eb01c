//! draft-cavage-http-signatures-12, verified by Mastodon's rules and signed the way Mastodon signs.

use std::collections::{BTreeMap, HashSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, Method};
use http_signature_normalization::verify::{ParsedHeader, ValidateError};
use time::OffsetDateTime;

use super::digest::{digest_header, verify_digest_header};
use super::{
    authority_of, check_window, from_unix, header_value, http_date, path_and_query_of, Incoming, Parsed, Scheme,
    SignatureError, Signer,
};

const REQUEST_TARGET: &str = "(request-target)";
const CREATED: &str = "(created)";
const EXPIRES: &str = "(expires)";

/// The signature header's parameters, as written by the sender.
struct Params {
    key_id: String,
    algorithm: Option<String>,
    covered: Vec<String>,
    created: Option<i64>,
    expires: Option<i64>,
    signature: Vec<u8>,
}

pub(super) fn parse(req: &Incoming<'_>, header: &str, now: OffsetDateTime) -> Result<Parsed, SignatureError> {
    let params = parse_params(header)?;
    let covers = |name: &str| params.covered.iter().any(|c| c == name);

    match params.algorithm.as_deref() {
        None | Some("rsa-sha256") | Some("hs2019") => {}
        Some(other) => return Err(SignatureError::Unsupported(format!("algorithm {other:?}"))),
    }
    // Mastodon's minimum: something that dates the request, something that ties it to this
    // request, the host on a GET (the target alone would replay against any host) and the body.
    if !covers("date") && !covers(CREATED) {
        return Err(SignatureError::NotCovered("date or (created)".into()));
    }
    if !covers(REQUEST_TARGET) && !covers("digest") {
        return Err(SignatureError::NotCovered("(request-target) or digest".into()));
    }
    if matches!(*req.method, Method::GET | Method::HEAD) && !covers("host") {
        return Err(SignatureError::NotCovered("host (required on GET)".into()));
    }
    if *req.method == Method::POST && req.has_body() && !covers("digest") {
        return Err(SignatureError::NotCovered("digest (required on POST)".into()));
    }
    if params.algorithm.as_deref() == Some("rsa-sha256") && (covers(CREATED) || covers(EXPIRES)) {
        // The draft forbids the pseudo-headers with the legacy algorithm names; Mastodon agrees.
        return Err(SignatureError::Malformed("(created)/(expires) with algorithm rsa-sha256".into()));
    }

    let expires = params.expires.map(|e| from_unix(e, "expires")).transpose()?;
    if covers(CREATED) {
        let created = params.created.ok_or_else(|| SignatureError::Malformed("(created) without created".into()))?;
        check_window(from_unix(created, "created")?, expires, now)?;
    }
    if covers("date") {
        let date = req.header("date")?.ok_or_else(|| SignatureError::Malformed("date signed but absent".into()))?;
        let date = httpdate::parse_http_date(&date)
            .map_err(|_| SignatureError::Malformed(format!("Date {date:?} is not an HTTP-date")))?;
        check_window(date.into(), expires, now)?;
    }
    if covers(EXPIRES) && params.expires.is_none() {
        return Err(SignatureError::Malformed("(expires) without expires".into()));
    }
    if covers("digest") {
        let digest =
            req.header("digest")?.ok_or_else(|| SignatureError::Malformed("digest signed but absent".into()))?;
        verify_digest_header(&digest, req.body)?;
    }

    let base = signing_string(req, &params)?;
    Ok(Parsed { key_id: params.key_id, scheme: Scheme::Cavage, base, signature: params.signature })
}

/// Builds the signing string with `http-signature-normalization` from what was checked above.
///
/// The crate gets a re-serialised header holding only the validated `headers` list (tokens with
/// no `,` or `"`, so its naive split parses exactly what we checked) and the numeric
/// `created`/`expires`; `host` is the configured authority, never the received Host header. Its
/// own time check runs on the wall clock, so it is given a window that cannot trip: ours above is
/// the one that counts — except for a covered `(expires)`, which the crate enforces on the wall
/// clock without our hour of skew.
fn signing_string(req: &Incoming<'_>, params: &Params) -> Result<String, SignatureError> {
    let covers = |name: &str| params.covered.iter().any(|c| c == name);
    let mut canonical = format!(r#"keyId="k",signature="s",headers="{}""#, params.covered.join(" "));
    if let (true, Some(created)) = (covers(CREATED), params.created) {
        canonical.push_str(&format!(r#",created="{created}""#));
    }
    if let (true, Some(expires)) = (covers(EXPIRES), params.expires) {
        canonical.push_str(&format!(r#",expires="{expires}""#));
    }
    let parsed: ParsedHeader =
        canonical.parse().map_err(|e| SignatureError::Malformed(format!("signature parameters: {e}")))?;

    let mut headers = BTreeMap::new();
    for name in params.covered.iter().filter(|n| !n.starts_with('(')) {
        let value = if name == "host" { Some(req.authority.to_owned()) } else { req.header(name)? };
        let value = value.ok_or_else(|| SignatureError::Malformed(format!("signed header {name} is absent")))?;
        headers.insert(name.clone(), value);
    }
    let unvalidated = parsed
        .into_unvalidated(req.method.as_str(), req.path_and_query, &mut headers, HashSet::new())
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    const NEVER: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    let unverified = unvalidated.validate(NEVER).map_err(|e| match e {
        ValidateError::Missing => SignatureError::Missing,
        expired @ ValidateError::Expired { .. } => SignatureError::Expired(expired.to_string()),
    })?;
    Ok(unverified.signing_string().to_owned())
}

/// Parses `keyId="…",algorithm="…",headers="…",signature="…"` strictly: quoted strings or
/// integers, no duplicates, known shapes only.
fn parse_params(header: &str) -> Result<Params, SignatureError> {
    let mut key_id = None;
    let mut algorithm = None;
    let mut covered = None;
    let mut created = None;
    let mut expires = None;
    let mut signature = None;

    let mut rest = header.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| SignatureError::Malformed(format!("parameter without value in {header:?}")))?;
        let name = name.trim();
        let after = after.trim_start();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(|| SignatureError::Malformed("unterminated quoted string".into()))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            // Unquoted values are allowed for the numeric created/expires.
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        let slot = match name {
            "keyId" => Some(&mut key_id),
            "algorithm" => Some(&mut algorithm),
            "headers" => Some(&mut covered),
            "created" => Some(&mut created),
            "expires" => Some(&mut expires),
            "signature" => Some(&mut signature),
            // Unknown parameters are ignored, as the draft says.
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(SignatureError::Malformed(format!("duplicate parameter {name}")));
            }
            *slot = Some(value.to_owned());
        }

        rest = after.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err(SignatureError::Malformed(format!("unexpected {rest:?} after parameter {name}")));
        }
    }

    let key_id = key_id.filter(|k| !k.is_empty()).ok_or_else(|| SignatureError::Malformed("no keyId".into()))?;
    let signature = signature.ok_or_else(|| SignatureError::Malformed("no signature".into()))?;
    let signature =
        STANDARD.decode(signature.trim()).map_err(|_| SignatureError::Malformed("signature is not base64".into()))?;
    // The draft's default when `headers` is absent.
    let covered: Vec<String> = match covered {
        Some(list) => list.split_whitespace().map(str::to_ascii_lowercase).collect(),
        None => vec![CREATED.to_owned()],
    };
    let mut seen = HashSet::new();
    for name in &covered {
        let valid = matches!(name.as_str(), REQUEST_TARGET | CREATED | EXPIRES)
            || name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid || name.is_empty() {
            return Err(SignatureError::Malformed(format!("{name:?} in headers")));
        }
        if !seen.insert(name.as_str()) {
            return Err(SignatureError::Malformed(format!("{name} listed twice in headers")));
        }
    }
    if covered.is_empty() {
        return Err(SignatureError::Malformed("empty headers list".into()));
    }
    let integer = |value: Option<String>, what: &str| {
        value
            .map(|v| v.parse::<i64>().map_err(|_| SignatureError::Malformed(format!("{what} is not an integer"))))
            .transpose()
    };
    Ok(Params {
        key_id,
        algorithm: algorithm.map(|a| a.to_ascii_lowercase()),
        covered,
        created: integer(created, "created")?,
        expires: integer(expires, "expires")?,
        signature,
    })
}

pub(super) fn sign(
    signer: &Signer,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    if signer.key_id.contains('"') {
        return Err(SignatureError::Sign("keyId contains a double quote".into()));
    }
    let authority = authority_of(url)?;
    let date = http_date(now);
    let mut lines = vec![
        format!("{REQUEST_TARGET}: {} {}", method.as_str().to_ascii_lowercase(), path_and_query_of(url)),
        format!("host: {authority}"),
        format!("date: {date}"),
    ];
    let mut covered = "(request-target) host date";
    headers.insert(http::header::HOST, header_value(&authority)?);
    headers.insert(http::header::DATE, header_value(&date)?);
    if let Some(body) = body {
        let digest = digest_header(body);
        lines.push(format!("digest: {digest}"));
        covered = "(request-target) host date digest";
        headers.insert("digest", header_value(&digest)?);
    }
    let signature = STANDARD.encode(signer.key.sign_sha256(lines.join("\n").as_bytes())?);
    let value =
        format!(r#"keyId="{}",algorithm="rsa-sha256",headers="{covered}",signature="{signature}""#, signer.key_id);
    headers.insert("signature", header_value(&value)?);
    Ok(())
}
