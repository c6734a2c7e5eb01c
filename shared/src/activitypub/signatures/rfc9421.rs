//! RFC 9421 HTTP Message Signatures with `rsa-v1_5-sha256`, the form Fedify sends first.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, Method};
use sfv::{BareItem, FieldType, InnerList, Item, KeyRef, ListEntry, Parameters, StringRef};
use time::OffsetDateTime;

use super::digest::{content_digest_header, verify_content_digest_header};
use super::{
    authority_of, check_window, from_unix, header_value, http_date, path_and_query_of, Incoming, Parsed, Scheme,
    SignatureError, Signer,
};

const ALG: &str = "rsa-v1_5-sha256";
/// The label Petrel gives its own signatures.
const LABEL: &str = "sig1";

pub(super) fn parse(req: &Incoming<'_>, now: OffsetDateTime) -> Result<Parsed, SignatureError> {
    let input = req.header("signature-input")?.ok_or(SignatureError::Missing)?;
    let signature_field = req
        .header("signature")?
        .ok_or_else(|| SignatureError::Malformed("Signature-Input without Signature".into()))?;
    let inputs: sfv::Dictionary =
        sfv::Parser::new(&input).parse().map_err(|e| SignatureError::Malformed(format!("Signature-Input: {e}")))?;
    let signatures: sfv::Dictionary =
        sfv::Parser::new(&signature_field).parse().map_err(|e| SignatureError::Malformed(format!("Signature: {e}")))?;

    // The first label that has both an input and a signature; peers send one.
    let (list, signature) = inputs
        .iter()
        .find_map(|(label, entry)| {
            let ListEntry::InnerList(list) = entry else { return None };
            let Some(ListEntry::Item(item)) = signatures.get(label.as_str()) else { return None };
            item.bare_item.as_byte_sequence().map(|bytes| (list, bytes.to_vec()))
        })
        .ok_or_else(|| SignatureError::Malformed("no Signature-Input member has a matching signature".into()))?;

    let param = |name: &str| list.params.get(name);
    match param("alg") {
        None => {}
        Some(alg) if alg.as_string().map(|s| s.as_str()) == Some(ALG) => {}
        Some(other) => return Err(SignatureError::Unsupported(format!("alg {other:?}"))),
    }
    let key_id = param("keyid")
        .and_then(|k| k.as_string())
        .map(|k| k.as_str().to_owned())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| SignatureError::Malformed("no keyid parameter".into()))?;
    let created = param("created")
        .ok_or_else(|| SignatureError::Malformed("no created parameter".into()))?
        .as_integer()
        .ok_or_else(|| SignatureError::Malformed("created is not an integer".into()))?;
    let expires = param("expires")
        .map(|e| e.as_integer().ok_or_else(|| SignatureError::Malformed("expires is not an integer".into())))
        .transpose()?;

    let components = component_names(list)?;
    let covers = |name: &str| components.contains(&name);
    for required in ["@method", "@target-uri"] {
        if !covers(required) {
            return Err(SignatureError::NotCovered(required.into()));
        }
    }
    if *req.method == Method::POST && req.has_body() && !covers("content-digest") {
        return Err(SignatureError::NotCovered("content-digest (required on POST)".into()));
    }
    check_window(
        from_unix(i64::from(created), "created")?,
        expires.map(|e| from_unix(i64::from(e), "expires")).transpose()?,
        now,
    )?;
    if covers("content-digest") {
        let digest = req
            .header("content-digest")?
            .ok_or_else(|| SignatureError::Malformed("content-digest covered but absent".into()))?;
        verify_content_digest_header(&digest, req.body)?;
    }

    let base = signature_base(req, list, &components)?;
    Ok(Parsed { key_id, scheme: Scheme::Rfc9421, base, signature })
}

