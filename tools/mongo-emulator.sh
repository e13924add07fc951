#!/usr/bin/env bash
# (A copy of the team handbook's ../shared/tools/mongo-emulator.sh, kept in the repository so a clean clone can run it.)
# A MongoDB-wire-compatible test server on 127.0.0.1, for running the MongoDB-backed tests where no real mongod
# can be had (MongoDB is in no registry reachable here; the npm and NuGet wrappers download it at run time).
#
#   export MONGODB_URI=$(bash ../shared/tools/mongo-emulator.sh | tail -n1)
#
# The server is CongoDB, the in-memory wire-protocol server inside npm's @push.rocks/smartmongo 2.2.0, with eight
# fixes applied at install (each a general MongoDB behaviour: any BSON _id, Int64 kept, BSON values through update
# operators, binary string order, expression projections, {_id: 1} projections, Binary comparison, numeric $type).
# With them, every MongoDB-backed test of the project passed against it, and the standalone host with
# Mongo__ConnectionString wrote the documents the README describes.
#
# What it does NOT show, so keep docker compose's real MongoDB as the reference: unique secondary indexes are not
# enforced; index conflicts are not reported; no authentication; memory only (a restarted server is empty); no
# concurrency inside the server; some error codes differ. A green run means "works against a MongoDB-like server".
# Found by Treecast (2026-11-29), not fixed here: 64-bit integers compare as strings in $max/$min and $lt/$gt
# ("9000" > "12288"), and two concurrent conditional updates of one document can both apply. Code that relies on
# either must not be trusted to the emulator alone (Treecast stores progress bytes as doubles and serialises its
# tree-version counter in-process for this reason).
# The URI asks drivers to poll the server's state (serverMonitoringMode=poll: one hello every 10 s). CongoDB answers the
# awaitable hello of the default streaming mode at once, where MongoDB holds it for up to maxAwaitTimeMS, so a streaming
# driver asks again at once, in a loop: 7,300 hellos in one 14-second broadcast of bench saga, 4 CPU-seconds of the
# client's and 1.5 of the server's, on a 2-core machine busy with the transfer. Against a real MongoDB either mode is cheap.
#
# Installs into $TREECAST_MONGO_HOME (default: ~/.cache/treecast-congodb) when missing: node and npm (Debian's
# nodejs/npm if absent), then pinned npm packages (about 30 s). Port: $TREECAST_MONGO_PORT, else a free one. A server
# this script started that still answers is reused. Stop it: kill "$(cat "$TREECAST_MONGO_HOME/server.pid")".
# Progress goes to stderr; stdout is the URI alone. CONGO_LOG=1 in the environment logs every command and reply.
set -euo pipefail
home="${TREECAST_MONGO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/treecast-congodb}"
stamp="$home/.installed-congodb-2.2.0-treecast-3"
log() { echo "start-mongo: $*" >&2; }
mkdir -p "$home"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing Debian's nodejs and npm"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; } >&2
fi

if [ ! -f "$stamp" ]; then
  log "installing CongoDB (npm @push.rocks/smartmongo 2.2.0) into $home"
  rm -rf "$home/node_modules" "$home/package.json" "$home/package-lock.json" "$home"/push.rocks-smartmongo-*.tgz
  echo '{ "name": "treecast-congodb", "private": true }' > "$home/package.json"
  # Only what CongoDB needs: the package's other dependencies (a MongoDB downloader, a dump tool) are not used,
  # and one of them needs a version the registry does not serve. --ignore-scripts: nothing to build or fetch.
  (cd "$home" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
      bson@6.10.4 mingo@7.2.7 @push.rocks/smartfs@1.5.0 @push.rocks/smartpath@5.1.0 \
      @push.rocks/smartpromise@4.2.3 @push.rocks/smartrx@3.0.10 >&2 \
    && npm pack --silent @push.rocks/smartmongo@2.2.0 >/dev/null)
  mkdir -p "$home/node_modules/@push.rocks/smartmongo"
  tar xzf "$home"/push.rocks-smartmongo-2.2.0.tgz -C "$home/node_modules/@push.rocks/smartmongo" --strip-components=1
  cat > "$home/patch-congo.mjs" <<'PATCH'
