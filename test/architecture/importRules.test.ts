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
  /** `import type …`: erased when the file runs, so it loads nothing. */
  typeOnly: boolean;
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
  const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, false);
  const found: { spec: string; dynamic: boolean; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = Boolean(node.importClause?.isTypeOnly);
      found.push({ spec: node.moduleSpecifier.text, dynamic: false, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, dynamic: false, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push({ spec: argument.text, dynamic: true, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, dynamic: false, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.map(({ spec, dynamic, typeOnly }) => {
    const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
    if (alias) return { from: file, target: ALIASES[alias] + spec.slice(alias.length), local: true, dynamic, typeOnly };
    if (spec.startsWith('.')) {
      return { from: file, target: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)), local: true, dynamic, typeOnly };
    }
    const packageName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    return { from: file, target: packageName, local: false, dynamic, typeOnly };
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

  it('product code loads the emulators only through import(), on the path that needs them (benchmarks and tests aside)', () => {
    const loadsEagerly = (i: Import) =>
      i.local && !i.dynamic && !i.typeOnly && inFolder(i.target, 'infra/local/emulators') && !inFolder(i.from, 'infra/local/emulators', 'test', 'bench');
    expect(violations(loadsEagerly)).toEqual([]);
    // The classification itself: a type import and an import() are told apart from a static import.
    expect(IMPORTS).toContainEqual(expect.objectContaining({ from: 'infra/local/localSources.ts', target: 'infra/local/emulators/cloudsuite/index.ts', typeOnly: true }));
    expect(IMPORTS).toContainEqual(expect.objectContaining({ from: 'infra/local/localSources.ts', target: 'infra/local/emulators/cloudsuite/index.ts', dynamic: true }));
    expect(IMPORTS).toContainEqual(expect.objectContaining({ from: 'bench/load.bench.ts', target: 'infra/local/emulators/cloudsuite/index.ts', typeOnly: false, dynamic: false }));
  });

  it('only the emulators (and tests) import the emulator engines: DuckDB, dynalite, s3rver', () => {
    const engines = ['@duckdb/node-api', 'dynalite', 's3rver'];
    expect(violations((i) => !i.local && engines.includes(i.target) && !inFolder(i.from, 'infra/local/emulators', 'test'))).toEqual([]);
  });
});
