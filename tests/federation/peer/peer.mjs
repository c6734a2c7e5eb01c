#!/usr/bin/env node
// A real Fedify federation peer for Petrel's end-to-end tests.
//
//   node peer.mjs --port P [--name peer] [--verbose] [--no-ed25519] [--first-knock rfc9421|cavage]
//
// One actor at http://127.0.0.1:P/users/<name>; prints `READY <baseurl>` on stdout once listening.
// Tests drive it through the JSON control API under /_control/ (see README.md).
import http from "node:http";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

// Fedify reads navigator.userAgent at import time; Node 20 has no navigator. Must run before the import.
globalThis.navigator ??= { userAgent: "node" };
const fedify = await import("@fedify/fedify");
const vocab = await import("@fedify/vocab");
const { Temporal } = await import("@js-temporal/polyfill");
const logtape = await import("@logtape/logtape");

const { createFederation, MemoryKvStore, generateCryptoKeyPair, signRequest } = fedify;
const {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Document,
  Endpoints,
  Follow,
  Hashtag,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Question,
  Reject,
  Tombstone,
  Undo,
  Update,
  isActor,
} = vocab;

// ---------------------------------------------------------------- arguments
const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    name: { type: "string", default: "peer" },
    verbose: { type: "boolean", default: false },
    "no-ed25519": { type: "boolean", default: false },
    "first-knock": { type: "string", default: "rfc9421" },
  },
});
if (args.port == null || !/^\d+$/.test(args.port)) {
  process.stderr.write("usage: node peer.mjs --port P [--name peer] [--verbose]\n");
  process.exit(2);
}
const NAME = args.name;
const FIRST_KNOCK = { rfc9421: "rfc9421", cavage: "draft-cavage-http-signatures-12" }[args["first-knock"]];
if (FIRST_KNOCK == null) {
  process.stderr.write("--first-knock must be rfc9421 or cavage\n");
  process.exit(2);
}
let BASE = null; // set once listening (the port may be 0)

// ---------------------------------------------------------------- state (all in memory)
const state = {
  received: [], // verified activities that reached a listener, in arrival order
  inboxLog: [], // every POST to an inbox: status answered, signature scheme seen, raw body
  rejected: [], // activities whose HTTP signature Fedify could not verify (onUnverifiedActivity)
  inboxErrors: [], // exceptions from listeners or unparsable activities (onError)
  sentLog: [], // every outgoing delivery attempt from this peer
  logs: [], // ring of Fedify's own log records (LogTape)
  followers: new Map(), // actor id -> { id, inboxId, endpoints, followId }
  following: new Map(), // actor id -> { actor, followId, accepted, rejected, recipient }
  notes: new Map(), // note id -> note record (see noteFromRecord)
  sent: new Map(), // activity id -> { activity, json, recipients }
};
const LOG_RING = 2000;

// The raw request an inbox listener is running for (no queue, so listeners run inside the request).
const inboxRequest = new AsyncLocalStorage();

// ---------------------------------------------------------------- logging
function renderLogMessage(parts) {
  return parts
    .map((p, i) => {
      if (i % 2 === 0) return String(p);
      if (typeof p === "string") return p;
      if (p instanceof Error) return `${p.name}: ${p.message}`;
      if (p instanceof URL) return p.href;
      try {
        return JSON.stringify(p);
      } catch {
        return String(p);
      }
    })
    .join("");
}
function logSink(record) {
  const entry = {
    at: new Date(record.timestamp).toISOString(),
    level: record.level,
    category: record.category.join("."),
    message: renderLogMessage(record.message).slice(0, 4000),
  };
  state.logs.push(entry);
  if (state.logs.length > LOG_RING) state.logs.splice(0, state.logs.length - LOG_RING);
  if (args.verbose && entry.level !== "debug" && entry.level !== "trace") {
    process.stderr.write(`[${entry.level}] ${entry.category}: ${entry.message}\n`);
  }
}
await logtape.configure({
  sinks: { ring: logSink },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["ring"] },
    { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
  ],
});

// ---------------------------------------------------------------- keys (generated once per run)
// RSA-2048 rather than Fedify's default 4096 bits: what Mastodon uses, and a faster start.
const rsa = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
);
const keyPairs = args["no-ed25519"] ? [rsa] : [rsa, await generateCryptoKeyPair("Ed25519")];

