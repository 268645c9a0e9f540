import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/engine/schedule.js';
import { ConfigError } from '../../src/core/errors.js';

const t = (iso: string): number => Date.parse(iso);

describe('CronSchedule', () => {
  it('fires on Mondays at 09:00 UTC like node-cron', () => {
    const weekly = CronSchedule.create('0 9 * * 1', 'UTC', {});
    // 2024-01-01 was a Monday.
    expect(weekly.firstFiringIn(t('2023-12-31T00:00:00Z'), t('2024-01-02T00:00:00Z'))).toBe(t('2024-01-01T09:00:00Z'));
    expect(weekly.firstFiringIn(t('2024-01-01T09:00:00Z'), t('2024-01-08T08:59:59Z'))).toBeUndefined();
    expect(weekly.firstFiringIn(t('2024-01-01T09:00:00Z'), t('2024-01-08T09:00:00Z'))).toBe(t('2024-01-08T09:00:00Z'));
  });

  it('counts one firing per Monday over a year of daily bars (53 in 2024)', () => {
    const weekly = CronSchedule.create('0 9 * * 1', 'UTC', {});
    let fired = 0;
    for (let day = t('2024-01-01T00:00:00Z'); day < t('2025-01-01T00:00:00Z'); day += 86_400_000) {
      if (weekly.firstFiringIn(day, day + 86_400_000) !== undefined) fired += 1;
    }
    // 2024 is a leap year starting on a Monday: 52 weeks and two days, so 53 Mondays.
    expect(fired).toBe(53);
  });

  it('honours the timezone', () => {
    const tokyo = CronSchedule.create('0 9 1 * *', 'Asia/Tokyo', {});
    // 09:00 in Tokyo is 00:00 UTC.
    expect(tokyo.firstFiringIn(t('2024-02-28T00:00:00Z'), t('2024-03-02T00:00:00Z'))).toBe(t('2024-03-01T00:00:00Z'));
    expect(tokyo.matches(t('2024-03-01T00:00:00Z'))).toBe(true);
    expect(tokyo.matches(t('2024-03-01T09:00:00Z'))).toBe(false);
  });

  it('refuses a malformed expression and an unknown timezone with the field named', () => {
    expect(() => CronSchedule.create('0 25 * * *', 'UTC', { file: 's.yaml', line: 7, field: 'schedule' })).toThrowError(
      /s\.yaml:7: field "schedule": invalid cron expression "0 25 \* \* \*": hour/,
    );
    expect(() => CronSchedule.create('0 9 * * *', 'Mars/Olympus', { field: 'timezone' })).toThrowError(ConfigError);
  });

  // firstFiringIn answers from blocks of precomputed firings; these check it against the walk
  // over exactly the range asked (firingsIn) and the walk against node-cron minute by minute.
  const DAY = 86_400_000;
  const expressions = ['0 9 * * 1', '30 23,0 * * *', '15 */6 * * *', '0 9 1 * *', '45 4 * * 1-5', '0 0 29 2 *', '*/20 2,3 * * 0'];
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];

  it('answers from its blocks what the walk over the range answers (random ranges, spans and zones)', () => {
    const start = t('1998-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.constantFrom(...expressions),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 30 * 365 * DAY }),
        fc.oneof(fc.integer({ min: -DAY, max: 3 * DAY }), fc.integer({ min: 0, max: 400 * DAY })),
        fc.constantFrom('none', 'from', 'to', 'both'),
        (expression, zone, offset, length, snap) => {
          const schedule = CronSchedule.create(expression, zone, {});
          // Ranges that start or end exactly on a firing, where an off-by-one would show.
          const firingFrom = (at: number): number => schedule.firingsIn(at, at + 40 * DAY)[0] ?? at;
          const from = snap === 'from' || snap === 'both' ? firingFrom(start + offset) : start + offset;
          const to = snap === 'to' || snap === 'both' ? firingFrom(from + Math.max(1, length)) : from + length;
          const walked = to <= from ? undefined : schedule.firingsIn(from + 1, to + 1)[0];
          expect(schedule.firstFiringIn(from, to)).toBe(walked);
        },
      ),
      { numRuns: 120, seed: 20261130 },
    );
  });

  it('asks the same schedule day after day, across block edges, like a backtest', () => {
    const schedule = CronSchedule.create('30 23,0 * * *', 'Europe/Berlin', {});
    const fresh = (): CronSchedule => CronSchedule.create('30 23,0 * * *', 'Europe/Berlin', {});
    for (let day = t('2019-01-01T00:00:00Z'); day < t('2021-01-01T00:00:00Z'); day += DAY) {
      expect(schedule.firstFiringIn(day - DAY, day)).toBe(fresh().firingsIn(day - DAY + 1, day + 1)[0]);
      expect(schedule.firstFiringIn(day, day + 400 * DAY)).toBe(schedule.firingsIn(day + 1, day + 400 * DAY + 1)[0]);
    }
  });

  it('skips in UTC only days node-cron would not fire on, and takes only its firings (every field kind, seven years, against Etc/GMT)', () => {
    // Etc/GMT is UTC by another name: its walk asks node-cron on every candidate, the UTC walk
    // only on the days its numeric fields allow, and not at all when every field is numeric, so
    // any day the UTC filter wrongly skips, or any instant it wrongly takes, shows here.
    const tokens = ['0 9 * * 1', '45 4 * * 1-5', '0 0 29 2 *', '0 9 1 * *', '0 9 * 3,6 1', '0 9 1-7 * 1', '0 9 * * 1#2', '0 9 * * 5L', '0 9 L * *', '0 9 15W * *', '30 23,0 * * 0,6', '0 12 * * 7', '0 6 13 * 5', '*/20 0 9 * * 1', '0 */30 8-9 * jan,jul mon-fri', '0 0 31 * *'];
    const from = t('2019-01-01T00:00:00Z');
    const to = t('2026-01-01T00:00:00Z');
    for (const expression of tokens) {
      const utc = CronSchedule.create(expression, 'UTC', {}).firingsIn(from, to);
      const gmt = CronSchedule.create(expression, 'Etc/GMT', {}).firingsIn(from, to);
      expect(utc, expression).toEqual(gmt);
      expect(utc.length, expression).toBeGreaterThan(0);
    }
  });

  it('walks to every instant node-cron fires at (minute by minute, zones without and with daylight saving)', () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/New_York']) {
      for (const expression of ['30 23,0 * * *', '15 */6 * * *', '45 4 * * 1-5', '*/20 2,3 * * 0']) {
        const schedule = CronSchedule.create(expression, zone, {});
        // Three days around the 2024 spring change in New York (10 March), and three in June.
        for (const from of [t('2024-03-09T00:00:00Z'), t('2024-06-10T00:00:00Z')]) {
          const to = from + 3 * DAY;
          const minutes: number[] = [];
          for (let at = from; at < to; at += 60_000) if (schedule.matches(at)) minutes.push(at);
          const walked = schedule.firingsIn(from, to);
          if (zone === 'America/New_York' && from === t('2024-03-09T00:00:00Z')) {
            // On the change day the walk uses the midday offset: a firing in the skipped or
            // repeated night hour can be missed, never invented.
            expect(walked.every((at) => minutes.includes(at))).toBe(true);
          } else {
            expect(walked).toEqual(minutes);
          }
        }
      }
    }
  });
});