// Fixes to CongoDB (npm @push.rocks/smartmongo 2.2.0, dist_ts/congodb) and its query library (mingo 7.2.7) that make
// it serve documents whose _id is not an ObjectId and keep BSON types. Usage: node patch-congo.mjs <install dir>
// (the folder holding node_modules). Idempotent: a patched file starts with the marker and is left alone.
import fs from 'node:fs';
import path from 'node:path';
const prefix = process.argv[2];
if (!prefix) { console.error('usage: node patch-congo.mjs <dir with node_modules>'); process.exit(2); }
const congo = path.join(prefix, 'node_modules/@push.rocks/smartmongo/dist_ts/congodb');
const MARK = '/* treecast-patch */';
// Documents are keyed by their _id: any BSON value, numbers by value (5, 5.0 and NumberLong(5) are one _id, as in MongoDB).
const KEY = 'const __idKey = (id) => (id instanceof plugins.bson.ObjectId) ? id.toHexString()'
  + " : (typeof id === 'number' || typeof id === 'bigint') ? 'n:' + String(id)"
  + ' : plugins.bson.EJSON.stringify({ v: id }, { relaxed: false });\n';
function patch(file, edits, prelude = '', after = "congodb.plugins.js'") {
  let src = fs.readFileSync(file, 'utf8');
  if (src.startsWith(MARK)) return;
  for (const [from, to] of edits) {
    if (!src.includes(from)) throw new Error(`${file}: pattern not found: ${from}`);
    src = src.split(from).join(to);
  }
  if (prelude) {
    const i = src.indexOf('\n', src.indexOf(after)) + 1;
    src = src.slice(0, i) + prelude + src.slice(i);
  }
  fs.writeFileSync(file, MARK + '\n' + src);
  console.log('patched', path.relative(prefix, file));
}
const c = (rel) => path.join(congo, rel);
// 1. Any BSON value as _id: CongoDB 2.2.0 turns every _id into an ObjectId (a UUID, string or number _id fails
//    with "input must be a 24 character hex string") and keys documents by its hex string.
patch(c('storage/MemoryStorageAdapter.js'), [
  ['_id: doc._id instanceof plugins.bson.ObjectId ? doc._id : new plugins.bson.ObjectId(doc._id),', '_id: doc._id === undefined ? new plugins.bson.ObjectId() : doc._id,'],
  ['if (!storedDoc._id) {', 'if (storedDoc._id === undefined) {'],
  ['const idStr = storedDoc._id.toHexString();', 'const idStr = __idKey(storedDoc._id);'],
  ['throw new Error(`Duplicate key error: _id ${idStr}`);', "throw Object.assign(new Error(`E11000 Duplicate key error collection: ${dbName}.${collName} index: _id_ dup key: { _id: ${idStr} }`), { code: 11000, codeName: 'DuplicateKey' });"],
  ['return collection.get(id.toHexString()) || null;', 'return collection.get(__idKey(id)) || null;'],
  ['const idStr = id.toHexString();', 'const idStr = __idKey(id);'],
  ['return collection.delete(id.toHexString());', 'return collection.delete(__idKey(id));'],
], KEY);
patch(c('engine/IndexEngine.js'), [
  ['doc._id.toHexString()', '__idKey(doc._id)'],
  ['oldDoc._id.toHexString()', '__idKey(oldDoc._id)'],
  ['newDoc._id.toHexString()', '__idKey(newDoc._id)'],
], KEY);
patch(c('server/handlers/InsertHandler.js'), [['if (!doc._id) {', 'if (doc._id === undefined) {']]);
// 2. Int64 stays Int64: read BSON with useBigInt64 (CongoDB let the bson library turn NumberLong into a JS number,
//    written back as Int32 or Double), and let $inc, sorting and JSON work on bigint.
patch(c('server/WireProtocol.js'), [
  ['plugins.bson.deserialize(docBuffer)', 'plugins.bson.deserialize(docBuffer, { useBigInt64: true })'],
  ['plugins.bson.deserialize(queryBuffer)', 'plugins.bson.deserialize(queryBuffer, { useBigInt64: true })'],
]);
patch(c('engine/UpdateEngine.js'), [
  // 3. Keep BSON values (Binary/UUID, Long, Decimal128, ...) when an update operator copies a document: CongoDB's
  //    deepClone turned them into plain sub-documents.
  ['        if (Array.isArray(obj)) {\n            return obj.map(item => this.deepClone(item));', "        if (typeof obj._bsontype === 'string' || ArrayBuffer.isView(obj)) {\n            return obj;\n        }\n        if (Array.isArray(obj)) {\n            return obj.map(item => this.deepClone(item));"],
  ["            const current = this.getNestedValue(doc, path) || 0;\n            if (typeof current !== 'number') {\n                throw new Error(`Cannot apply $inc to non-numeric field: ${path}`);\n            }\n            this.setNestedValue(doc, path, current + value);",
   "            const current = this.getNestedValue(doc, path) ?? (typeof value === 'bigint' ? 0n : 0);\n            if (typeof current !== 'number' && typeof current !== 'bigint') {\n                throw Object.assign(new Error(`Cannot apply $inc to a value of non-numeric type at ${path}`), { code: 14, codeName: 'TypeMismatch' });\n            }\n            const whole = (x) => typeof x === 'bigint' || Number.isInteger(x);\n            this.setNestedValue(doc, path, typeof current === typeof value ? current + value : (whole(current) && whole(value) ? BigInt(current) + BigInt(value) : Number(current) + Number(value)));"],
]);
patch(c('engine/QueryEngine.js'), [
  // 4. Strings sort by code unit (MongoDB's simple binary collation), not by locale; numbers of mixed types by value.
  ["        if (typeof a === 'string' && typeof b === 'string') {\n            return a.localeCompare(b);", "        if (typeof a === 'string' && typeof b === 'string') {\n            return a < b ? -1 : a > b ? 1 : 0;"],
  ["        if (typeof a === 'number' && typeof b === 'number') {\n            return a - b;", "        if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {\n            return a < b ? -1 : a > b ? 1 : 0;"],
  // 5. Projections with aggregation expressions (MongoDB 4.4+ find), e.g. the .NET driver's { _v: "$_id", _id: 0 }
  //    for Project(x => x.Id): CongoDB treated them as exclusions and returned the whole document.
  ['    static project(documents, projection) {\n        if (!projection || Object.keys(projection).length === 0) {\n            return documents;\n        }',
   '    static project(documents, projection) {\n        if (!projection || Object.keys(projection).length === 0) {\n            return documents;\n        }\n        if (Object.values(projection).some(v => !(v === 0 || v === 1 || v === true || v === false || v === 0n || v === 1n))) {\n            return new __Aggregator([{ $project: projection }]).run(documents);\n        }'],
  // 6. An inclusion projection of _id alone ({ _id: 1 }, what the .NET driver sends for Project(x => x.Id) when the id
  //    is mapped to _id) returns only _id; CongoDB returned the whole document.
  ["const hasInclusion = keys.some(k => k !== '_id' && projection[k] === 1);", "const hasInclusion = keys.some(k => (k !== '_id' || keys.length === 1) && (projection[k] === 1 || projection[k] === true));"],
], "import { Aggregator as __Aggregator } from 'mingo';\n", "from 'mingo';");
patch(c('congodb.plugins.js'), [
  // 7. Binary values compare by subtype and bytes: mingo compares objects that have their own toString() by that
  //    string, and Binary.toString() is a lossy UTF-8 decode that ignores the subtype.
  ["import * as bson from 'bson';", "import * as bson from 'bson';\n{ const t = bson.Binary.prototype.toString; bson.Binary.prototype.toString = function (e) { return e === undefined ? `BinData(${this.sub_type},${t.call(this, 'hex')})` : t.call(this, e); }; }\nif (!BigInt.prototype.toJSON) BigInt.prototype.toJSON = function () { return this.toString(); };"],
]);
// 8. mingo: $type "long"/18 is a bigint (Int64), "int"/16 a 32-bit integral number, "number" either; numbers of
//    different BSON types compare by value, as in MongoDB (NumberLong(2) matches 2, and $lt/$gt work across them).
const num = "((x) => typeof x === 'number' || typeof x === 'bigint')";
for (const flavour of ['cjs', 'esm']) {
  const m = (rel) => path.join(prefix, `node_modules/mingo/${flavour}/${rel}`);
  const typeOf = flavour === 'cjs' ? '(0, import_internal2.typeOf)' : 'typeOf';
  patch(m('operators/_predicates.js'), [
    ['function compareType(a, b, _) {', "compareFuncs.long = compareFuncs[18] = (v) => typeof v === 'bigint';\ncompareFuncs.int = compareFuncs[16] = (v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;\n{ const n = compareFuncs.number; compareFuncs.number = (v) => typeof v === 'bigint' || n(v); }\nfunction compareType(a, b, _) {"],
    [`if (${typeOf}(v) === ${typeOf}(b) && f(v, b)) return true;`, `if ((${typeOf}(v) === ${typeOf}(b) || (${num}(v) && ${num}(b))) && f(v, b)) return true;`],
  ]);
  patch(m('util/_internal.js'), [
    ['  if (typeof a !== typeof b) return false;\n', "  if (typeof a !== typeof b && " + num + "(a) && " + num + "(b)) return (typeof a === 'number' ? Number.isInteger(a) : Number.isInteger(b)) && BigInt(a) === BigInt(b);\n  if (typeof a !== typeof b) return false;\n"],
  ]);
}
PATCH
  node "$home/patch-congo.mjs" "$home" >&2
  cat > "$home/server.mjs" <<'SERVER'