// ---------------------------------------------------------------- federation
const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true, // Petrel and the peer live on loopback
  firstKnock: FIRST_KNOCK,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== NAME) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `Fedify peer ${identifier}`,
      summary: "A Fedify test peer for Petrel's federation tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === NAME ? keyPairs : []));

federation
  .setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
    if (identifier !== NAME) return null;
    return { items: [...state.followers.values()] };
  })
  .setCounter(async (_ctx, identifier) => (identifier === NAME ? state.followers.size : null));

federation.setOutboxDispatcher("/users/{identifier}/outbox", async (_ctx, identifier) => {
  if (identifier !== NAME) return null;
  const items = [...state.sent.values()].filter((s) => s.activity instanceof Create).map((s) => s.activity);
  return { items: items.reverse() };
});

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", async (ctx, values) => {
  if (values.identifier !== NAME) return null;
  const rec = state.notes.get(ctx.getObjectUri(Note, values).href);
  if (rec == null || rec.deleted) return null; // deleted notes are answered 410 before Fedify sees them
  return noteFromRecord(rec);
});

// Receiving. Fedify verifies HTTP signatures (or LD signatures / object proofs) before any listener runs.
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    const rec = record(ctx, follow);
    if (follow.objectId?.href !== ctx.getActorUri(NAME).href || follow.actorId == null) return;
    const follower = await follow.getActor(ctx);
    if (follower == null || follower.id == null || follower.inboxId == null) {
      rec.note = "follower actor could not be fetched; no Accept sent";
      return;
    }
    const recipient = toRecipient(follower);
    state.followers.set(follower.id.href, { ...recipient, followId: follow.id?.href ?? null });
    const accept = new Accept({
      id: newActivityId(),
      actor: ctx.getActorUri(NAME),
      object: follow,
      to: follower.id,
    });
    // Answer the Follow after the 202 is written, as Mastodon does, so the sender never waits on itself.
    afterResponse(() => deliver(recipientsOf([recipient]), accept).catch(() => {}));
  })
  .on(Accept, async (ctx, accept) => {
    const rec = record(ctx, accept);
    const entry = matchFollowResponse(accept, rec);
    if (entry != null) {
      entry.accepted = true;
      entry.rejected = false;
    }
  })
  .on(Reject, async (ctx, reject) => {
    const rec = record(ctx, reject);
    const entry = matchFollowResponse(reject, rec);
    if (entry != null) {
      entry.accepted = false;
      entry.rejected = true;
    }
  })
  .on(Undo, async (ctx, undo) => {
    const rec = record(ctx, undo);
    const actor = undo.actorId?.href;
    const follower = actor == null ? null : state.followers.get(actor);
    if (follower == null) return;
    // Undo(Follow): the object is the Follow embedded or its id. Decide from the JSON as received.
    const obj = rec.json?.object;
    const undoesFollow =
      (typeof obj === "string" && obj === follower.followId) ||
      (obj != null && typeof obj === "object" && (obj.type === "Follow" || obj.id === follower.followId));
    if (undoesFollow) state.followers.delete(actor);
  })
  // A Create or Update of a Question (a poll) is read through Fedify's own vocabulary, so the
  // record says what Fedify understood of it (options and counts, end, voters).
  .on(Create, async (ctx, activity) => {
    await recordWithQuestion(ctx, activity);
  })
  .on(Update, async (ctx, activity) => {
    await recordWithQuestion(ctx, activity);
  })
  .on(Activity, async (ctx, activity) => {
    record(ctx, activity);
  })
  .onUnverifiedActivity(async (_ctx, activity, reason) => {
    const store = inboxRequest.getStore();
    const entry = {
      at: new Date().toISOString(),
      type: store?.json?.type ?? null,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      reason: reason.type,
      keyId: reason.keyId?.href ?? null,
      keyFetchStatus: reason.type === "keyFetchError" && "status" in reason.result ? reason.result.status : null,
      keyFetchError:
        reason.type === "keyFetchError" && "error" in reason.result ? String(reason.result.error?.message) : null,
      signature: store?.signature ?? null,
      json: store?.json ?? null,
    };
    state.rejected.push(entry);
    if (store != null) store.entry.unverified = entry;
  })
  // Key and object fetches made while handling the shared inbox are signed as this actor too (Fedify signs
  // those for a personal inbox already), so a Petrel that requires signed GETs still serves them.
  .setSharedKeyDispatcher(() => ({ identifier: NAME }))
  .onError(async (_ctx, error) => {
    const store = inboxRequest.getStore();
    state.inboxErrors.push({
      at: new Date().toISOString(),
      error: `${error?.name}: ${error?.message}`,
      json: store?.json ?? null,
    });
  });

