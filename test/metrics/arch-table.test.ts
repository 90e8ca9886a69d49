/** formatArchTable: the exact text for a small net (figures worked out in arch.test.ts) and digit grouping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archReport, formatArchTable } from '../../src/metrics/arch.js';
import { groupDigits } from '../../src/metrics/_table.js';
import { parseSpec } from '../../src/notation/parse.js';

test('groupDigits puts commas every three digits', () => {
  assert.deepEqual([0, 999, 1000, 9263808, 126222336, 12.5].map(groupDigits), ['0', '999', '1,000', '9,263,808', '126,222,336', '12.5']);
});

test('fixed-width table: left-aligned text, right-aligned numbers, totals and memory lines', () => {
  // 4C3p1bn on 2×6×6: 36 neurons (after the pool), 72 weights, 4 bias, 8 BN, 2592 MACs; readout 10b: 360 weights, 10 bias
  const report = archReport(parseSpec('4C3p1bn-P2-10b'), [2, 6, 6], { T: 4, weightBits: 3, membraneBits: 5 });
  const expected = [
    'layer  token    role     output  neurons  weights  bias  BN  MACs/step',
    '-----  -------  -------  ------  -------  -------  ----  --  ---------',
    '1      4C3p1bn  encoder  4×6×6        36       72     4   8      2,592',
    '2      P2                4×3×3         0        0     0   0          0',
    '3      10b      readout  10            0      360    10   0        360',
    '-----  -------  -------  ------  -------  -------  ----  --  ---------',
    'total                                 36      432    14   8      2,952',
    '',
    'parameters  454 (weights 432: conv 72 incl. shortcuts 0, dense 360; bias 14; BN 8)',
    'convention  neurons all, MACs all, weight memory all',
    'neurons     36',
    'MACs        2,952 per step, 11,808 over T = 4',
    "weights     432 × 3 bit = 0.000162 MB (10^6 bytes; 0.00 in the papers' two-decimal truncation)",
    'membrane    36 × 5 bit = 0.0000225 MB (0.00 truncated)',
  ].join('\n');
  assert.equal(formatArchTable(report), expected);
});
