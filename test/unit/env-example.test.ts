import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { envSchema, loadConfig } from '../../src/config/config.ts';

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=([^#]*?)\s*(#.*)?$/.exec(line);
    if (m?.[1]) env[m[1]] = m[2] ?? '';
  }
  return env;
}

describe('.env.example and README list every setting', () => {
  const names = Object.keys(envSchema.shape);
  const example = parseEnvFile(readFileSync('.env.example', 'utf8'));
  const readme = readFileSync('README.md', 'utf8');

  it('.env.example names every variable the config reads, and nothing else', () => {
    assert.deepEqual(Object.keys(example).sort(), [...names].sort());
  });

  it('the values in .env.example parse (with a key) and equal the defaults', () => {
    const withValues = Object.fromEntries(Object.entries(example).filter(([, v]) => v !== ''));
    const fromExample = loadConfig({ ...withValues, AUTH_KEY: 'k'.repeat(20), INSTANCE_ID: 'x' });
    const defaults = loadConfig({ AUTH_KEY: 'k'.repeat(20), INSTANCE_ID: 'x' });
    assert.deepEqual(fromExample, defaults);
  });

  it('the README configuration table names every variable', () => {
    for (const n of names) assert.ok(readme.includes(`\`${n}\``), `README lacks ${n}`);
  });
});