// ---------------------------------------------------------------- helpers
function newActivityId() {
  return new URL(`/users/${NAME}/activities/${randomUUID()}`, BASE);
}
function actorUri() {
  return new URL(`/users/${NAME}`, BASE);
}
function followersUri() {
  return new URL(`/users/${NAME}/followers`, BASE);
}
function ctxFor() {
  return federation.createContext(new URL(BASE), undefined);
}
function afterResponse(fn) {
  const store = inboxRequest.getStore();
  if (store != null) store.after.push(fn);
  else setImmediate(fn);
}
function idOf(value) {
  if (value == null) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return idOf(value[0]);
  if (typeof value === "object") return value.id ?? value["@id"] ?? value.href ?? null;
  return null;
}

// Store a received, verified activity with the JSON exactly as it arrived.
function record(_ctx, activity) {
  const store = inboxRequest.getStore();
  const json = store?.json ?? null;
  const obj = json?.object;
  const rec = {
    at: new Date().toISOString(),
    type: json?.type ?? activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    objectId: activity.objectId?.href ?? idOf(obj),
    objectType: obj != null && typeof obj === "object" && !Array.isArray(obj) ? (obj.type ?? null) : null,
    object: obj != null && typeof obj === "object" ? obj : null,
    inbox: store?.path ?? null,
    signature: store?.signature ?? null,
    json,
  };
  state.received.push(rec);
  if (store != null) store.entry.recorded = true;
  return rec;
}

async function recordWithQuestion(ctx, activity) {
  const rec = record(ctx, activity);
  try {
    const obj = await activity.getObject({ suppressError: true });
    if (obj instanceof Question) {
      const options = async (iter) => {
        const out = [];
        for await (const o of iter) {
          const replies = await o.getReplies({ suppressError: true });
          out.push({ name: o.name?.toString() ?? null, totalItems: replies?.totalItems ?? null });
        }
        return out;
      };
      rec.question = {
        oneOf: await options(obj.getExclusiveOptions({ suppressError: true })),
        anyOf: await options(obj.getInclusiveOptions({ suppressError: true })),
        endTime: obj.endTime?.toString() ?? null,
        voters: obj.voters ?? null,
      };
    }
  } catch (error) {
    rec.questionError = String(error?.message ?? error);
  }
}

// Find our outgoing Follow that an Accept/Reject answers: same actor, and the object names our Follow.
function matchFollowResponse(response, rec) {
  const actor = response.actorId?.href;
  const entry = actor == null ? null : state.following.get(actor);
  if (entry == null) {
    rec.note = "no outgoing Follow to this actor";
    return null;
  }
  const obj = rec.json?.object;
  const objId = idOf(obj);
  if (objId === entry.followId) {
    rec.note = "matched our Follow by id";
    return entry;
  }
  if (obj != null && typeof obj === "object" && obj.type === "Follow" && idOf(obj.actor) === actorUri().href) {
    rec.note = "matched our Follow by embedded Follow (id differs)";
    return entry;
  }
  rec.note = `object ${JSON.stringify(objId)} does not name our Follow ${entry.followId}`;
  return null;
}

function toRecipient(actor) {
  return {
    id: actor.id,
    inboxId: actor.inboxId,
    endpoints: actor.endpoints?.sharedInbox == null ? null : { sharedInbox: actor.endpoints.sharedInbox },
  };
}
function recipientsOf(list) {
  // Deduplicate by actor id; never deliver to ourselves.
  const seen = new Map();
  for (const r of list) {
    if (r?.id == null || r.id.href === actorUri().href) continue;
    seen.set(r.id.href, r);
  }
  return [...seen.values()];
}
function followerRecipients() {
  return [...state.followers.values()].map(({ id, inboxId, endpoints }) => ({ id, inboxId, endpoints }));
}
function inboxesOf(recipients, preferSharedInbox) {
  const set = new Set();
  for (const r of recipients) {
    const inbox = preferSharedInbox && r.endpoints?.sharedInbox != null ? r.endpoints.sharedInbox : r.inboxId;
    if (inbox != null) set.add(inbox.href);
  }
  return [...set];
}

