// The machine a benchmark ran on, for every report.
import os from 'node:os';

export function machineLine(): string {
  return `machine: ${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}
