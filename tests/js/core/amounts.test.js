// Money through the JS API: decimal strings in and out, exact BigInt units, every malformed or
// non-string input refused with a stable code (a JS number is never money).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { loadCore, EarningsError } from '../../../js/core.js';

const MAX_UNITS = 999999999999999999n;
const runs = { numRuns: 200, seed: 20261124 };

function throwsCode(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof EarningsError, `expected an EarningsError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

const unitsArb = fc.bigInt(-MAX_UNITS, MAX_UNITS);

function decimalOf(units) {
  const magnitude = units < 0n ? -units : units;
  const fraction = (magnitude % 100000000n).toString().padStart(8, '0');
  return `${units < 0n ? '-' : ''}${magnitude / 100000000n}.${fraction}`;
}

describe('amounts', () => {
  let core;
  before(async () => {
    core = await loadCore();
  });

  test('parseAmount normalizes to 8 decimals', () => {
    assert.equal(core.parseAmount('0'), '0.00000000');
    assert.equal(core.parseAmount('12.5'), '12.50000000');
    assert.equal(core.parseAmount('-0.00000001'), '-0.00000001');
    assert.equal(core.parseAmount('9999999999.99999999'), '9999999999.99999999');
    assert.equal(core.parseAmount('007.10'), '7.10000000');
  });

  test('malformed, imprecise and oversized text has a stable code', () => {
    for (const bad of ['', '-', '.5', '5.', '1e3', ' 1', '+1', 'NaN', 'Infinity', '0x10', '1,5', '١']) {
      throwsCode(() => core.parseAmount(bad), 'AMOUNT_MALFORMED');
    }
    throwsCode(() => core.parseAmount('0.000000001'), 'AMOUNT_PRECISION');
    throwsCode(() => core.parseAmount('10000000000'), 'AMOUNT_OVERFLOW');
    throwsCode(() => core.parseAmount('9'.repeat(400)), 'AMOUNT_OVERFLOW');
  });

  test('JS numbers, NaN, BigInt, null and objects are never money', () => {
    for (const notText of [1.5, NaN, Infinity, -1, 10n, null, undefined, {}, ['1'], true]) {
      throwsCode(() => core.parseAmount(notText), 'AMOUNT_MALFORMED');
      throwsCode(() => core.addAmounts(notText, '1'), 'AMOUNT_MALFORMED');
      throwsCode(() => core.addAmounts('1', notText), 'AMOUNT_MALFORMED');
    }
    for (const notBigInt of [1, 1.5, '1', NaN, null]) {
      throwsCode(() => core.formatAmount(notBigInt), 'AMOUNT_MALFORMED');
    }
    throwsCode(() => core.formatAmount(MAX_UNITS + 1n), 'AMOUNT_OVERFLOW');
    throwsCode(() => core.formatAmount(-MAX_UNITS - 1n), 'AMOUNT_OVERFLOW');
  });

  test('Property: parse, units and format round-trip every amount exactly', () => {
    fc.assert(
      fc.property(unitsArb, (units) => {
        const text = decimalOf(units);
        assert.equal(core.parseAmount(text), text);
        assert.equal(core.amountToUnits(text), units);
        assert.equal(core.formatAmount(units), text);
      }),
      runs,
    );
  });

  test('Property: fewer decimals parse to the same units as the padded form', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, 9999999999n), fc.integer({ min: 0, max: 8 }), fc.nat(99999999), (whole, decimals, digits) => {
        const fraction = String(digits).padStart(8, '0').slice(0, decimals);
        const text = decimals === 0 ? `${whole}` : `${whole}.${fraction}`;
        const expected = whole * 100000000n + BigInt(fraction.padEnd(8, '0') || '0');
        assert.equal(core.amountToUnits(text), expected);
      }),
      runs,
    );
  });

  test('Property: addAmounts is exact, and overflow is an error, not a wrap', () => {
    fc.assert(
      fc.property(unitsArb, unitsArb, (a, b) => {
        const sum = a + b;
        if (sum > MAX_UNITS || sum < -MAX_UNITS) {
          throwsCode(() => core.addAmounts(decimalOf(a), decimalOf(b)), 'AMOUNT_OVERFLOW');
        } else {
          assert.equal(core.addAmounts(decimalOf(a), decimalOf(b)), decimalOf(sum));
        }
      }),
      runs,
    );
  });

  test('0.1 + 0.2 is 0.3 exactly', () => {
    assert.equal(core.addAmounts('0.1', '0.2'), '0.30000000');
  });
});