// Send through Fedify (HTTP signature with double-knock, LD signature, object proof) and log the outcome.
let preferSharedInboxDefault = true;
async function deliver(recipients, activity, { preferSharedInbox = preferSharedInboxDefault } = {}) {
  const json = await activity.toJsonLd({ format: "compact" });
  state.sent.set(activity.id.href, { activity, json, recipients });
  const entry = {
    at: new Date().toISOString(),
    id: activity.id.href,
    type: json.type,
    inboxes: inboxesOf(recipients, preferSharedInbox),
    ok: null,
    status: null,
    error: null,
  };
  state.sentLog.push(entry);
  try {
    if (recipients.length > 0) {
      await ctxFor().sendActivity({ identifier: NAME }, recipients, activity, { preferSharedInbox });
    }
    entry.ok = true;
  } catch (error) {
    entry.ok = false;
    entry.status = error?.statusCode ?? null;
    entry.error = `${error?.name}: ${error?.message}`;
    throw error;
  }
  return entry;
}

async function lookupActor(ctx, url) {
  const obj = await ctx.lookupObject(url);
  if (obj == null || !isActor(obj)) throw new ControlError(422, `could not look up an actor at ${url}`);
  if (obj.id == null || obj.inboxId == null) throw new ControlError(422, `actor ${url} has no id or inbox`);
  return obj;
}

function addressing(rec) {
  const pub = PUBLIC_COLLECTION;
  const mention = rec.mention == null ? [] : [new URL(rec.mention)];
  switch (rec.to) {
    case "public":
      return { tos: [pub], ccs: [followersUri(), ...mention] };
    case "unlisted":
      return { tos: [followersUri()], ccs: [pub, ...mention] };
    case "followers":
      return { tos: [followersUri()], ccs: mention };
    case "direct":
      return { tos: mention, ccs: [] };
    default:
      throw new ControlError(400, `"to" must be public, unlisted, followers or direct`);
  }
}

function noteFromRecord(rec) {
  const tags = [];
  if (rec.mention != null) tags.push(new Mention({ href: new URL(rec.mention), name: rec.mentionName }));
  if (rec.hashtag != null) {
    tags.push(
      new Hashtag({ href: new URL(`/tags/${encodeURIComponent(rec.hashtag)}`, BASE), name: `#${rec.hashtag}` }),
    );
  }
  const attachments =
    rec.attachment == null
      ? []
      : [
          new Document({
            url: new URL(rec.attachment.url),
            mediaType: rec.attachment.mediaType ?? null,
            name: rec.attachment.name ?? null,
          }),
        ];
  return new Note({
    id: new URL(rec.id),
    attribution: actorUri(),
    ...addressing(rec),
    content: rec.content,
    summary: rec.summary ?? null,
    sensitive: rec.summary != null,
    replyTarget: rec.inReplyTo == null ? null : new URL(rec.inReplyTo),
    published: Temporal.Instant.from(rec.published),
    updated: rec.updated == null ? null : Temporal.Instant.from(rec.updated),
    url: new URL(rec.id),
    tags,
    attachments,
  });
}

async function noteRecipients(ctx, rec) {
  const list = rec.to === "direct" ? [] : followerRecipients();
  if (rec.mention != null) list.push(toRecipient(await lookupActor(ctx, rec.mention)));
  return recipientsOf(list);
}

// Look up an object and its author so likes and announces reach the author.
async function authorOf(ctx, url) {
  const obj = await ctx.lookupObject(url);
  if (obj == null) throw new ControlError(422, `could not look up ${url}`);
  const authorId = obj.attributionId ?? (isActor(obj) ? obj.id : null) ?? obj.actorId ?? null;
  if (authorId == null) throw new ControlError(422, `${url} has no attributedTo`);
  return lookupActor(ctx, authorId.href);
}

// ---------------------------------------------------------------- control API
class ControlError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}
function requireUrl(body, key) {
  const v = body?.[key];
  if (typeof v !== "string") throw new ControlError(400, `"${key}" (a URL string) is required`);
  try {
    return new URL(v).href;
  } catch {
    throw new ControlError(400, `"${key}" is not a URL: ${v}`);
  }
}

