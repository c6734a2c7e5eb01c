#!/usr/bin/env node
// Answers, by experiment, what Fedify 2.3.6 expects of a server it federates with (the facts in README.md):
// WebFinger over http, the Accept header and content types of actor fetches, the actor/key shapes that let
// it verify a signature, and its double-knock. Starts one peer and a fake remote server on loopback,
// prints a JSON report. Not a pass/fail test: it observes.
import http from "node:http";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

globalThis.navigator ??= { userAgent: "node" };
const { signRequest } = await import("@fedify/fedify");

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- the peer
const peer = spawn(process.execPath, [path.join(here, "peer.mjs"), "--port", "0", "--name", "peer"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const PEER = await new Promise((resolve, reject) => {
  let out = "";
  peer.stdout.on("data", (c) => {
    out += c;
    const m = /^READY (\S+)$/m.exec(out);
    if (m) resolve(m[1]);
  });
  peer.on("exit", (code) => reject(new Error(`peer exited ${code}`)));
});
async function api(method, route, body) {
  const res = await fetch(`${PEER}/_control${route}`, {
    method,
    headers: body == null ? {} : { "Content-Type": "application/json" },
    body: body == null ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

// ---------------------------------------------------------------- the fake remote
const keys = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
);
const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey)).toString("base64");
const PEM = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;
const AS = "https://www.w3.org/ns/activitystreams";
const SEC = "https://w3id.org/security/v1";

const seen = []; // every request the fake remote got
let tlsAttempts = 0;
let FAKE = null;

// Actor documents in several shapes; the path names the shape.
function actorDoc(variant, id) {
  const base = { id, type: "Person", preferredUsername: variant, inbox: `${FAKE}/inbox` };
  const key = { id: `${id}#main-key`, type: "CryptographicKey", owner: id, publicKeyPem: PEM };
  switch (variant) {
    case "std":
      return { "@context": [AS, SEC], ...base, publicKey: key };
    case "mastodon-untyped-key": // Mastodon's publicKey has no "type"
      return { "@context": [AS, SEC], ...base, publicKey: { id: key.id, owner: id, publicKeyPem: PEM } };
    case "no-owner":
      return { "@context": [AS, SEC], ...base, publicKey: { id: key.id, type: key.type, publicKeyPem: PEM } };
    case "no-security-context": // publicKey is not an ActivityStreams term: JSON-LD drops it
      return { "@context": AS, ...base, publicKey: key };
    case "key-array":
      return { "@context": [AS, SEC], ...base, publicKey: [{ ...key, id: `${id}#other-key` }, key] };
    case "no-fragment-key": // the key's id is the actor's id (keyId without #main-key)
      return { "@context": [AS, SEC], ...base, publicKey: { ...key, id } };
    case "wrong-owner":
      return { "@context": [AS, SEC], ...base, publicKey: { ...key, owner: `${FAKE}/actors/someone-else` } };
    default:
      return null;
  }
}

const CONTENT_TYPES = {
  activity: "application/activity+json",
  ldprofile: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
  ld: "application/ld+json",
  json: "application/json",
  html: "text/html",
  plain: "text/plain",
  none: null,
};

const fake = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url, FAKE);
    seen.push({ method: req.method, path: url.pathname + url.search, headers: req.headers, body: Buffer.concat(chunks) });
    const send = (status, body, type) => {
      const headers = type == null ? {} : { "Content-Type": type };
      res.writeHead(status, headers);
      res.end(body == null ? "" : typeof body === "string" ? body : JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/webfinger") {
      const resource = url.searchParams.get("resource");
      return send(
        200,
        { subject: resource, links: [{ rel: "self", type: "application/activity+json", href: `${FAKE}/ct/activity/actors/std` }] },
        "application/jrd+json",
      );
    }
    // /ct/<content-type>/actors/<variant>
    let m = /^\/ct\/(\w+)\/actors\/([\w-]+)$/.exec(url.pathname);
    if (m && req.method === "GET") {
      const doc = actorDoc(m[2], `${FAKE}${url.pathname}`);
      if (doc == null || !(m[1] in CONTENT_TYPES)) return send(404, "no such actor", "text/plain");
      return send(200, doc, CONTENT_TYPES[m[1]]);
    }
    // a key served as its own document
    if (url.pathname === "/keys/1") {
      return send(
        200,
        { "@context": [AS, SEC], id: `${FAKE}/keys/1`, type: "CryptographicKey", owner: `${FAKE}/ct/activity/actors/std`, publicKeyPem: PEM },
        "application/activity+json",
      );
    }
    // An inbox that answers RFC 9421 with 401, as a cavage-only server would.
    if (url.pathname === "/inbox" && req.method === "POST") {
      return send(req.headers["signature-input"] != null ? 401 : 202, "", "text/plain");
    }
    send(404, "not found", "text/plain");
  });
});
fake.on("clientError", (_err, socket) => {
  tlsAttempts++; // an https client talking TLS to this plain-http server
  socket.destroy();
});
await new Promise((r) => fake.listen(0, "127.0.0.1", r));
FAKE = `http://127.0.0.1:${fake.address().port}`;

