// What the core's error messages cost in the shipped wasm, and what a shared message table (one
// text per stable error code, each site passing its code and only the variable detail) could save
// at most, priced on the built dist/earnings-core.wasm without rebuilding anything: the messages'
// bytes in its data section are zeroed in place (nothing else moves), and the module gzipped again.
// - the core's own messages: the data strings with a space in them, less nlohmann's lexer and
//   parser messages (its own text, which a table of ours would not hold), the contract table
//   (JSON) and embind's type names;
// - detail only: of each message only its identifiers, numbers and quoted parts kept, the words
//   that say what is wrong dropped: what a site would still pass if the table said the rest;
// - plus a table: that, with one text per code written into the freed bytes.
// The last row is a ceiling: a message kept as clear needs more of its words than its
// identifiers. Prints a table; asserts nothing.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

import { printTable } from './core-table.js';

const wasm = readFileSync(new URL('../dist/earnings-core.wasm', import.meta.url));

function dataSegments(module) {
  let at = 8;
  const leb = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = module[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const segments = [];
  while (at < module.length) {
    const id = module[at++];
    const end = leb() + at;
    if (id === 11) {
      for (let count = leb(); count > 0; count--) {
        const flags = leb();
        if (flags === 2) leb();
        if (flags !== 1) while (module[at++] !== 0x0b); // the offset expression
        const length = leb();
        segments.push([at, at + length]);
        at += length;
      }
    }
    at = end;
  }
  return segments;
}

// Runs of printable ASCII, 4 bytes or more: the C strings of the data section.
function strings(module, segments) {
  const found = [];
  for (const [from, to] of segments) {
    let start = from;
    for (let i = from; i <= to; i++) {
      if (i === to || module[i] < 0x20 || module[i] > 0x7e) {
        if (i - start >= 4) found.push({ from: start, to: i, text: module.toString('latin1', start, i) });
        start = i + 1;
      }
    }
  }
  return found;
}

const NLOHMANN = /^(invalid (string|number|literal|BOM|comment)|syntax error|parse error|<parse error>|unexpected |number overflow|while parsing|at line|, column|; last read|object key|object separator|end of input|'\[', '\{'|(number|null|string|true|false) literal|unknown token)/;
const EMBIND = /^(unsigned |signed |emscripten::|std::)/;
const isCoreMessage = ({ text }) => text.includes(' ') && !text.includes('":') && !NLOHMANN.test(text.trimStart()) && !EMBIND.test(text);
const DETAIL = /[A-Za-z_][\w.]*[A-Z0-9_.][\w.]*|\d+|"[^"]*"|\[[^\]]*\]/g;

// One text per stable code (src/status.h), as a table would hold them.
const TABLE = [
  'amount is not a decimal string of TON', 'amount has more than 8 decimals', 'amount is out of range',
  'amount must not be negative', 'amount exceeds what the elapsed time allows', 'rate is not a valid rate per hour',
  'user id must be a positive safe integer', 'time is not a valid millisecond count', 'timestamps go backwards',
  'the earnings state is not valid', 'the stored record is corrupt', 'the stored record has an unknown version',
  'the stored record belongs to another user', 'the server answer is not valid', 'an op arrived out of sequence',
  'the request is not valid', 'the configuration is not valid',
].join('\0');

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const messages = strings(wasm, dataSegments(wasm)).filter(isCoreMessage);

const blanked = Buffer.from(wasm);
for (const { from, to } of messages) blanked.fill(0, from, to);

const detailOnly = Buffer.from(wasm);
let detailBytes = 0;
for (const { from, to, text } of messages) {
  const keep = new Uint8Array(to - from);
  for (const match of text.matchAll(DETAIL)) {
    keep.fill(1, match.index, match.index + match[0].length);
    detailBytes += match[0].length;
  }
  for (let i = from; i < to; i++) if (!keep[i - from]) detailOnly[i] = 0;
}

const withTable = Buffer.from(detailOnly);
let written = 0;
for (const { from, to } of [...messages].sort((a, b) => b.to - b.from - (a.to - a.from))) {
  if (written >= TABLE.length) break;
  const part = TABLE.slice(written, written + to - from);
  withTable.write(part, from, 'latin1');
  written += part.length;
}

const messageBytes = messages.reduce((sum, { from, to }) => sum + to - from, 0);
const shipped = gzip(wasm);
const row = (what, raw, bytes) => [what, raw, bytes, shipped - bytes];
printTable(`The core's own messages in dist/earnings-core.wasm (${messages.length} strings; bytes)`, ['variant', 'message bytes', 'wasm gzip -9', 'saved'], [
  row('as built', messageBytes, shipped),
  row('messages blanked (all they cost)', 0, gzip(blanked)),
  row('detail only (identifiers, numbers, quoted)', detailBytes, gzip(detailOnly)),
  row(`detail only + a table of ${TABLE.split('\0').length} texts`, detailBytes + TABLE.length, gzip(withTable)),
]);