async function wait(url, compute) {
  // ?wait=MS&count=N : hold the answer until at least N items match or MS pass (saves polling in tests).
  const ms = Math.min(Number(url.searchParams.get("wait") ?? 0) || 0, 60000);
  const count = Number(url.searchParams.get("count") ?? 1) || 1;
  const deadline = Date.now() + ms;
  let items = compute();
  while (items.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    items = compute();
  }
  return items;
}
function filterBy(url, list) {
  let out = list;
  for (const key of ["type", "actor", "id", "objectId", "objectType", "reason"]) {
    const v = url.searchParams.get(key);
    if (v != null) out = out.filter((x) => x[key] === v);
  }
  return out;
}

async function control(method, url, body) {
  const ctx = ctxFor();
  const path = url.pathname.slice("/_control".length);
  const route = `${method} ${path}`;
  switch (route) {
    case "GET /health":
      return { ok: true, base: BASE, actor: actorUri().href };
    case "GET /received":
      return wait(url, () => filterBy(url, state.received));
    case "GET /rejected":
      return wait(url, () => filterBy(url, state.rejected));
    case "GET /inbox-log":
      return wait(url, () => filterBy(url, state.inboxLog));
    case "GET /inbox-errors":
      return state.inboxErrors;
    case "GET /sent":
      return wait(url, () => filterBy(url, state.sentLog));
    case "GET /logs": {
      const cat = url.searchParams.get("category");
      return cat == null ? state.logs : state.logs.filter((l) => l.category.startsWith(cat));
    }
    case "POST /reset":
      for (const k of ["received", "inboxLog", "rejected", "inboxErrors", "sentLog", "logs"]) state[k].length = 0;
      return { ok: true };
    case "GET /followers":
      return wait(url, () => [...state.followers.keys()]);
    case "GET /following":
      return [...state.following.values()].map(({ actor, accepted, rejected, followId }) => ({
        actor,
        accepted,
        rejected,
        followId,
      }));
    case "POST /lookup": {
      // What Fedify makes of a document: parsed and re-serialised, or null. Proves Petrel's JSON parses.
      // Takes a URL, an acct: URI or a @user@host handle.
      const id = body?.id;
      if (typeof id !== "string") throw new ControlError(400, `"id" (URL or handle) is required`);
      const obj = await ctx.lookupObject(id);
      if (obj == null) return { found: false };
      return { found: true, type: obj.constructor.name, json: await obj.toJsonLd({ format: "compact" }) };
    }
    case "POST /follow": {
      const target = await lookupActor(ctx, requireUrl(body, "actor"));
      const follow = new Follow({ id: newActivityId(), actor: actorUri(), object: target.id, to: target.id });
      const recipient = toRecipient(target);
      state.following.set(target.id.href, {
        actor: target.id.href,
        followId: follow.id.href,
        accepted: false,
        rejected: false,
        recipient,
      });
      await deliver([recipient], follow, { preferSharedInbox: false });
      return { id: follow.id.href };
    }
    case "POST /post": {
      if (typeof body?.content !== "string") throw new ControlError(400, `"content" (HTML string) is required`);
      const id = new URL(`/users/${NAME}/notes/${randomUUID()}`, BASE).href;
      const rec = {
        id,
        content: body.content,
        to: body.to ?? "public",
        mention: body.mention == null ? null : requireUrl(body, "mention"),
        mentionName: null,
        inReplyTo: body.inReplyTo == null ? null : requireUrl(body, "inReplyTo"),
        hashtag: body.hashtag ?? null,
        summary: body.summary ?? null,
        attachment: body.attachment ?? null,
        published: new Date().toISOString(),
        updated: null,
        deleted: false,
      };
      addressing(rec); // validate "to" before anything is stored
      if (rec.to === "direct" && rec.mention == null) throw new ControlError(400, `"direct" needs "mention"`);
      const recipients = await noteRecipients(ctx, rec);
      if (rec.mention != null) {
        const m = await lookupActor(ctx, rec.mention);
        rec.mentionName = `@${m.preferredUsername ?? "unknown"}@${new URL(rec.mention).host}`;
      }
      state.notes.set(id, rec);
      const note = noteFromRecord(rec);
      const create = new Create({
        id: new URL(`${id}/activity`),
        actor: actorUri(),
        object: note,
        tos: note.toIds,
        ccs: note.ccIds,
        published: note.published,
      });
      const sent = await deliver(recipients, create, sendOptions(body));
      return { activity: create.id.href, note: id, inboxes: sent.inboxes };
    }
    case "POST /update": {
      const rec = ownNote(body);
      if (typeof body.content !== "string") throw new ControlError(400, `"content" (HTML string) is required`);
      rec.content = body.content;
      if (body.summary !== undefined) rec.summary = body.summary;
      rec.updated = new Date().toISOString();
      const note = noteFromRecord(rec);
      const update = new Update({
        id: newActivityId(),
        actor: actorUri(),
        object: note,
        tos: note.toIds,
        ccs: note.ccIds,
        published: Temporal.Instant.from(rec.updated),
      });
      const sent = await deliver(await noteRecipients(ctx, rec), update, sendOptions(body));
      return { activity: update.id.href, note: rec.id, inboxes: sent.inboxes };
    }
    case "POST /delete": {
      const rec = ownNote(body);
      const recipients = await noteRecipients(ctx, rec);
      const { tos, ccs } = addressing(rec);
      rec.deleted = true;
      const del = new Delete({
        id: new URL(`${rec.id}#delete`),
        actor: actorUri(),
        object: new Tombstone({ id: new URL(rec.id) }),
        tos,
        ccs,
      });
      const sent = await deliver(recipients, del, sendOptions(body));
      return { activity: del.id.href, note: rec.id, inboxes: sent.inboxes };
    }
    case "POST /like":
    case "POST /announce": {
      const object = requireUrl(body, "object");
      const author = await authorOf(ctx, object);
      const recipients = recipientsOf([...followerRecipients(), toRecipient(author)]);
      const activity =
        route === "POST /like"
          ? new Like({ id: newActivityId(), actor: actorUri(), object: new URL(object), to: author.id })
          : new Announce({
              id: newActivityId(),
              actor: actorUri(),
              object: new URL(object),
              tos: [PUBLIC_COLLECTION],
              ccs: [author.id, followersUri()],
              published: Temporal.Now.instant(),
            });
      const sent = await deliver(recipients, activity, sendOptions(body));
      return { id: activity.id.href, inboxes: sent.inboxes };
    }
    case "POST /undo": {
      const id = requireUrl(body, "activity");
      const original = state.sent.get(id);
      if (original == null) throw new ControlError(404, `this peer sent no activity ${id}`);
      const undo = new Undo({
        id: newActivityId(),
        actor: actorUri(),
        object: original.activity,
        tos: original.activity.toIds,
        ccs: original.activity.ccIds,
      });
      if (original.activity instanceof Follow) {
        for (const [k, v] of state.following) if (v.followId === id) state.following.delete(k);
      }
      const opts = original.activity instanceof Follow ? { preferSharedInbox: false } : sendOptions(body);
      const sent = await deliver(original.recipients, undo, opts);
      return { id: undo.id.href, inboxes: sent.inboxes };
    }
    case "POST /send-raw":
      return sendRaw(body);
    default:
      throw new ControlError(404, `no control route ${route}`);
  }
}

