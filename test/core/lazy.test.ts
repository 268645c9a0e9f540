import { describe, expect, it } from 'vitest';
import { lazyProperty, lazyPropertyFrom } from '../../src/core/lazy.js';

const defineRisk = lazyProperty('risk');

/** The same object built both ways: a literal with its own getter, and core/lazy's shared getter. */
function both(read: () => unknown): { literal: Record<string, unknown>; lazy: Record<string, unknown> } {
  const literal = {
    seq: 1,
    outcome: 'sent',
    get risk() {
      return read();
    },
    status: 'open',
    error: undefined,
  };
  const lazy: Record<string, unknown> = { seq: 1, outcome: 'sent' };
  defineRisk(lazy, read);
  lazy['status'] = 'open';
  lazy['error'] = undefined;
  return { literal, lazy };
}

describe('lazyProperty', () => {
  it('looks like an object literal getter to JSON, keys, entries, spreads, structured clones and the descriptor', () => {
    const { literal, lazy } = both(() => [{ check: 'x', allowed: true }]);
    expect(Object.keys(lazy)).toEqual(Object.keys(literal));
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(literal));
    expect(Object.entries(lazy)).toEqual(Object.entries(literal));
    expect({ ...lazy }).toStrictEqual({ ...literal });
    expect(structuredClone(lazy)).toStrictEqual(structuredClone(literal));
    const descriptor = Object.getOwnPropertyDescriptor(lazy, 'risk')!;
    expect([typeof descriptor.get, descriptor.enumerable, descriptor.configurable]).toEqual(['function', true, true]);
    expect(lazy).toStrictEqual(literal);
  });

  it('reads nothing until the property is read, and reads each object its own value', () => {
    let reads = 0;
    const a = both(() => ((reads += 1), 'a')).lazy;
    const b = both(() => ((reads += 1), 'b')).lazy;
    expect(reads).toBe(0);
    expect([a['risk'], b['risk'], a['risk']]).toEqual(['a', 'b', 'a']);
    expect(reads).toBe(3);
    expect(Reflect.ownKeys(a)).toEqual(['seq', 'outcome', 'risk', 'status', 'error']);
  });
});

describe('lazyPropertyFrom', () => {
  let computed = 0;
  const defineTotal = lazyPropertyFrom('total', (parts: readonly number[]) => ((computed += 1), { sum: parts.reduce((a, b) => a + b, 0) }));

  it('looks like an object literal getter, computes nothing until read, then keeps the same result', () => {
    computed = 0;
    const literal = { id: 'a', total: { sum: 6 }, note: 'n' };
    const lazy: Record<string, unknown> = { id: 'a' };
    defineTotal(lazy, [1, 2, 3]);
    lazy['note'] = 'n';
    expect(computed).toBe(0);
    expect(Object.keys(lazy)).toEqual(Object.keys(literal));
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(literal));
    expect(structuredClone(lazy)).toStrictEqual(structuredClone(literal));
    const first = lazy['total'];
    expect(lazy['total']).toBe(first);
    expect(computed).toBe(1);
  });

  it('computes each object from its own source, once, a frozen object too', () => {
    computed = 0;
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = {};
    defineTotal(a, [1]);
    defineTotal(b, [2, 3]);
    Object.freeze(b);
    const first = b['total'];
    expect([a['total'], first, a['total'], b['total']]).toEqual([{ sum: 1 }, { sum: 5 }, { sum: 1 }, { sum: 5 }]);
    expect(b['total']).toBe(first);
    expect(computed).toBe(2);
  });

  it('keeps its slots out of every key list, symbols included', () => {
    const lazy: Record<string, unknown> = { id: 'a' };
    defineTotal(lazy, [1, 2]);
    void lazy['total'];
    expect(Reflect.ownKeys(lazy)).toEqual(['id', 'total']);
  });
});
