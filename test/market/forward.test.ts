import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { parseFuturesCurve, parseFuturesCurveByLines } from '../../src/market/forward.js';

/** The curve, or the refusal's message: what a caller sees either way. */
const outcome = (read: () => unknown): unknown => {
  try {
    return read();
  } catch (error) {
    return { refused: (error as Error).message };
  }
};

describe('parseFuturesCurve: the scan of plain curve rows', () => {
  // Files the scan reads to the end (increasing dates, plain or empty prices) and files with
  // something off its form (header, blank or spaced lines, other date and number forms, a
  // cell too many or too few, repeated or backward dates), which the general loop reads or refuses.
  const good = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 99_999 }).map((n) => (n / 1000).toString()) },
    { weight: 1, arbitrary: fc.constantFrom('', '-1.5', '-0', '0', '007.10', '123456789012345') },
  );
  const cell = fc.oneof({ weight: 8, arbitrary: good }, fc.constantFrom(' ', '1e3', ' 4.2', '4.2 ', '+1', '.5', '5.', '1234567890123456', 'x'));
  const step = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 9 }) }, fc.constantFrom(-1, 0));
  const odd = fc.constantFrom('', '  ', '2001-02-30,1,2', '2001-1-5,1,2', ' 2001-01-05,1,2', '2001-01-05T00:00:00Z,1,2', '2001-01-05', '2001-01-05,1', '2001-01-05,1,2,3', ',,');
  const file = fc.record({
    header: fc.constantFrom('date,contract1,contract2', 'Date,Contract1,contract2', 'date,contract1', 'date,contract1,contract2,contract3,contract4', 'day,contract1,contract2', 'date,contract2,contract1', 'date'),
    crlf: fc.boolean(),
    trailing: fc.boolean(),
    clean: fc.boolean(),
    rows: fc.array(fc.tuple(step, fc.array(cell, { minLength: 4, maxLength: 4 }), fc.array(good, { minLength: 4, maxLength: 4 }), fc.option(odd, { freq: 12 })), { maxLength: 30 }),
  });
  it('reads what the general loop reads, and refuses what it refuses with the same message', () => {
    fc.assert(
      fc.property(file, (f) => {
        const columns = f.header.split(',').length - 1;
        let t = Date.UTC(2001, 0, 1);
        const lines = f.rows.map(([days, cells, plain, other]) => {
          if (!f.clean && other !== null) return other;
          t += (f.clean ? Math.max(1, days) : days) * 86_400_000;
          const values = (f.clean ? plain : cells).slice(0, Math.max(columns, 1));
          return [new Date(t).toISOString().slice(0, 10), ...values].join(',');
        });
        const text = [f.header, ...lines].join(f.crlf ? '\r\n' : '\n') + (f.trailing ? '\n' : '');
        expect(outcome(() => parseFuturesCurve(text, 'c.csv'))).toEqual(outcome(() => parseFuturesCurveByLines(text, 'c.csv')));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the scenarios\' curve files as the general loop does', () => {
    const dir = 'backtests/data/futures';
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
      const text = readFileSync(`${dir}/${name}`, 'utf8');
      expect(outcome(() => parseFuturesCurve(text, name))).toEqual(outcome(() => parseFuturesCurveByLines(text, name)));
    }
  });
});
