#!/usr/bin/env node
// Proves the peer federates with another Fedify peer before Petrel can talk to it:
// two peers on free ports, A follows B, B accepts; B posts, updates and deletes; A receives each,
// signed and verified by Fedify. Exits 0 on success, 1 with the failed step otherwise.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const children = [];

function startPeer(name, extra = []) {
  // --port 0: the OS picks a free port and the peer reports it in its READY line.
  const child = spawn(process.execPath, [path.join(here, "peer.mjs"), "--port", "0", "--name", name, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`peer ${name} printed no READY line in 30 s`)), 30000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /^READY (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ name, base: m[1], actor: `${m[1]}/users/${name}`, child });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`peer ${name} exited with ${code} before READY`));
    });
  });
}

async function api(peer, method, route, body) {
  const res = await fetch(`${peer.base}/_control${route}`, {
    method,
    headers: body == null ? {} : { "Content-Type": "application/json" },
    body: body == null ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${peer.name}: ${method} ${route} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

let step = "start";
function check(cond, message, detail) {
  if (!cond) {
    const extra = detail === undefined ? "" : `\n  detail: ${JSON.stringify(detail, null, 2).slice(0, 3000)}`;
    throw new Error(`${message}${extra}`);
  }
}
function ok(message) {
  process.stdout.write(`ok   ${message}\n`);
}

async function main() {
  step = "start two peers";
  const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
  ok(`peers up: ${a.actor} and ${b.actor}`);

  step = "A follows B";
  const { id: followId } = await api(a, "POST", "/follow", { actor: b.actor });
  const follows = await api(b, "GET", `/received?type=Follow&wait=10000`);
  check(follows.length === 1, "B should have received exactly one Follow", follows);
  check(follows[0].id === followId && follows[0].actor === a.actor, "B's Follow should be A's", follows[0]);
  check(follows[0].objectId === b.actor, "the Follow's object should be B", follows[0]);
  ok(`B received Follow ${followId} (signature seen: ${follows[0].signature})`);

  step = "B accepts";
  const accepts = await api(a, "GET", `/received?type=Accept&wait=10000`);
  check(accepts.length === 1 && accepts[0].actor === b.actor, "A should have received B's Accept", accepts);
  check(accepts[0].objectId === followId, "the Accept should name A's Follow", accepts[0]);
  const following = await api(a, "GET", "/following");
  check(following.length === 1 && following[0].accepted === true, "A should mark its follow accepted", following);
  const followers = await api(b, "GET", "/followers");
  check(followers.length === 1 && followers[0] === a.actor, "B should list A as follower", followers);
  ok(`A received Accept ${accepts[0].id}; A following accepted; B followers = [A]`);

  step = "B posts";
  const content = `<p>hello from bob ${Date.now()} <a href="#">#petrel</a></p>`;
  const post = await api(b, "POST", "/post", { content, to: "public", hashtag: "petrel", summary: "cw" });
  const creates = await api(a, "GET", `/received?type=Create&wait=10000`);
  check(creates.length === 1, "A should have received exactly one Create", creates);
  const create = creates[0];
  check(create.id === post.activity && create.actor === b.actor, "Create id/actor should match B's post", create);
  check(create.objectType === "Note" && create.object.id === post.note, "Create should embed B's Note", create);
  check(create.object.content === content, "the Note's content should arrive unchanged", create.object);
  check(create.object.summary === "cw", "the content warning should arrive", create.object);
  const tags = [create.object.tag ?? []].flat();
  check(tags.some((t) => t.type === "Hashtag" && t.name === "#petrel"), "the Hashtag should arrive", tags);
  ok(`A received Create(Note) ${post.note} with the content`);

  step = "the Note is dereferenceable";
  const noteRes = await fetch(post.note, { headers: { Accept: "application/activity+json" } });
  const noteJson = await noteRes.json();
  check(noteRes.status === 200 && noteJson.id === post.note, "GET note should answer the Note", noteJson);
  check(/activity\+json/.test(noteRes.headers.get("content-type")), "content type should be activity+json");
  const lookedUp = await api(a, "POST", "/lookup", { id: post.note });
  check(lookedUp.found && lookedUp.type === "Note", "A should look the Note up through Fedify", lookedUp);
  ok(`GET ${post.note} -> 200 ${noteRes.headers.get("content-type")}; Fedify lookup -> ${lookedUp.type}`);

  step = "B updates";
  const updated = "<p>edited by bob</p>";
  const upd = await api(b, "POST", "/update", { note: post.note, content: updated });
  const updates = await api(a, "GET", `/received?type=Update&wait=10000`);
  check(updates.length === 1 && updates[0].id === upd.activity, "A should have received the Update", updates);
  check(updates[0].object?.content === updated, "the Update should carry the new content", updates[0]);
  check(updates[0].object?.updated != null, "the updated Note should carry 'updated'", updates[0].object);
  ok(`A received Update ${upd.activity}`);

  step = "B deletes";
  const del = await api(b, "POST", "/delete", { note: post.note });
  const deletes = await api(a, "GET", `/received?type=Delete&wait=10000`);
  check(deletes.length === 1 && deletes[0].id === del.activity, "A should have received the Delete", deletes);
  check(deletes[0].objectId === post.note, "the Delete should name the note", deletes[0]);
  const gone = await fetch(post.note, { headers: { Accept: "application/activity+json" } });
  check(gone.status === 410, `GET deleted note should answer 410, got ${gone.status}`);
  ok(`A received Delete ${del.activity}; GET note -> 410`);

  step = "likes reach the author";
  const post2 = await api(a, "POST", "/post", { content: "<p>alice here</p>", to: "public" });
  const like = await api(b, "POST", "/like", { object: post2.note });
  const likes = await api(a, "GET", `/received?type=Like&wait=10000`);
  check(likes.length === 1 && likes[0].id === like.id && likes[0].objectId === post2.note, "A should get B's Like", likes);
  const undo = await api(b, "POST", "/undo", { activity: like.id });
  const undos = await api(a, "GET", `/received?type=Undo&wait=10000`);
  check(undos.length === 1 && undos[0].id === undo.id && undos[0].objectId === like.id, "A should get Undo(Like)", undos);
  ok(`A received Like ${like.id} and its Undo`);

  step = "unsigned and forged deliveries are refused";
  const forged = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${b.base}/forged/${Date.now()}`,
    type: "Create",
    actor: b.actor,
    object: { id: `${b.base}/forged-note`, type: "Note", attributedTo: b.actor, content: "forged" },
  };
  const unsigned = await api(a, "POST", "/send-raw", { inbox: `${b.base}/inbox`, activity: forged, spec: "none" });
  check(unsigned.status === 401, "an unsigned POST should be answered 401", unsigned);
  const rejected = await api(b, "GET", "/rejected?reason=noSignature");
  check(rejected.some((r) => r.id === forged.id), "B should record the unsigned delivery as rejected", rejected);
  // A signs with its own key but claims to be B: Fedify refuses the actor/key mismatch.
  const mismatch = await api(a, "POST", "/send-raw", { inbox: `${b.base}/inbox`, activity: forged });
  check(mismatch.status === 401, "a delivery signed by A claiming B should be answered 401", mismatch);
  const received = await api(b, "GET", "/received?type=Create");
  check(!received.some((r) => r.id === forged.id), "B must not record the forged Create as received", received);
  const log = await api(b, "GET", `/inbox-log?id=${encodeURIComponent(forged.id)}`);
  check(log.length === 3 && log.every((e) => e.status === 401), "B's inbox log should hold the 3 refused POSTs", log);
  check(log[2].response === "The signer and the actor do not match.", "the log keeps Fedify's answer", log[2]);
  const logs = await api(b, "GET", "/logs?category=fedify.federation.inbox");
  check(logs.some((l) => /do not match/.test(l.message)), "Fedify's own log should say why", logs.slice(-5));
  ok(`unsigned -> ${unsigned.status} (${rejected.at(-1).reason}); key/actor mismatch -> ${mismatch.status} "${mismatch.body}"`);

  step = "cavage-only signatures are accepted";
  const viaCavage = { ...forged, id: `${a.base}/raw/${Date.now()}`, actor: a.actor, object: post2.note, type: "Like" };
  const cav = await api(a, "POST", "/send-raw", { inbox: `${b.base}/inbox`, activity: viaCavage, spec: "cavage" });
  check(cav.status === 202, "a cavage-signed Like from A should be accepted", cav);
  const rawLikes = await api(b, "GET", "/inbox-log?type=Like");
  check(rawLikes.some((e) => e.id === viaCavage.id && e.signature === "draft-cavage"), "inbox log shows cavage", rawLikes);
  ok(`cavage-signed send-raw -> ${cav.status}; rfc9421 first knock seen on deliveries: ${follows[0].signature}`);
}

let failed = false;
try {
  await main();
  process.stdout.write("selftest: PASS\n");
} catch (error) {
  failed = true;
  process.stdout.write(`selftest: FAIL at step "${step}": ${error?.message ?? error}\n`);
} finally {
  for (const child of children) {
    if (child.exitCode == null) {
      child.kill("SIGTERM");
      await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 3000))]);
    }
  }
}
process.exit(failed ? 1 : 0);