const report = {};

// ---------------------------------------------------------------- 1. WebFinger of acct: handles over http
for (const handle of [`acct:probe@127.0.0.1:${fake.address().port}`, `@probe@127.0.0.1:${fake.address().port}`]) {
  const before = { requests: seen.length, tls: tlsAttempts };
  const r = await api("POST", "/lookup", { id: handle });
  report[`webfinger ${handle.startsWith("acct:") ? "acct: uri" : "@handle"}`] = {
    lookup: r.json,
    plainHttpWebfingerRequests: seen.slice(before.requests).filter((s) => s.path.startsWith("/.well-known/")).length,
    tlsHandshakesAgainstPlainHttpPort: tlsAttempts - before.tls,
  };
}
{
  // The peer's own WebFinger answers over http for its acct: handle.
  const host = new URL(PEER).host;
  const res = await fetch(`${PEER}/.well-known/webfinger?resource=acct:peer@${host}`);
  report["peer serves webfinger over http"] = { status: res.status, contentType: res.headers.get("content-type") };
}

// ---------------------------------------------------------------- 2. Accept header and content types of fetches
report["actor fetch by content type"] = {};
for (const ct of Object.keys(CONTENT_TYPES)) {
  const before = seen.length;
  const r = await api("POST", "/lookup", { id: `${FAKE}/ct/${ct}/actors/std` });
  const get = seen.slice(before).find((s) => s.method === "GET");
  report["actor fetch by content type"][CONTENT_TYPES[ct] ?? "(no Content-Type)"] = r.json.found
    ? `parsed as ${r.json.type}`
    : "not found";
  report["accept header sent"] = get?.headers.accept;
  report["user-agent sent"] = get?.headers["user-agent"];
  report["lookup GET is signed"] = get?.headers.signature != null || get?.headers["signature-input"] != null;
}