function sendOptions(body) {
  return typeof body?.sharedInbox === "boolean" ? { preferSharedInbox: body.sharedInbox } : {};
}
function ownNote(body) {
  const id = requireUrl(body, "note");
  const rec = state.notes.get(id);
  if (rec == null || rec.deleted) throw new ControlError(404, `this peer has no live note ${id}`);
  return rec;
}

// Sign an arbitrary activity as this peer and POST it; report every knock and Petrel's answers.
// body: { inbox, activity, spec?: "double-knock"|"rfc9421"|"cavage"|"none", keyId? }
async function sendRaw(body) {
  const inbox = requireUrl(body, "inbox");
  if (body.activity == null || typeof body.activity !== "object") throw new ControlError(400, `"activity" is required`);
  const mode = body.spec ?? "double-knock";
  const specs = {
    "double-knock": [FIRST_KNOCK, FIRST_KNOCK === "rfc9421" ? "draft-cavage-http-signatures-12" : "rfc9421"],
    rfc9421: ["rfc9421"],
    cavage: ["draft-cavage-http-signatures-12"],
    none: [null],
  }[mode];
  if (specs == null) throw new ControlError(400, `"spec" must be double-knock, rfc9421, cavage or none`);
  const keyId = new URL(body.keyId ?? `${actorUri().href}#main-key`);
  const payload = JSON.stringify(body.activity);
  const attempts = [];
  for (const spec of specs) {
    let request = new Request(inbox, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" },
      body: payload,
    });
    if (spec != null) request = await signRequest(request, rsa.privateKey, keyId, { spec });
    const response = await fetch(request, { redirect: "manual" });
    const text = await response.text();
    attempts.push({ spec: spec ?? "none", status: response.status, body: text.slice(0, 2000) });
    // Same rule as Fedify's doubleKnock: any 4xx/5xx makes it try the other scheme.
    if (response.status < 400) break;
  }
  const last = attempts[attempts.length - 1];
  return { status: last.status, body: last.body, attempts };
}

