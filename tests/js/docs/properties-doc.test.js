// docs/PROPERTIES.md and the tests that cite "Property N" stay in step: every tag under tests/
// resolves to an entry, every file an entry lists exists and cites that property, and every file
// that cites a property is listed under it (so "where is Property N tested" has a true answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = 'docs/PROPERTIES.md';
const SOURCE = /\.(c|cc|cpp|h|hpp|js|mjs|cjs|ts|sh|html)$/;
// This file's own examples of tags are not citations.
const SELF = path.relative(REPO, fileURLToPath(import.meta.url)).split(path.sep).join('/');

function* filesUnder(dir) {
  for (const entry of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(relative);
    else if (SOURCE.test(entry.name)) yield relative;
  }
}

// "Property 7", "Properties 11 and 30", "Properties 16-18", "Properties 26/28".
export function citedProperties(text) {
  const cited = new Set();
  for (const match of text.matchAll(/\bPropert(?:y|ies)\s+(\d+(?:\s*(?:,|\/|-|–|and|or)\s*\d+)*)/g)) {
    const list = match[1];
    for (const range of list.matchAll(/(\d+)\s*[-–]\s*(\d+)/g)) {
      for (let n = Number(range[1]); n <= Number(range[2]); n += 1) cited.add(n);
    }
    for (const single of list.matchAll(/\d+/g)) cited.add(Number(single[0]));
  }
  return cited;
}

// Entry N: its "## Property N: Name" heading and the `tests/...` paths listed below it.
function readDoc() {
  const entries = new Map();
  let current = null;
  for (const line of readFileSync(path.join(REPO, DOC), 'utf8').split('\n')) {
    const heading = /^## Property (\d+): (.+)$/.exec(line);
    if (heading) {
      const n = Number(heading[1]);
      assert.ok(!entries.has(n), `${DOC} has two entries for Property ${n}`);
      current = { name: heading[2], files: new Set() };
      entries.set(n, current);
    } else if (line.startsWith('## ')) {
      current = null;
    } else if (current) {
      for (const cited of line.matchAll(/`(tests\/[^`\s]+)`/g)) current.files.add(cited[1]);
    }
  }
  return entries;
}

const entries = readDoc();
const citations = new Map();
for (const file of filesUnder('tests')) {
  if (file === SELF) continue;
  for (const n of citedProperties(readFileSync(path.join(REPO, file), 'utf8'))) {
    if (!citations.has(n)) citations.set(n, new Set());
    citations.get(n).add(file);
  }
}

test('the tag reader reads single tags, lists and ranges', () => {
  assert.deepEqual([...citedProperties('Property 7 and Properties 11 and 30, Properties 16-18')].sort((a, b) => a - b),
    [7, 11, 16, 17, 18, 30]);
  assert.deepEqual([...citedProperties('PropertyTests 3, property-based')], []);
});

test('docs/PROPERTIES.md has the 32 properties of the design, in order, each with a test', () => {
  assert.deepEqual([...entries.keys()], Array.from({ length: 32 }, (_, i) => i + 1));
  for (const [n, entry] of entries) assert.ok(entry.files.size > 0, `Property ${n} lists no test`);
});

test('every "Property N" cited under tests/ resolves to an entry of docs/PROPERTIES.md', () => {
  assert.ok(citations.size > 0, 'no test cites a property: the tag reader is broken');
  for (const [n, files] of citations) {
    assert.ok(entries.has(n), `Property ${n} is cited by ${[...files].join(', ')} but has no entry in ${DOC}`);
  }
});

test('every file listed under a property exists and cites it; every file citing it is listed', () => {
  for (const [n, entry] of entries) {
    const citing = citations.get(n) ?? new Set();
    for (const file of entry.files) {
      assert.ok(citing.has(file), `${DOC} lists ${file} under Property ${n}, but that file does not exist or does not cite it`);
    }
    for (const file of citing) {
      assert.ok(entry.files.has(file), `${file} cites Property ${n} but ${DOC} does not list it there`);
    }
  }
});
