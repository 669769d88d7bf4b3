/**
 * Small readers for the deployment files (test/deploy/deploy-files.test.ts). There is no YAML or
 * TOML parser among the dependencies, so the compose files and fly.toml are read here. The readers
 * accept only the plain subset those files are written in (block maps and lists of scalars;
 * `key = value` under [tables]) and throw on anything else, so an edit outside that subset fails
 * the tests instead of being misread.
 */
import assert from 'node:assert/strict';

/** "15s", "1m30s", "20" (seconds), 15 → seconds. */
export function seconds(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(s);
  assert.ok(m && s !== '', `not a duration: ${s}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

// --- a YAML subset reader ---------------------------------------------------------------------------

export type Yaml = string | Yaml[] | { [k: string]: Yaml };
export type YMap = { [k: string]: Yaml };

/** Drops a comment (a # at the start or after a blank, outside quotes). */
export function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) return line.slice(0, i);
  }
  return line;
}

function yamlScalar(raw: string, where: string): string {
  const v = raw.trim();
  if (v.startsWith('"')) {
    assert.ok(/^"(?:[^"\\]|\\.)*"$/.test(v), `${where}: bad double-quoted string ${v}`);
    return JSON.parse(v) as string;
  }
  if (v.startsWith("'")) {
    assert.ok(/^'(?:[^']|'')*'$/.test(v), `${where}: bad single-quoted string ${v}`);
    return v.slice(1, -1).replace(/''/g, "'");
  }
  assert.ok(!/^[[{&*!|>%@`]/.test(v), `${where}: unsupported YAML (flow collection, anchor, tag or block scalar): ${v}`);
  assert.ok(!/:\s/.test(v) && !v.endsWith(':'), `${where}: a plain scalar with ": " (quote it): ${v}`);
  return v;
}

export function parseYaml(text: string, file: string): YMap {
  const lines: { n: number; indent: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = stripComment(raw).replace(/\s+$/, '');
    if (line.trim() === '') return;
    assert.ok(!/^ *\t/.test(line), `${file}:${i + 1}: tab in indentation`);
    lines.push({ n: i + 1, indent: line.length - line.trimStart().length, text: line.trim() });
  });
  let pos = 0;

  function block(indent: number): Yaml {
    const first = lines[pos];
    assert.ok(first, `${file}: unexpected end`);
    return first.text === '-' || first.text.startsWith('- ') ? seq(first.indent) : map(indent);
  }
  function seq(indent: number): Yaml[] {
    const out: Yaml[] = [];
    for (let l = lines[pos]; l && l.indent === indent && (l.text === '-' || l.text.startsWith('- ')); l = lines[pos]) {
      const item = l.text.slice(1).trim();
      const where = `${file}:${l.n}`;
      assert.ok(item !== '' && !/^[\w.-]+:(\s|$)/.test(item), `${where}: only scalars are supported in lists`);
      out.push(yamlScalar(item, where));
      pos++;
    }
    return out;
  }
  function map(indent: number): YMap {
    const out: YMap = {};
    for (let l = lines[pos]; l && l.indent === indent; l = lines[pos]) {
      const where = `${file}:${l.n}`;
      const m = /^([\w.-]+):(?:\s+(.*))?$/.exec(l.text);
      assert.ok(m?.[1], `${where}: expected "key: value" or "key:", got ${l.text}`);
      assert.ok(!(m[1] in out), `${where}: duplicate key ${m[1]}`);
      pos++;
      if (m[2] !== undefined) {
        out[m[1]] = yamlScalar(m[2], where);
        continue;
      }
      const next = lines[pos];
      if (next && (next.indent > indent || (next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
        out[m[1]] = block(next.indent);
      } else out[m[1]] = '';
    }
    return out;
  }

  const top = map(0);
  assert.equal(pos, lines.length, `${file}:${lines[pos]?.n}: bad indentation`);
  return top;
}

export const asMap = (v: Yaml | undefined, what: string): YMap => {
  assert.ok(v && typeof v === 'object' && !Array.isArray(v), `${what} must be a map`);
  return v;
};
export const asList = (v: Yaml | undefined, what: string): string[] => {
  assert.ok(Array.isArray(v), `${what} must be a list`);
  return v as string[];
};
export const asString = (v: Yaml | undefined, what: string): string => {
  assert.equal(typeof v, 'string', `${what} must be a string`);
  return v as string;
};

// --- a TOML subset reader (fly.toml) -----------------------------------------------------------------

export type Toml = Record<string, unknown>;

export function parseToml(text: string, file: string): Toml {
  const root: Toml = {};
  let table: Toml = root;
  text.split('\n').forEach((raw, i) => {
    const line = stripComment(raw).trim();
    const where = `${file}:${i + 1}`;
    if (line === '') return;
    let m = /^\[\[([\w.]+)\]\]$/.exec(line);
    if (m?.[1]) {
      const path = m[1].split('.');
      const parent = descend(root, path.slice(0, -1), where);
      const key = path.at(-1) as string;
      const list = (parent[key] ??= []) as Toml[];
      assert.ok(Array.isArray(list), `${where}: ${m[1]} is not an array of tables`);
      table = {};
      list.push(table);
      return;
    }
    m = /^\[([\w.]+)\]$/.exec(line);
    if (m?.[1]) {
      table = descend(root, m[1].split('.'), where);
      return;
    }
    m = /^([\w-]+)\s*=\s*(.+)$/.exec(line);
    assert.ok(m?.[1] && m[2], `${where}: unsupported TOML: ${line}`);
    assert.ok(!(m[1] in table), `${where}: duplicate key ${m[1]}`);
    const v = m[2].trim();
    if (/^"(?:[^"\\]|\\.)*"$/.test(v)) table[m[1]] = JSON.parse(v);
    else if (/^-?\d+(\.\d+)?$/.test(v)) table[m[1]] = Number(v);
    else if (v === 'true' || v === 'false') table[m[1]] = v === 'true';
    else assert.fail(`${where}: unsupported TOML value: ${v}`);
  });
  return root;
}