// ---------------------------------------------------------------- HTTP server (Node http <-> Fetch)
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
function sendJson(res, status, value, contentType = "application/json") {
  const text = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
async function writeResponse(res, response) {
  const headers = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const buf = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(buf);
}
function signatureScheme(headers) {
  if (headers.has("signature-input")) return headers.has("signature") ? "rfc9421" : "rfc9421-incomplete";
  if (headers.has("signature")) return "draft-cavage";
  if (headers.has("authorization")) return "authorization";
  return "none";
}
const INBOX_PATH = /^\/(?:users\/[^/]+\/)?inbox$/;

async function handle(req, res) {
  // Every request is treated as addressed to BASE, so RFC 9421's @authority/@target-uri is 127.0.0.1:PORT.
  const url = new URL(req.url, BASE);
  const method = req.method ?? "GET";
  const raw = method === "GET" || method === "HEAD" ? null : await readBody(req);

  if (url.pathname.startsWith("/_control/")) {
    let body = null;
    if (raw != null && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return sendJson(res, 400, { error: "body is not JSON" });
      }
    }
    try {
      return sendJson(res, 200, await control(method, url, body));
    } catch (error) {
      if (error instanceof ControlError) return sendJson(res, error.status, { error: error.message, ...error.extra });
      // Delivery failures carry Petrel's status so a test can say why.
      return sendJson(res, 502, {
        error: `${error?.name}: ${error?.message}`,
        status: error?.statusCode ?? null,
        inbox: error?.inbox?.href ?? null,
      });
    }
  }

  // A deleted note is gone: 410 with a Tombstone, as Mastodon answers.
  const rec = method === "GET" ? state.notes.get(url.href) : null;
  if (rec?.deleted) {
    return sendJson(
      res,
      410,
      { "@context": "https://www.w3.org/ns/activitystreams", id: rec.id, type: "Tombstone" },
      "application/activity+json",
    );
  }
  // Activities this peer sent are dereferenceable too.
  const sent = method === "GET" ? state.sent.get(url.href) : null;
  if (sent != null) return sendJson(res, 200, sent.json, "application/activity+json");

  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const request = new Request(url, { method, headers, body: raw });

  if (method === "POST" && INBOX_PATH.test(url.pathname)) {
    let json = null;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      json = null;
    }
    const entry = {
      at: new Date().toISOString(),
      path: url.pathname,
      type: json?.type ?? null,
      id: json?.id ?? null,
      actor: idOf(json?.actor),
      signature: signatureScheme(headers),
      keyId: keyIdOf(headers),
      contentType: headers.get("content-type"),
      status: null,
      response: null,
      recorded: false,
      unverified: null,
      raw: raw.toString("utf8").slice(0, 100000),
    };
    const store = { json, path: url.pathname, signature: entry.signature, entry, after: [] };
    const response = await inboxRequest.run(store, () => federation.fetch(request, { contextData: undefined }));
    entry.status = response.status;
    entry.response = (await response.clone().text()).slice(0, 2000);
    state.inboxLog.push(entry);
    await writeResponse(res, response);
    for (const fn of store.after) fn();
    return;
  }
  const response = await federation.fetch(request, { contextData: undefined });
  await writeResponse(res, response);
}
function keyIdOf(headers) {
  const input = headers.get("signature-input");
  if (input != null) return /keyid="([^"]*)"/i.exec(input)?.[1] ?? null;
  const sig = headers.get("signature");
  if (sig != null) return /keyId="([^"]*)"/.exec(sig)?.[1] ?? null;
  return null;
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    process.stderr.write(`peer: ${req.method} ${req.url} failed: ${error?.stack ?? error}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: String(error?.message ?? error) });
    else res.end();
  });
});
server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  BASE = `http://${args.host}:${port}`;
  process.stdout.write(`READY ${BASE}\n`);
});
function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
