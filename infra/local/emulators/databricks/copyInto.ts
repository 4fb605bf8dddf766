// COPY INTO from object storage (the local S3, s3rver, that the local sync runs), with the semantics of a real
// warehouse where they matter to a loader: only locations under an external location can be read; FILES (at
// most 1000) or a glob PATTERN choose files; files already loaded into the target are skipped unless
// COPY_OPTIONS ('force' = 'true'); gzip by the `.gz` extension; FILEFORMAT = JSON (JSON Lines, schema inferred
// with Spark's rules, primitivesAsString, mode) or TEXT (one `value` row per line). The warehouse session runs
// the INSERT and records the loaded files in one transaction, so a failed COPY loads nothing.
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { WarehouseError, databricksErrors } from './errors.ts';
import { quoteIdent, quoteLiteral } from './identifiers.ts';

/** Read access to object storage: what the warehouse's storage credential reaches. */
export interface ObjectStorage {
  /** Object keys under the prefix (recursive), sorted. */
  list(bucket: string, prefix: string): Promise<string[]>;
  /** The object's bytes, or undefined when there is no such key. */
  get(bucket: string, key: string): Promise<Uint8Array | undefined>;
}

/** What COPY INTO may read: the storage and the external locations defined over it (`s3://bucket/prefix`). */
export interface StorageAccess {
  objects: ObjectStorage;
  externalLocations: readonly string[];
}

export function s3ObjectStorage(client: S3Client): ObjectStorage {
  return {
    async list(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async get(bucket, key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await response.Body!.transformToByteArray();
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          return undefined;
        }
        throw error;
      }
    },
  };
}

export const MAX_COPY_FILES = 1000;

const TEXT_OPTIONS = new Set(['encoding', 'linesep', 'wholetext']);
const JSON_OPTIONS = new Set(['primitivesasstring', 'mode', 'multiline', 'encoding', 'inferTimestamp'.toLowerCase(), 'prefersdecimal']);

interface Location {
  bucket: string;
  /** Key prefix without a trailing slash ('' for the whole bucket). */
  prefix: string;
}

function parseUrl(url: string): Location {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw databricksErrors.unsupported(`COPY INTO from '${url}' (the emulator reads s3:// locations only)`);
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

const insufficient = (url: string) =>
  new WarehouseError(
    'INSUFFICIENT_PERMISSIONS',
    '42501',
    `Insufficient privileges: User does not have READ FILES on any external location covering ${url}. ` +
      'Create an external location over it (with a storage credential) and grant READ FILES on it.',
  );

/** The source files of a COPY INTO, as full `s3://` URLs, in name order. */
export async function sourceFiles(
  access: StorageAccess | undefined,
  url: string,
  choose: { files?: readonly string[]; pattern?: string },
): Promise<{ url: string; bucket: string; key: string }[]> {
  const location = parseUrl(url);
  const normalized = `s3://${location.bucket}/${location.prefix}`;
  const covered = access?.externalLocations.some((l) => {
    const loc = parseUrl(l);
    return loc.bucket === location.bucket && (loc.prefix === '' || location.prefix === loc.prefix || location.prefix.startsWith(`${loc.prefix}/`));
  });
  if (!access || !covered) throw insufficient(normalized);
  const base = location.prefix === '' ? '' : `${location.prefix}/`;
  const toUrl = (key: string) => ({ url: `s3://${location.bucket}/${key}`, bucket: location.bucket, key });
  if (choose.files) {
    if (choose.files.length > MAX_COPY_FILES) {
      throw new WarehouseError('INVALID_PARAMETER_VALUE', '22023', `FILES lists ${choose.files.length} files; at most ${MAX_COPY_FILES} are allowed. Use several COPY INTO statements or PATTERN.`);
    }
    return choose.files.map((f) => toUrl(`${base}${f.replace(/^\/+/, '')}`));
  }
  const keys = await access.objects.list(location.bucket, base);
  if (keys.length === 0) {
    // The location may name one file rather than a folder.
    if (location.prefix !== '' && (await access.objects.get(location.bucket, location.prefix)) !== undefined) return [toUrl(location.prefix)];
    throw pathNotFound(normalized);
  }
  const relative = keys.map((k) => k.slice(base.length));
  if (choose.pattern !== undefined) {
    const matches = picomatch(choose.pattern, { dot: true });
    return relative.filter((r) => matches(r)).map((r) => toUrl(`${base}${r}`));
  }
  // A folder: the files directly in it (subfolders are not read without recursiveFileLookup).
  return relative.filter((r) => !r.includes('/')).map((r) => toUrl(`${base}${r}`));
}

const pathNotFound = (url: string) => new WarehouseError('PATH_NOT_FOUND', '42K03', `Path does not exist: ${url}.`);

/** The lines of one file (gzip when its name ends in .gz); Spark splits on \n, \r\n and \r. */
export async function readSourceLines(access: StorageAccess, file: { url: string; bucket: string; key: string }): Promise<{ lines: string[]; bytes: number }> {
  const raw = await access.objects.get(file.bucket, file.key);
  if (raw === undefined) throw pathNotFound(file.url);
  let data: Buffer;
  try {
    data = file.key.endsWith('.gz') ? gunzipSync(raw) : Buffer.from(raw);
  } catch (error) {
    throw new WarehouseError('FAILED_READ_FILE', 'KD001', `Error while reading file ${file.url}: ${(error as Error).message}.`);
  }
  const text = data.toString('utf8');
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) {
    // Stricter than a documented rule (an empty JSON file gives Spark nothing to infer a schema from): a loader
    // must never stage one.
    throw new WarehouseError('EMULATOR_EMPTY_SOURCE_FILE', '42KD9', `The source file ${file.url} is empty; COPY INTO needs at least one record per file.`);
  }
  return { lines, bytes: data.length };
}