/// The covered component identifiers, checked: strings, no parameters (`;sf`, `;req`… are not
/// supported), no duplicates.
fn component_names(list: &InnerList) -> Result<Vec<&str>, SignatureError> {
    let mut seen = HashSet::new();
    let mut names = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| SignatureError::Malformed("a covered component is not a string".into()))?
            .as_str();
        if !item.params.is_empty() {
            return Err(SignatureError::Unsupported(format!("parameters on component {name:?}")));
        }
        if !seen.insert(name) {
            return Err(SignatureError::Malformed(format!("component {name:?} covered twice")));
        }
        names.push(name);
    }
    Ok(names)
}

/// The signature base (RFC 9421 §2.5): one line per covered component, then the parameters,
/// serialised canonically.
fn signature_base(req: &Incoming<'_>, list: &InnerList, components: &[&str]) -> Result<String, SignatureError> {
    let mut base = String::new();
    for name in components {
        let value = component_value(req, name)?;
        if value.contains('\n') {
            return Err(SignatureError::Malformed(format!("component {name:?} spans lines")));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    let params = vec![ListEntry::InnerList(list.clone())]
        .serialize()
        .ok_or_else(|| SignatureError::Malformed("empty signature parameters".into()))?;
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base)
}

fn component_value(req: &Incoming<'_>, name: &str) -> Result<String, SignatureError> {
    let (path, query) = match req.path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (req.path_and_query, None),
    };
    Ok(match name {
        "@method" => req.method.as_str().to_owned(),
        "@target-uri" => format!("{}://{}{}", req.scheme, req.authority, req.path_and_query),
        "@authority" => req.authority.to_ascii_lowercase(),
        "@scheme" => req.scheme.to_ascii_lowercase(),
        "@request-target" => req.path_and_query.to_owned(),
        "@path" if path.is_empty() => "/".to_owned(),
        "@path" => path.to_owned(),
        "@query" => format!("?{}", query.unwrap_or("")),
        derived if derived.starts_with('@') => {
            return Err(SignatureError::Unsupported(format!("derived component {derived:?}")))
        }
        // Host is rebuilt from configuration like @authority, never taken from the request.
        "host" => req.authority.to_owned(),
        header => req
            .header(header)?
            .ok_or_else(|| SignatureError::Malformed(format!("covered header {header} is absent")))?,
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
    let authority = authority_of(url)?;
    headers.insert(http::header::HOST, header_value(&authority)?);
    headers.insert(http::header::DATE, header_value(&http_date(now))?);
    let mut components = vec!["@method", "@target-uri", "host", "date"];
    if let Some(body) = body {
        headers.insert("content-digest", header_value(&content_digest_header(body))?);
        components.push("content-digest");
    }

    let sf_string = |s: &str| {
        StringRef::from_str(s)
            .map(BareItem::from)
            .map_err(|e| SignatureError::Sign(format!("{s:?} is not an sf-string: {e}")))
    };
    let items = components.iter().map(|c| sf_string(c).map(Item::new)).collect::<Result<Vec<_>, _>>()?;
    let mut params = Parameters::new();
    let created = BareItem::try_from(now.unix_timestamp())
        .map_err(|e| SignatureError::Sign(format!("created out of range: {e}")))?;
    params.insert(KeyRef::constant("created").to_owned(), created);
    params.insert(KeyRef::constant("keyid").to_owned(), sf_string(&signer.key_id)?);
    params.insert(KeyRef::constant("alg").to_owned(), sf_string(ALG)?);
    let list = InnerList::with_params(items, params);

    let path_and_query = path_and_query_of(url);
    let req = Incoming {
        method,
        path_and_query: &path_and_query,
        scheme: url.scheme(),
        authority: &authority,
        headers: &*headers,
        body: body.unwrap_or_default(),
    };
    let base = signature_base(&req, &list, &components)?;
    let signature = STANDARD.encode(signer.key.sign_sha256(base.as_bytes())?);
    let serialized = vec![ListEntry::InnerList(list)]
        .serialize()
        .ok_or_else(|| SignatureError::Sign("empty signature parameters".into()))?;
    headers.insert("signature-input", header_value(&format!("{LABEL}={serialized}"))?);
    headers.insert("signature", header_value(&format!("{LABEL}=:{signature}:"))?);
    Ok(())
}