// CongoDB on 127.0.0.1:$PORT, in memory. CONGO_LOG=1 prints every command and its reply (EJSON) to stdout.
import { CongoServer, CommandRouter } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import * as bson from 'bson';
if (process.env.CONGO_LOG === '1') {
  const route = CommandRouter.prototype.route;
  CommandRouter.prototype.route = async function (parsed) {
    const reply = await route.call(this, parsed);
    console.log('CMD', bson.EJSON.stringify(parsed.command), '->', bson.EJSON.stringify(reply));
    return reply;
  };
}
const server = new CongoServer({ host: '127.0.0.1', port: Number(process.env.PORT) });
await server.start();
console.log('listening on', server.getConnectionUri());
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
SERVER
  cat > "$home/ping.mjs" <<'PING'
// Exit 0 when the server at 127.0.0.1:$PORT answers { ping: 1 } over OP_MSG with ok: 1.
import net from 'node:net';
import * as bson from 'bson';
const body = bson.serialize({ ping: 1, $db: 'admin' });
const msg = Buffer.alloc(21 + body.length);
msg.writeInt32LE(msg.length, 0); msg.writeInt32LE(1, 4); msg.writeInt32LE(0, 8); msg.writeInt32LE(2013, 12);
msg.writeUInt32LE(0, 16); msg.writeUInt8(0, 20); Buffer.from(body).copy(msg, 21);
const socket = net.connect(Number(process.env.PORT), '127.0.0.1', () => socket.write(msg));
let got = Buffer.alloc(0);
socket.on('data', (d) => {
  got = Buffer.concat([got, d]);
  if (got.length >= 4 && got.length >= got.readInt32LE(0)) {
    const reply = bson.deserialize(got.subarray(21, got.readInt32LE(0)));
    process.exit(reply.ok === 1 ? 0 : 1);
  }
});
socket.on('error', () => process.exit(1));
setTimeout(() => process.exit(1), 3000);
PING
  touch "$stamp"
