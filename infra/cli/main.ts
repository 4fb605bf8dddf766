// `npx cloudsuite-sync <command>`: the operator's command line. Results go to stdout, progress and
// logs to stderr; exit code 0 only when the command fully succeeded. Commands load lazily, so
// `check` against a real tenant never loads emulator code.
import { Command, Option } from 'commander';
import { action, setUpCliOutput } from './output.ts';

const program = new Command()
  .name('cloudsuite-sync')
  .description('Sync Infor CloudSuite (M3) procurement and finance records into Databricks')
  .option('-v, --verbose', 'structured logs (INFO) on stderr')
  .hook('preAction', (cmd) => setUpCliOutput(Boolean(cmd.opts().verbose)));

program
  .command('sync')
  .description('the main job: runs the real state machine locally (bundled CloudSuite and warehouse emulators unless told otherwise)')
  .option('--state-dir <dir>', 'local state: DynamoDB and S3 data, the emulator clock, the warehouse file', '.cloudsuite-sync')
  .option('--reset', 'start over: delete the state folder (only one this tool created, or an empty one): watermarks, staged runs, the local warehouse')
  .option('--flows <list>', 'flows to run, comma-separated (default: every enabled flow)')
  .option('--companies <list>', 'companies, comma-separated (default: each flow\'s own)')
  .option('--divisions <list>', 'divisions, comma-separated (division-scoped flows)')
  .addOption(new Option('--mode <mode>', 'incremental (default), backfill (since..until, watermarks untouched), full, reconcile (incremental entities read whole: deletes and changes without a new stamp) or sweep (their keys only: deletes)').choices(['incremental', 'backfill', 'full', 'reconcile', 'sweep']))
  .option('--since <date>', 'backfill start, YYYY-MM-DD')
  .option('--until <date>', 'backfill end, YYYY-MM-DD')
  .option('--rerun-of <execution>', 'replay exactly the failed units of that execution')
  .option('--advance-days <n>', 'move the bundled CloudSuite emulator\'s clock forward first, so the run has changes to find')
  .option('--ionapi <file>', 'a real tenant\'s .ionapi file instead of the bundled emulator')
  .option('--databricks-host <host>', 'a real Databricks workspace (credentials from DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/SECRET)')
  .option('--databricks-path <path>', 'the SQL warehouse HTTP path')
  .option('--emulator-knobs <json|file>', 'knobs of the bundled CloudSuite emulator, e.g. \'{"tableFields":{"MPHEAD":{"missing":["REMK"]}}}\' (a tenant whose tables differ)')
  .action(action(async (o) => (await import('./commands/localSync.ts')).localSyncCommand(o)));

program
  .command('rerun')
  .description('start an execution of the deployed state machine (rerun failed units, backfill, full read) and print its console link')
  .requiredOption('--state-machine <arn>', 'the state machine ARN (stack output)')
  .option('--rerun-of <execution>', 'replay exactly the failed units of that execution')
  .option('--flows <list>', 'flows, comma-separated')
  .option('--companies <list>', 'companies, comma-separated')
  .option('--divisions <list>', 'divisions, comma-separated')
  .option('--since <date>', 'YYYY-MM-DD')
  .option('--until <date>', 'YYYY-MM-DD')
  .addOption(new Option('--mode <mode>', 'incremental, backfill, full, reconcile or sweep').choices(['incremental', 'backfill', 'full', 'reconcile', 'sweep']))
  .option('--name <execution>', 'execution name (default: generated)')
  .action(action(async (o) => (await import('./commands/rerun.ts')).rerunCommand(o)));

program
  .command('check')
  .description('"ping your real systems" before deploying: the preflight of every flow and company on the tenant, and/or the warehouse and its privileges')
  .option('--ionapi <file>', 'the tenant\'s .ionapi file: check every configured flow against it')
  .option('--flows <list>', 'flows to check, comma-separated (default: every enabled flow of the tenant)')
  .option('--companies <list>', 'companies to check, comma-separated (default: each flow\'s own)')
  .option('--company <n>', 'one company to check (same as --companies N)')
  .option('--databricks-host <host>', 'check a Databricks SQL warehouse (credentials from DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/SECRET)')
  .option('--databricks-path <path>', 'the SQL warehouse HTTP path')
  .option('--warehouse <local[:file]>', 'check the bundled local warehouse instead')
  .option('--catalog <name>', 'catalog the loads will write to', 'main')
  .option('--schema <name>', 'schema the loads will write to', 'cloudsuite')
  .option('--round-trip', 'also load a few tricky invoices and a full-size bulk through the real loader into probe tables, read them back exactly, reload (no change), drop them, and print each statement\'s time')
  .option('--load-mode <mode>', 'the load mode the round trip proves: merge (bound JSON batches) or copy (COPY INTO from S3)', 'merge')
  .option('--staging-url <s3url>', 'copy mode with a real warehouse: an S3 location under its external location (the stack output DatabricksStagingUrl)')
  .option('--state-dir <dir>', 'where the default local warehouse file lives', '.cloudsuite-sync')
  .action(action(async (o) => (await import('./commands/check.ts')).checkCommand(o)));

