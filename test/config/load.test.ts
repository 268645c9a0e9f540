import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseYamlConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const schema = z.strictObject({
  name: z.string(),
  strategy: z.strictObject({ fast: z.number().int().positive(), slow: z.number().int().positive() }),
  items: z.array(z.strictObject({ id: z.string() })).default([]),
});

function errorOf(text: string): ConfigError {
  try {
    parseYamlConfig(text, 'scenario.yaml', schema);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadYamlConfig', () => {
  it('validates, freezes and hashes a good file independently of key order', () => {
    const a = parseYamlConfig('name: x\nstrategy: { fast: 10, slow: 50 }\n', 's.yaml', schema);
    const b = parseYamlConfig('strategy: { slow: 50, fast: 10 }\nname: x\n', 's.yaml', schema);
    expect(a.value.strategy.fast).toBe(10);
    expect(Object.isFrozen(a.value.strategy)).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(parseYamlConfig('name: x\nstrategy: { fast: 11, slow: 50 }\n', 's.yaml', schema).hash);
  });

  it('names the line and field of a misspelt key and suggests the right one', () => {
    const error = errorOf('name: x\nstrategy:\n  fast: 10\n  slwo: 20\n');
    expect(error.where).toEqual({ file: 'scenario.yaml', line: 4, field: 'strategy.slwo' });
    expect(error.message).toContain('did you mean "slow"');
  });

  it('names the line and field of a bad value inside a list', () => {
    const error = errorOf('name: x\nstrategy: { fast: 1, slow: 2 }\nitems:\n  - id: a\n  - id: 7\n');
    expect(error.where.line).toBe(5);
    expect(error.where.field).toBe('items[1].id');
  });

  it('reports a missing section at its parent', () => {
    const error = errorOf('name: x\n');
    expect(error.where.field).toBe('strategy');
    expect(error.message).toContain('missing');
  });

  it('reports YAML syntax errors with a line', () => {
    const error = errorOf('name: x\nstrategy: [\n');
    expect(error.message).toMatch(/^scenario\.yaml:\d+: not valid YAML/);
  });

  it('refuses duplicate keys', () => {
    expect(errorOf('name: x\nname: y\nstrategy: { fast: 1, slow: 2 }\n').message).toContain('not valid YAML');
  });

  it('lets consistency checks fail with the field line', () => {
    const loaded = parseYamlConfig('name: x\nstrategy:\n  fast: 50\n  slow: 10\n', 's.yaml', schema);
    const error = loaded.fail(['strategy', 'slow'], 'slow window must be longer than fast');
    expect(error.message).toBe('s.yaml:4: field "strategy.slow": slow window must be longer than fast');
  });
});