fi

answers() { (cd "$home" && PORT="$1" node ping.mjs) 2>/dev/null; }

# Reuse a server this script started that still answers.
if [ -f "$home/server.pid" ] && [ -f "$home/server.port" ] && kill -0 "$(cat "$home/server.pid")" 2>/dev/null \
   && answers "$(cat "$home/server.port")"; then
  log "reusing the server already running (pid $(cat "$home/server.pid"))"
  echo "mongodb://127.0.0.1:$(cat "$home/server.port")/?serverMonitoringMode=poll"
  exit 0
fi

port="${TREECAST_MONGO_PORT:-}"
if [ -z "$port" ]; then
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
fi
# exec: the pid recorded is node's own, and nothing holds this script's stdout open (so $(...) returns).
(cd "$home" && PORT="$port" exec nohup node server.mjs < /dev/null > "$home/server.log" 2>&1) &
echo $! > "$home/server.pid"
echo "$port" > "$home/server.port"
for _ in $(seq 1 60); do
  if answers "$port"; then
    log "CongoDB answering on 127.0.0.1:$port (pid $(cat "$home/server.pid"), log $home/server.log)"
    echo "mongodb://127.0.0.1:$port/?serverMonitoringMode=poll"
    exit 0
  fi
  if ! kill -0 "$(cat "$home/server.pid")" 2>/dev/null; then break; fi
  sleep 0.5
done
log "the server did not answer on 127.0.0.1:$port; its log:"
tail -n 20 "$home/server.log" >&2 || true
exit 1