type Inferred =
  | { kind: 'string' | 'bigint' | 'double' | 'boolean' | 'null' }
  | { kind: 'struct'; fields: Map<string, Inferred> }
  | { kind: 'array'; element: Inferred };

function merge(a: Inferred, b: Inferred): Inferred {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields);
    for (const [name, type] of b.fields) fields.set(name, fields.has(name) ? merge(fields.get(name)!, type) : type);
    return { kind: 'struct', fields };
  }
  if (a.kind === 'array' && b.kind === 'array') return { kind: 'array', element: merge(a.element, b.element) };
  if (a.kind === b.kind) return a;
  if ((a.kind === 'bigint' && b.kind === 'double') || (a.kind === 'double' && b.kind === 'bigint')) return { kind: 'double' };
  return { kind: 'string' }; // Spark widens conflicting types to string
}

const LONG_MAX = 9223372036854775807n;

/** Parses a JSON line keeping each primitive's source text (V8's JSON.parse source access). */
function parseLine(line: string, primitivesAsString: boolean): { value: unknown; type: Inferred } | undefined {
  const infer = (value: unknown, source: string | undefined): { value: unknown; type: Inferred } => {
    if (value === null) return { value: null, type: { kind: 'null' } };
    if (typeof value === 'string') return { value, type: { kind: 'string' } };
    if (typeof value === 'boolean') return primitivesAsString ? { value: String(value), type: { kind: 'string' } } : { value, type: { kind: 'boolean' } };
    if (typeof value === 'number') {
      const text = source ?? String(value);
      if (primitivesAsString) return { value: text, type: { kind: 'string' } };
      const integral = /^-?\d+$/.test(text) && BigInt(text) <= LONG_MAX && BigInt(text) >= -LONG_MAX - 1n;
      return { value: text, type: { kind: integral ? 'bigint' : 'double' } };
    }
    return { value, type: { kind: 'null' } }; // containers are handled by the reviver below
  };
  try {
    const parsed = JSON.parse(line, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
      if (value !== null && typeof value === 'object') return value;
      return { __primitive: infer(value, context?.source) };
    }) as unknown;
    const unwrap = (node: unknown): { value: unknown; type: Inferred } => {
      if (node !== null && typeof node === 'object' && '__primitive' in (node as object)) return (node as { __primitive: { value: unknown; type: Inferred } }).__primitive;
      if (Array.isArray(node)) {
        const items = node.map(unwrap);
        return { value: items.map((i) => i.value), type: { kind: 'array', element: items.reduce<Inferred>((t, i) => merge(t, i.type), { kind: 'null' }) } };
      }
      const fields = new Map<string, Inferred>();
      const value: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node as object)) {
        const item = unwrap(v);
        fields.set(k, item.type);
        value[k] = item.value;
      }
      return { value, type: { kind: 'struct', fields } };
    };
    const top = unwrap(parsed);
    return top.type.kind === 'struct' ? top : undefined;
  } catch {
    return undefined;
  }
}

