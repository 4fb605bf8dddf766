// The console-run selection both `sync` (locally) and `rerun` (on AWS) take: which flows, companies
// and divisions, which window and mode. One definition, one list parser.

export interface RunSelectionOptions {
  flows?: string;
  companies?: string;
  divisions?: string;
  since?: string;
  until?: string;
  mode?: string;
}

/** "a, b,,c" → ['a', 'b', 'c']; undefined stays undefined. */
export function commaList(value: string | undefined): string[] | undefined {
  return value?.split(',').map((s) => s.trim()).filter(Boolean);
}
