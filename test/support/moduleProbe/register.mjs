// Loaded with `node --import` before a CLI run: registers resolve hooks (hooks.mjs) that append every module
// URL the process resolves to the file named by CLOUDSUITE_SYNC_RESOLVED_MODULES. Plain JavaScript: it runs
// before tsx is registered.
import { register } from 'node:module';

const file = process.env.CLOUDSUITE_SYNC_RESOLVED_MODULES;
if (!file) throw new Error('set CLOUDSUITE_SYNC_RESOLVED_MODULES to the file the probe writes to');
register('./hooks.mjs', import.meta.url, { data: { file } });
