// The layering rules of ARCHITECTURE.md, checked on every import (static and dynamic) of every source file,
// so a change that breaks one fails here with the file, the import and the rule.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOURCE_FOLDERS = ['bin', 'bench', 'functions', 'infra', 'shared', 'test'];
const ALIASES: Record<string, string> = { '#shared/': 'shared/', '#emulators/': 'infra/local/emulators/' };

interface Import {
  from: string;
  /** Repository-relative path of the imported file, or the package name of a bare import. */
  target: string;
  local: boolean;
  dynamic: boolean;
}

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(path.relative(ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
      }
    }
  }
  return files.filter((f) => !f.includes('node_modules'));
}

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const dynamic = new Set<string>();
  // preProcessFile does not say which imports are dynamic: find `import('…')` calls by their text.
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) dynamic.add(match[1]!);
  return info.importedFiles.map(({ fileName: spec }) => {
    const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
    if (alias) return { from: file, target: ALIASES[alias] + spec.slice(alias.length), local: true, dynamic: dynamic.has(spec) };
    if (spec.startsWith('.')) {
      return { from: file, target: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)), local: true, dynamic: dynamic.has(spec) };
    }
    const packageName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    return { from: file, target: packageName, local: false, dynamic: dynamic.has(spec) };
  });
}

const IMPORTS = sourceFiles().flatMap(importsOf);
const inFolder = (file: string, ...folders: string[]) => folders.some((f) => file === f || file.startsWith(`${f}/`));

function violations(rule: (i: Import) => boolean): string[] {
  return IMPORTS.filter(rule).map((i) => `${i.from} imports ${i.target}${i.dynamic ? ' (dynamic)' : ''}`);
}

const CLOUDSUITE_SIDE = ['shared/ionapi', 'shared/m3', 'shared/extract', 'shared/cloudsuite'];
const WAREHOUSE_SIDE = ['shared/load'];

describe('the import rules of ARCHITECTURE.md', () => {
  it('reads the imports of every source file (so the rules below can fail)', () => {
    expect(IMPORTS.length).toBeGreaterThan(500);
    expect(IMPORTS).toContainEqual(expect.objectContaining({ from: 'shared/load/loadTable.ts', target: 'shared/staging/stagedUnitReader.ts' }));
  });

  it('nothing outside test/ imports from test/', () => {
    expect(violations((i) => i.local && !inFolder(i.from, 'test') && inFolder(i.target, 'test'))).toEqual([]);
  });

  it('shared/ never imports infra/ or functions/', () => {
    expect(violations((i) => i.local && inFolder(i.from, 'shared') && inFolder(i.target, 'infra', 'functions'))).toEqual([]);
  });

  it('functions/ never imports infra/ (the stack may read functions/support/environment, never the reverse)', () => {
    expect(violations((i) => i.local && inFolder(i.from, 'functions') && inFolder(i.target, 'infra'))).toEqual([]);
  });

  it('shared/staging, the contract between extract and load, imports neither of them', () => {
    expect(violations((i) => i.local && inFolder(i.from, 'shared/staging') && inFolder(i.target, 'shared/extract', 'shared/load'))).toEqual([]);
  });

  it('the CloudSuite side never imports the warehouse side, and the warehouse side never imports the CloudSuite side', () => {
    expect(violations((i) => i.local && inFolder(i.from, ...CLOUDSUITE_SIDE) && inFolder(i.target, ...WAREHOUSE_SIDE))).toEqual([]);
    expect(violations((i) => i.local && inFolder(i.from, ...WAREHOUSE_SIDE) && inFolder(i.target, ...CLOUDSUITE_SIDE))).toEqual([]);
  });

  it('only the emulators (and tests) import the emulator engines: DuckDB, dynalite, s3rver', () => {
    const engines = ['@duckdb/node-api', 'dynalite', 's3rver'];
    expect(violations((i) => !i.local && engines.includes(i.target) && !inFolder(i.from, 'infra/local/emulators', 'test'))).toEqual([]);
  });
});
