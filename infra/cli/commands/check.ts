// `check`: "ping your real systems" before deploying: a token, then one cheap MI call.
import { connectCloudSuite } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { loadIonApiFile } from '../../../shared/ionapi/ionApiFile.ts';
import { result } from '../output.ts';

export interface CheckOptions {
  ionapi: string;
  company?: string;
}

export async function checkCommand(options: CheckOptions): Promise<number> {
  const lines: string[] = [];
  let ok = true;
  const step = async (label: string, fn: () => Promise<string>) => {
    try {
      lines.push(`ok    ${label}: ${await fn()}`);
      return true;
    } catch (error) {
      ok = false;
      lines.push(`FAIL  ${label}: ${(error as Error).message}`);
      return false;
    }
  };
  let connection: ReturnType<typeof connectCloudSuite> | undefined;
  await step('.ionapi file', async () => {
    const config = await loadIonApiFile(options.ionapi);
    connection = connectCloudSuite(config);
    const unknown = config.unknownKeys.length ? ` (ignored unknown keys: ${config.unknownKeys.join(', ')})` : '';
    return `tenant ${config.tenant}, API ${config.apiBaseUrl}${unknown}`;
  });
  if (connection) {
    const { tokens, mi } = connection;
    const gotToken = await step('token', async () => {
      await tokens.getAccessToken();
      return `issued by ${connection!.config.tokenUrl}`;
    });
    if (gotToken) {
      await step('MI call MNS150MI/GetUserData', async () => {
        const { records } = await mi.execute({ program: 'MNS150MI', transaction: 'GetUserData' });
        const user = records[0] ?? {};
        return `user ${user.USID ?? '?'}, default company ${user.CONO ?? '?'} division ${user.DIVI || '(blank)'}`;
      });
      if (options.company) {
        await step(`company ${options.company}`, async () => {
          const { records } = await mi.execute({
            program: 'MNS100MI', transaction: 'LstDivisions', inputs: { CONO: options.company! }, company: options.company, maxRecords: 0,
          });
          return `${records.length} division(s): ${records.map((r) => r.DIVI).join(', ')}`;
        });
      }
      await tokens.revoke().catch(() => undefined);
    }
  }
  for (const line of lines) result(line);
  result(ok ? 'all checks passed' : 'some checks failed');
  return ok ? 0 : 1;
}
