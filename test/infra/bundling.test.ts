// The Plan Lambda gets the validated flows configuration through an esbuild define that CDK passes on a
// bash command line: this builds a bundle the same way and runs it.
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import flowsConfig from '../../infra/flows.config.ts';
import { BUNDLE_EXTERNALS, ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../../infra/stack/pipelineFunctions.ts';
import { flowsConfigDefine } from '../../shared/config/loadFlowsConfig.ts';

describe('the Plan bundle', () => {
  it('carries the validated flows configuration through the bundling shell, and runs as ESM', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'plan-bundle-'));
    const entry = path.join(dir, 'entry.ts');
    await writeFile(
      entry,
      `import { loadFlowsConfig } from ${JSON.stringify(path.join(PROJECT_ROOT, 'shared/config/loadFlowsConfig.ts'))};\n` +
        'const { config } = loadFlowsConfig();\nconsole.log(JSON.stringify({ flows: config.flows.map((f) => f.id), tz: config.tenants.ACME_PRD.timeZone, req: typeof require }));\n',
    );
    const out = path.join(dir, 'index.mjs');
    const [key, value] = Object.entries(flowsConfigDefine(flowsConfig))[0]!;
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const command = [
      path.join(PROJECT_ROOT, 'node_modules/.bin/esbuild'),
      '--bundle', entry, '--platform=node', '--format=esm', '--target=node24', `--outfile=${out}`,
      `--banner:js=${quote(ESM_REQUIRE_BANNER)}`,
      ...BUNDLE_EXTERNALS.map((e) => `--external:${e}`),
      // As CDK renders it: --define:KEY=VALUE, the value already quoted for the shell.
      `--define:${key}=${value}`,
    ].join(' ');
    execFileSync('bash', ['-c', command], { stdio: 'pipe' });
    const printed = execFileSync(process.execPath, [out], { encoding: 'utf8' });
    expect(JSON.parse(printed)).toEqual({ flows: flowsConfig.flows.map((f) => f.id), tz: 'Europe/Stockholm', req: 'function' });
  });
});