function descend(root: Toml, path: string[], where: string): Toml {
  let t = root;
  for (const p of path) {
    let next = t[p];
    if (Array.isArray(next)) next = next.at(-1);
    if (next === undefined) next = t[p] = {};
    assert.ok(typeof next === 'object' && next !== null, `${where}: ${p} is not a table`);
    t = next as Toml;
  }
  return t;
}

// --- Dockerfile ---------------------------------------------------------------------------------------

export interface Instr {
  op: string;
  args: string;
}
export interface Stage {
  image: string;
  name: string | undefined;
  instrs: Instr[];
}

export function parseDockerfile(text: string): Stage[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2].trim());
      assert.ok(f?.[1], `bad FROM: ${m[2]}`);
      stages.push({ image: f[1], name: f[2], instrs: [] });
    } else {
      assert.ok(stages.length > 0, `${op} before FROM`);
      (stages.at(-1) as Stage).instrs.push({ op, args: m[2].trim() });
    }
  }
  return stages;
}

export const all = (s: Stage, op: string) => s.instrs.filter((i) => i.op === op).map((i) => i.args);
export function one(s: Stage, op: string): string {
  const list = all(s, op);
  assert.ok(list.length > 0, `no ${op} in the ${s.name ?? 'last'} stage`);
  return list.at(-1) as string;
}
export function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const a of all(s, 'ENV')) for (const m of a.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1] as string] = m[2] as string;
  return env;
}
export function execForm(args: string, what: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    assert.fail(`${what} must use the exec (JSON array) form, got ${args}`);
  }
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${what}: not a JSON array of strings`);
  return v;
}

/** .dockerignore patterns (with ! exceptions), as `docker build` applies them to a path. */
export function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const p = (neg ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/.*)?$`);
    if (re.test(path)) ignored = !neg;
  }
  return ignored;
}