program
  .command('extract')
  .description('extract one entity for one company into a folder of staged files')
  .requiredOption('--ionapi <file>', 'the tenant\'s .ionapi file')
  .requiredOption('--entity <id>', 'entity id, e.g. suppliers or purchase_orders')
  .requiredOption('--company <n>', 'company number (CONO)')
  .option('--division <d>', 'one division (division-scoped entities; default: every division)')
  .addOption(new Option('--since <date>', 'incremental entities: changes on or after YYYY-MM-DD').conflicts('full'))
  .option('--full', 'incremental entities: read everything')
  .requiredOption('--out <dir>', 'output folder')
  .action(action(async (o) => (await import('./commands/extract.ts')).extractCommand(o)));

program
  .command('describe')
  .description('list the fields of an MI transaction or a table and print a ready catalog entry')
  .requiredOption('--ionapi <file>', 'the tenant\'s .ionapi file')
  .option('--transaction <program/transaction>', 'e.g. CRS620MI/LstSuppliers')
  .option('--table <name>', 'e.g. MPHEAD')
  .action(action(async (o) => (await import('./commands/describe.ts')).describeCommand(o)));

program
  .command('load')
  .description('load a folder written by `extract` into the warehouse (current + history tables)')
  .requiredOption('--staged <dir>', 'the folder `extract` wrote')
  .option('--warehouse <local[:file]>', 'the bundled warehouse emulator, persisted to a DuckDB file (default)')
  .option('--databricks-host <host>', 'a real Databricks workspace host (credentials from DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/SECRET)')
  .option('--databricks-path <path>', 'the SQL warehouse HTTP path, e.g. /sql/1.0/warehouses/abc123')
  .option('--catalog <name>', 'target catalog', 'main')
  .option('--schema <name>', 'target schema', 'cloudsuite')
  .option('--table <name>', 'target table (default: the entity id)')
  .option('--state-dir <dir>', 'where the default local warehouse file lives', '.cloudsuite-sync')
  .action(action(async (o) => (await import('./commands/load.ts')).loadCommand(o)));

program
  .command('query')
  .description('run one SQL statement against the warehouse and print rows as JSON lines')
  .argument('<sql>', 'the statement, e.g. "SELECT count(*) FROM main.cloudsuite.suppliers"')
  .option('--warehouse <local[:file]>', 'the bundled warehouse emulator file (default)')
  .option('--databricks-host <host>', 'a real Databricks workspace host')
  .option('--databricks-path <path>', 'the SQL warehouse HTTP path')
  .option('--state-dir <dir>', 'where the default local warehouse file lives', '.cloudsuite-sync')
  .action(action(async (sql: string, o) => (await import('./commands/query.ts')).queryCommand(sql, o)));

const emulate = program.command('emulate').description('run a bundled emulator standalone');
emulate
  .command('cloudsuite')
  .description('the ION API gateway + M3 MI REST emulator; prints the path of a matching .ionapi file')
  .option('--port <n>', 'port (default: any free port)')
  .option('--seed <s>', 'data seed', '1')
  .option('--ionapi <file>', 'where to write the .ionapi file', '.cloudsuite-sync/emulator.ionapi')
  .option('--knobs <json|file>', 'behaviour knobs, e.g. \'{"missingTables":["FPLEDG"]}\' (see infra/local/emulators/cloudsuite/README.md)')
  .action(action(async (o) => (await import('./commands/emulate.ts')).emulateCloudSuiteCommand(o)));
emulate
  .command('databricks')
  .description('the Databricks SQL warehouse emulator (Thrift over HTTP, DuckDB inside), persisted to a file')
  .option('--port <n>', 'port (default: any free port)')
  .option('--db <file>', 'DuckDB file (default .cloudsuite-sync/databricks/warehouse.duckdb)')
  .action(action(async (o) => (await import('./commands/emulate.ts')).emulateDatabricksCommand(o)));

await program.parseAsync(process.argv);
