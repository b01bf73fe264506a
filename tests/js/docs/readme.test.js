// What a TypeScript developer reads (issue 12 part 4): every ```js / ```ts snippet of README.md
// compiles under `strict` as written, against the package's own .d.ts (resolved by package name
// through its "exports", as in an app), and the README that ships in the tarball links only to
// files the tarball holds or to absolute URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');

export function snippets(markdown, languages) {
  const found = [];
  for (const match of markdown.matchAll(/^```(\w+)[^\n]*\n([\s\S]*?)^```/gm)) {
    if (languages.includes(match[1])) found.push({ language: match[1], code: match[2], line: markdown.slice(0, match.index).split('\n').length });
  }
  return found;
}

// The names the snippets use without defining them: an app's own elements and functions. Declared
// here, never by editing a snippet.
const PRELUDE = `
declare const userId: number;
declare const balance: HTMLElement;
declare function render(state: import('ton-earnings-guard').EarningsState): void;
declare function showBanner(message: string, options: import('ton-earnings-guard').CorruptionEvent['options']): void;
declare function warn(message: string): void;
`;

function tscPath() {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  } catch {
    assert.fail('typescript is not installed: it is a devDependency, run `npm ci`');
  }
}

test('every js/ts snippet of README.md type-checks under strict against the package\'s .d.ts', () => {
  const code = snippets(README, ['js', 'ts', 'typescript']);
  assert.ok(code.length >= 3, 'the README has its usual snippets');
  const work = mkdtempSync(path.join(tmpdir(), 'teg-readme-'));
  try {
    mkdirSync(path.join(work, 'node_modules'));
    symlinkSync(REPO, path.join(work, 'node_modules', 'ton-earnings-guard'), 'dir');
    writeFileSync(path.join(work, 'prelude.d.ts'), PRELUDE);
    const files = code.map((snippet, i) => {
      const file = `readme-line-${snippet.line}-${i}.ts`;
      writeFileSync(path.join(work, file), snippet.code);
      return file;
    });
    writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler',
        lib: ['es2022', 'dom', 'dom.iterable'], types: [], skipLibCheck: false, noUncheckedIndexedAccess: true,
      },
      files: ['prelude.d.ts', ...files],
    }));
    let output = '';
    try {
      execFileSync(process.execPath, [tscPath(), '-p', work], { cwd: work, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    }
    assert.equal(output, '', `README snippets do not compile (file names carry the README line):\n${output}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the type check fails on a snippet that is wrong (the test can fail)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'teg-readme-bad-'));
  try {
    mkdirSync(path.join(work, 'node_modules'));
    symlinkSync(REPO, path.join(work, 'node_modules', 'ton-earnings-guard'), 'dir');
    writeFileSync(path.join(work, 'bad.ts'), [
      "import { createEarningsManager } from 'ton-earnings-guard';",
      'const earnings = await createEarningsManager();',
      'await earnings.updateEarnings(1, 0.001);',
    ].join('\n'));
    writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] },
      files: ['bad.ts'],
    }));
    assert.throws(() => execFileSync(process.execPath, [tscPath(), '-p', work], { cwd: work, stdio: 'pipe' }),
      (error) => /bad\.ts.*number.*string|Argument of type 'number'/s.test(String(error.stdout)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

// Markdown links and images, reference definitions and HTML src/href attributes.
export function linkTargets(markdown) {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [];
  for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]);
  for (const match of withoutCode.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(match[1]);
  for (const match of withoutCode.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)) targets.push(match[1]);
  return targets;
}

test('the README in the tarball links only to files the tarball holds or to absolute URLs', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const shipped = new Set(packed[0].files.map((file) => file.path));
  assert.ok(shipped.has('README.md'));
  const targets = linkTargets(README);
  assert.ok(targets.length > 0, 'the link reader found no link: it is broken');
  for (const target of targets) {
    if (/^(https?:|mailto:)/.test(target) || target.startsWith('#')) continue;
    const file = path.posix.normalize(decodeURI(target.split('#')[0]));
    assert.ok(shipped.has(file), `README links to ${target}, which the tarball does not hold (npm pack --dry-run)`);
  }
});

test('the link reader reads links, images, references and HTML attributes, and skips code', () => {
  assert.deepEqual(linkTargets('![a](docs/a.png) [b](https://x.y/z "t") `[c](no.md)`\n[d]: ./d.md\n<img src="e.png">\n```\n[f](code.md)\n```'),
    ['docs/a.png', 'https://x.y/z', './d.md', 'e.png']);
});