/** json_transform structure for an inferred type; fields sorted by name, as Spark's JSON inference orders them. */
function structure(type: Inferred): unknown {
  switch (type.kind) {
    case 'struct':
      return Object.fromEntries([...type.fields.keys()].sort().map((name) => [name, structure(type.fields.get(name)!)]));
    case 'array':
      return [structure(type.element)];
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'VARCHAR';
  }
}

/**
 * The rows to append to the source table (one VARCHAR each) and the projection that turns them into the
 * source's columns, for FILEFORMAT = TEXT or JSON.
 */
export function sourceRelation(format: string, lines: readonly string[], options: ReadonlyMap<string, string>): { rows: (string | null)[]; projection: string } {
  const allowed = format === 'TEXT' ? TEXT_OPTIONS : format === 'JSON' ? JSON_OPTIONS : undefined;
  if (!allowed) throw databricksErrors.unsupported(`FILEFORMAT = ${format} (TEXT and JSON are emulated)`);
  for (const [key, value] of options) {
    if (!allowed.has(key)) throw databricksErrors.unsupported(`the ${format} option '${key}'`);
    if ((key === 'multiline' || key === 'wholetext') && value.toLowerCase() !== 'false') throw databricksErrors.unsupported(`${key} = ${value}`);
    if (key === 'prefersdecimal' && value.toLowerCase() !== 'false') throw databricksErrors.unsupported(`${key} = ${value}`);
    if (key === 'linesep') throw databricksErrors.unsupported('a custom lineSep');
  }
  if (format === 'TEXT') return { rows: [...lines], projection: 'value' };

  const primitivesAsString = options.get('primitivesasstring')?.toLowerCase() === 'true';
  const mode = (options.get('mode') ?? 'PERMISSIVE').toUpperCase();
  if (!['PERMISSIVE', 'FAILFAST', 'DROPMALFORMED'].includes(mode)) throw databricksErrors.unsupported(`mode = ${mode}`);
  const rows: (string | null)[] = [];
  const corrupt: (string | null)[] = [];
  let schema: Inferred = { kind: 'null' };
  for (const line of lines) {
    if (line.trim() === '') continue; // blank lines are not records in JSON Lines
    const parsed = parseLine(line, primitivesAsString);
    if (!parsed) {
      if (mode === 'FAILFAST') {
        throw new WarehouseError('MALFORMED_RECORD_IN_PARSING', '22023', `Malformed records are detected in record parsing: ${line.slice(0, 200)}. Parse Mode: FAILFAST.`);
      }
      if (mode === 'PERMISSIVE') {
        rows.push(null);
        corrupt.push(line);
      }
      continue;
    }
    schema = merge(schema, parsed.type);
    rows.push(JSON.stringify(parsed.value));
    corrupt.push(null);
  }
  const fields = schema.kind === 'struct' ? [...schema.fields.keys()].sort() : [];
  if (fields.length === 0 && !corrupt.some((c) => c !== null)) {
    throw new WarehouseError('UNABLE_TO_INFER_SCHEMA', '42KD9', 'Unable to infer schema for JSON. It must be specified manually.');
  }
  const transform = `json_transform(value, ${quoteLiteral(JSON.stringify(structure(schema.kind === 'struct' ? schema : { kind: 'struct', fields: new Map() })))})`;
  const columns = fields.map((f) => `(${transform}).${quoteIdent(f)} AS ${quoteIdent(f)}`);
  if (corrupt.some((c) => c !== null)) {
    // Spark's PERMISSIVE mode keeps a malformed line whole in _corrupt_record, its other columns NULL.
    const withCorrupt = rows.map((r, i) => JSON.stringify({ value: r, corrupt: corrupt[i] }));
    return {
      rows: withCorrupt,
      projection: [
        ...fields.map((f) => `(json_transform(json_extract_string(value, '$.value'), ${quoteLiteral(JSON.stringify(structure(schema)))})).${quoteIdent(f)} AS ${quoteIdent(f)}`),
        `json_extract_string(value, '$.corrupt') AS _corrupt_record`,
      ].join(', '),
    };
  }
  return { rows, projection: columns.join(', ') };
}
