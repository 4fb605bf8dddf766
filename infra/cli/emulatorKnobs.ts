// Knobs of the bundled CloudSuite emulator on the command line (`sync --emulator-knobs`, `emulate cloudsuite
// --knobs`): a JSON object given inline or as the path of a file that holds it. Names are checked where the
// emulator starts (its code is loaded only then).
import { readFileSync } from 'node:fs';
import { UsageError } from './output.ts';

export function parseEmulatorKnobs(value: string, option: string): Record<string, unknown> {
  let text = value;
  if (!value.trim().startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw new UsageError(`${option}: "${value}" is neither a JSON object nor a readable file`);
    }
  }
  let knobs: unknown;
  try {
    knobs = JSON.parse(text);
  } catch {
    throw new UsageError(`${option}: not valid JSON; e.g. '{"tableFields":{"MPHEAD":{"missing":["REMK"]}}}'`);
  }
  if (typeof knobs !== 'object' || knobs === null || Array.isArray(knobs)) throw new UsageError(`${option}: give a JSON object of knobs`);
  return knobs as Record<string, unknown>;
}
