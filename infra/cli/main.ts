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
  .description('run the main job: every default entity for each company (bundled emulator unless --ionapi)')
  .option('--ionapi <file>', 'a real tenant\'s .ionapi file instead of the bundled emulator')
  .option('--companies <list>', 'companies, comma-separated (default with the emulator: 100,200,300)')
  .option('--entities <list>', 'entities, comma-separated (default: all)')
  .option('--since <date>', 'for incremental entities: changes on or after YYYY-MM-DD (default: everything)')
  .option('--state-dir <dir>', 'where local state and staged files live', '.cloudsuite-sync')
  .action(action(async (o) => (await import('./commands/sync.ts')).syncCommand(o)));

program
  .command('check')
  .description('"ping your real systems" before deploying: a token and one cheap MI call, and/or the warehouse and its privileges')
  .option('--ionapi <file>', 'the tenant\'s .ionapi file')
  .option('--company <n>', 'also check access to this company')
  .option('--databricks-host <host>', 'check a Databricks SQL warehouse (credentials from DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/SECRET)')
  .option('--databricks-path <path>', 'the SQL warehouse HTTP path')
  .option('--warehouse <local[:file]>', 'check the bundled local warehouse instead')
  .option('--catalog <name>', 'catalog the loads will write to', 'main')
  .option('--schema <name>', 'schema the loads will write to', 'cloudsuite')
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
  .action(action(async (o) => (await import('./commands/emulate.ts')).emulateCloudSuiteCommand(o)));
emulate
  .command('databricks')
  .description('the Databricks SQL warehouse emulator (Thrift over HTTP, DuckDB inside), persisted to a file')
  .option('--port <n>', 'port (default: any free port)')
  .option('--db <file>', 'DuckDB file (default .cloudsuite-sync/databricks/warehouse.duckdb)')
  .action(action(async (o) => (await import('./commands/emulate.ts')).emulateDatabricksCommand(o)));

await program.parseAsync(process.argv);