// ---------------------------------------------------------------- 3. What verifies a signature
async function deliverSigned(keyId, actorId, spec, inbox = `${PEER}/users/peer/inbox`) {
  const activity = {
    "@context": AS,
    id: `${FAKE}/activities/${crypto.randomUUID()}`,
    type: "Like",
    actor: actorId,
    object: `${PEER}/users/peer`,
  };
  const request = new Request(inbox, {
    method: "POST",
    headers: { "Content-Type": "application/activity+json" },
    body: JSON.stringify(activity),
  });
  const signed = await signRequest(request, keys.privateKey, new URL(keyId), { spec });
  const before = seen.length;
  const res = await fetch(signed);
  const body = await res.text();
  const rejected = (await api("GET", `/rejected?id=${encodeURIComponent(activity.id)}`)).json[0];
  const keyFetch = seen.slice(before).find((s) => s.method === "GET");
  return {
    status: res.status,
    ...(body ? { body } : {}),
    ...(rejected ? { reason: rejected.reason } : {}),
    ...(keyFetch
      ? {
          keyFetchAccept: keyFetch.headers.accept,
          keyFetchSignature:
            keyFetch.headers["signature-input"] ?? keyFetch.headers.signature?.replace(/,signature=.*/, "") ?? "unsigned",
        }
      : {}),
  };
}
report["signature verification by actor shape"] = {};
const shapes = [
  ["std (publicKey with id #main-key, type, owner)", "std", "#main-key"],
  ["publicKey without type (Mastodon)", "mastodon-untyped-key", "#main-key"],
  ["publicKey without owner", "no-owner", "#main-key"],
  ["@context without security/v1", "no-security-context", "#main-key"],
  ["publicKey array, 2nd matches keyId", "key-array", "#main-key"],
  ["keyId = actor id (no fragment), key id = actor id", "no-fragment-key", ""],
  ["keyId = actor id (no fragment), single key #main-key", "std", ""],
  ["keyId #main-key, owner is another actor", "wrong-owner", "#main-key"],
  ["keyId names a key the actor lacks (#other)", "std", "#other"],
];
for (const [label, variant, fragment] of shapes) {
  const actor = `${FAKE}/ct/activity/actors/${variant}`;
  // a fresh content-type path per spec so the peer's key cache does not answer the second one
  report["signature verification by actor shape"][label] = {
    rfc9421: await deliverSigned(`${actor}${fragment}`, actor, "rfc9421"),
    cavage: await deliverSigned(
      `${actor.replace("/ct/activity/", "/ct/ldprofile/")}${fragment}`,
      actor.replace("/ct/activity/", "/ct/ldprofile/"),
      "draft-cavage-http-signatures-12",
    ),
  };
}
report["signature verification by actor shape"]["keyId is a separate key document (/keys/1)"] = {
  rfc9421: await deliverSigned(`${FAKE}/keys/1`, `${FAKE}/ct/activity/actors/std`, "rfc9421"),
};
report["signature verification by actor shape"]["std, delivered to the shared inbox"] = {
  rfc9421: await deliverSigned(`${FAKE}/ct/ld/actors/std#main-key`, `${FAKE}/ct/ld/actors/std`, "rfc9421", `${PEER}/inbox`),
};
report["signature verification by actor shape"]["actor served as application/json"] = {
  rfc9421: await deliverSigned(`${FAKE}/ct/json/actors/std#main-key`, `${FAKE}/ct/json/actors/std`, "rfc9421"),
};

// ---------------------------------------------------------------- 4. Double-knock against a cavage-only inbox
{
  const before = seen.length;
  const target = `${FAKE}/ct/activity/actors/std`;
  const f1 = await api("POST", "/follow", { actor: target });
  const firstPosts = seen.slice(before).filter((s) => s.method === "POST");
  const before2 = seen.length;
  const f2 = await api("POST", "/undo", { activity: f1.json.id });
  const secondPosts = seen.slice(before2).filter((s) => s.method === "POST");
  const describe = (s) => ({
    scheme: s.headers["signature-input"] != null ? "rfc9421" : s.headers.signature != null ? "cavage" : "none",
    signatureInput: s.headers["signature-input"],
    cavageHeaders: /headers="([^"]*)"/.exec(s.headers.signature ?? "")?.[1],
    algorithm: /algorithm="([^"]*)"/.exec(s.headers.signature ?? "")?.[1],
    digest: s.headers.digest != null ? "Digest" : s.headers["content-digest"] != null ? "Content-Digest" : null,
    contentType: s.headers["content-type"],
  });
  report["double-knock, first delivery to a cavage-only inbox"] = {
    controlStatus: f1.status,
    posts: firstPosts.map(describe),
  };
  report["double-knock, next delivery to the same origin"] = { controlStatus: f2.status, posts: secondPosts.map(describe) };
  // What the delivered JSON carries besides the activity: Fedify's LD signature and object proof.
  const body = JSON.parse(firstPosts.at(-1).body.toString("utf8"));
  report["delivered Follow body"] = {
    keys: Object.keys(body),
    signatureType: body.signature?.type ?? null,
    proof: body.proof == null ? null : { type: body.proof.type, cryptosuite: body.proof.cryptosuite },
  };
}

process.stdout.write(JSON.stringify(report, null, 2) + "\n");
peer.kill("SIGTERM");
fake.close();
fake.closeAllConnections();
