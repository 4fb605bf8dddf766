// What each Lambda bundle holds, from esbuild's metafile of the real entry (functions/<name>.ts) built with the
// stack's own options (FUNCTION_BUNDLE_OPTIONS, and the Plan's define): only Load carries the Databricks
// driver; the other functions stay small. And what `cdk synth` loads: the CDK app's own import graph holds no
// Lambda runtime code. Prints the sizes (the table in infra/README.md comes from here).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import flowsConfig from '../../infra/flows.config.ts';
import { FUNCTION_BUNDLE_OPTIONS, FUNCTION_SPECS, functionDefine, functionEntry, PROJECT_ROOT } from '../../infra/stack/pipelineFunctions.ts';
import type { PipelineFunctionName } from '../../infra/stack/stateNames.ts';
import { validateFlowsConfig } from '#shared/config/flowsConfig.ts';

const FUNCTIONS = Object.keys(FUNCTION_SPECS) as PipelineFunctionName[];
/** Functions with a size ceiling: everything but Load (the driver) and Extract (the MI client, no ceiling set). */
const SMALL: PipelineFunctionName[] = ['plan', 'groupByTable', 'commit', 'recordFailure', 'finishRun'];
const CEILING_BYTES = 1_000_000;
/** Packages only Load may hold (the warehouse), or no function at all (emulators, the CDK). */
const NOT_OUTSIDE_LOAD = ['@databricks/sql', 'thrift', 'apache-arrow'];
const IN_NO_FUNCTION = ['@duckdb/node-api', 'dynalite', 's3rver', 'aws-cdk-lib', 'aws-local-stepfunctions', 'esbuild'];

interface Bundle {
  bytes: number;
  /** npm package → bytes it adds to the bundle. */
  packages: Map<string, number>;
  /** Project files in the bundle, relative to the project root. */
  files: string[];
}

/** The npm package a bundled input belongs to (the innermost node_modules), or undefined for project files. */
function packageOf(input: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(input);
  return match?.[1];
}

async function bundle(name: PipelineFunctionName, outdir: string): Promise<Bundle> {
  const define = functionDefine(name, validateFlowsConfig(flowsConfig).config);
  const outfile = path.join(outdir, name, 'index.mjs');
  const { metafile } = await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    entryPoints: [functionEntry(name)],
    bundle: true,
    outfile,
    write: false,
    metafile: true,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'silent',
    ...(define ? { define } : {}),
  });
  const [, output] = Object.entries(metafile.outputs).find(([file]) => file.endsWith('index.mjs'))!;
  const packages = new Map<string, number>();
  const files: string[] = [];
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = packageOf(input);
    if (pkg) packages.set(pkg, (packages.get(pkg) ?? 0) + bytesInOutput);
    else files.push(input);
  }
  return { bytes: output.bytes, packages, files };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

describe('the Lambda bundles, built with the stack\'s esbuild options', () => {
  const bundles = new Map<PipelineFunctionName, Bundle>();

  beforeAll(async () => {
    const outdir = await mkdtemp(path.join(tmpdir(), 'function-bundles-'));
    for (const name of FUNCTIONS) bundles.set(name, await bundle(name, outdir));
    const rows = FUNCTIONS.map((name) => {
      const { bytes, packages } = bundles.get(name)!;
      const largest = [...packages].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([pkg, size]) => `${pkg} ${kb(size)}`);
      return `${name.padEnd(14)} ${String(bytes).padStart(9)} B  ${kb(bytes).padStart(8)}   largest: ${largest.join(', ')}`;
    });
    console.log(`function bundles (index.mjs, minified; source map apart):\n${rows.join('\n')}`);
  }, 240_000);

  it('keeps the Databricks driver, Thrift and Arrow in Load only, and every emulator and the CDK out of all', () => {
    for (const name of FUNCTIONS) {
      const { packages } = bundles.get(name)!;
      const present = [...packages.keys()];
      expect(present.filter((p) => IN_NO_FUNCTION.includes(p)), name).toEqual([]);
      if (name !== 'load') expect(present.filter((p) => NOT_OUTSIDE_LOAD.includes(p)), name).toEqual([]);
    }
    expect([...bundles.get('load')!.packages.keys()]).toEqual(expect.arrayContaining(['@databricks/sql', 'thrift', 'apache-arrow']));
  });

  it('puts the loader into Load only, and no local-run or emulator code into any function', () => {
    for (const name of FUNCTIONS) {
      const { files } = bundles.get(name)!;
      expect(files.filter((f) => f.startsWith('infra/')), name).toEqual([]);
      if (name !== 'load') expect(files.filter((f) => f.startsWith('shared/load/')), name).toEqual([]);
    }
    expect(bundles.get('load')!.files).toContain('shared/load/loadTable.ts');
    // The CloudSuite side only where M3 is called.
    for (const name of ['groupByTable', 'commit', 'recordFailure', 'finishRun', 'load'] as const) {
      expect(bundles.get(name)!.files.filter((f) => /^shared\/(m3|ionapi|extract)\//.test(f)), name).toEqual([]);
    }
  });

  it('takes only the parts of zod it uses: zod imported as a namespace (a named import pulls in all ~445 KB)', () => {
    for (const name of FUNCTIONS) expect(bundles.get(name)!.packages.get('zod') ?? 0, name).toBeLessThan(150 * 1024);
  });

  it(`keeps ${SMALL.join(', ')} each under ${CEILING_BYTES.toLocaleString('en')} bytes`, () => {
    for (const name of SMALL) expect(bundles.get(name)!.bytes, name).toBeLessThan(CEILING_BYTES);
  });
});

describe('cdk synth', () => {
  let metafile: Metafile;

  beforeAll(async () => {
    // Packages stay external: what matters is which of them the app's own modules import.
    ({ metafile } = await build({
      entryPoints: [path.join(PROJECT_ROOT, 'infra/app.ts')],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      outdir: path.join(tmpdir(), 'synth-graph'),
      metafile: true,
      absWorkingDir: PROJECT_ROOT,
      logLevel: 'silent',
    }));
  }, 60_000);

  it('loads no Lambda runtime code: from functions/ only the environment names, nothing of the loader, the adapters or the local run', () => {
    const files = Object.keys(metafile.inputs);
    expect(files.filter((f) => f.startsWith('functions/'))).toEqual(['functions/support/environment.ts']);
    expect(files.filter((f) => /^shared\/(load|aws|extract|m3|ionapi|cloudsuite|secrets|staging)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /^shared\/state\/(dynamo|folder|ensure)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('infra/local/'))).toEqual([]);
  });

  it('imports only the CDK, cdk-nag, constructs and zod (the configuration schema): no AWS SDK, driver, Powertools or emulator', () => {
    const imported = new Set<string>();
    for (const { imports } of Object.values(metafile.inputs)) {
      for (const { path: specifier, external } of imports) {
        if (!external || specifier.startsWith('node:')) continue;
        imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
      }
    }
    expect([...imported].sort()).toEqual(['aws-cdk-lib', 'cdk-nag', 'constructs', 'zod']);
  });
});
