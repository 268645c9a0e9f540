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
});
