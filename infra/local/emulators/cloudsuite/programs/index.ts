// The emulated MI programs by name.
import { CRS620MI } from './CRS620MI.ts';
import { CRS630MI } from './CRS630MI.ts';
import { EXPORTMI } from './EXPORTMI.ts';
import { MNS100MI } from './MNS100MI.ts';
import { MNS150MI } from './MNS150MI.ts';
import { MRS001MI } from './MRS001MI.ts';
import { PPS100MI } from './PPS100MI.ts';
import { PPS200MI } from './PPS200MI.ts';
import type { ProgramRegistry } from './program.ts';

export const PROGRAMS: ProgramRegistry = new Map(
  [CRS620MI, CRS630MI, PPS100MI, PPS200MI, MNS100MI, MNS150MI, MRS001MI, EXPORTMI].map((p) => [p.name, p]),
);
