// scripts/setup.sh installs PostgreSQL, pgbouncer and haproxy for the tests, whose Debian packages
// would start (and enable) their system services. It must install them with service starts
// refused (policy-rc.d answering 101 while apt runs), leave no policy of its own behind, keep a
// policy the machine had, and disable at boot only the daemons it installed, only under systemd.
// Run against stand-ins for dpkg, apt-get, id and systemctl on PATH that log what they were asked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const SETUP = new URL('../../../scripts/setup.sh', import.meta.url);

const STANDINS = {
  // Installed: everything but the packages the test names in MISSING.
  dpkg: `for p in $MISSING; do [ "$2" = "$p" ] && exit 1; done; exit 0`,
  id: 'echo 0',
  // `install` records whether starting a service would be allowed at that moment.
  'apt-get': `if [ "$1" = install ]; then
  if [ -x "$SETUP_POLICY_RC_D" ]; then "$SETUP_POLICY_RC_D" haproxy start; echo "policy=$? apt-get $*" >>"$LOG"
  else echo "policy=none apt-get $*" >>"$LOG"; fi
else echo "apt-get $*" >>"$LOG"; fi`,
  systemctl: `if [ "$1" = is-system-running ]; then echo "$SYSTEM_STATE"; [ "$SYSTEM_STATE" = running ]; exit; fi
echo "systemctl $*" >>"$LOG"`,
};

function runSetup({ missing, systemState, policy = null }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-test-'));
  try {
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.copyFileSync(SETUP, path.join(root, 'scripts', 'setup.sh'));
    // node_modules newer than the lock file: no npm ci.
    fs.writeFileSync(path.join(root, 'package-lock.json'), '{}');
    fs.mkdirSync(path.join(root, 'node_modules'));
    fs.writeFileSync(path.join(root, 'node_modules', '.package-lock.json'), '{}');
    const future = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'node_modules', '.package-lock.json'), future, future);
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(STANDINS)) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
    const policyFile = path.join(root, 'policy-rc.d');
    if (policy !== null) fs.writeFileSync(policyFile, policy, { mode: 0o755 });
    const log = path.join(root, 'log');
    fs.writeFileSync(log, '');
    execFileSync('bash', [path.join(root, 'scripts', 'setup.sh')], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        MISSING: missing.join(' '),
        SYSTEM_STATE: systemState,
        SETUP_POLICY_RC_D: policyFile,
        LOG: log,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return {
      calls: fs.readFileSync(log, 'utf8').trim().split('\n'),
      policyAfter: fs.existsSync(policyFile) ? fs.readFileSync(policyFile, 'utf8') : null,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('setup installs the daemons with service starts refused and disables at boot, under systemd, only those it installed', () => {
  const { calls, policyAfter } = runSetup({ missing: ['pgbouncer', 'haproxy', 'cmake'], systemState: 'running' });
  assert.deepEqual(calls, [
    'apt-get update',
    'policy=101 apt-get install -y --no-install-recommends cmake pgbouncer haproxy',
    'systemctl disable --quiet pgbouncer.service',
    'systemctl disable --quiet haproxy.service',
  ]);
  assert.equal(policyAfter, null);
});

test('setup without systemd (a container) installs with starts refused and touches no service', () => {
  const { calls, policyAfter } = runSetup({ missing: ['postgresql', 'haproxy'], systemState: 'offline' });
  assert.deepEqual(calls, ['apt-get update', 'policy=101 apt-get install -y --no-install-recommends postgresql haproxy']);
  assert.equal(policyAfter, null);
});

test("setup keeps the machine's own policy-rc.d as it was", () => {
  const own = '#!/bin/sh\nexit 0\n';
  const { calls, policyAfter } = runSetup({ missing: ['haproxy'], systemState: 'offline', policy: own });
  assert.deepEqual(calls, ['apt-get update', 'policy=0 apt-get install -y --no-install-recommends haproxy']);
  assert.equal(policyAfter, own);
});

test('setup with nothing missing runs neither apt nor systemctl', () => {
  const { calls } = runSetup({ missing: [], systemState: 'running' });
  assert.deepEqual(calls, ['']);
});
