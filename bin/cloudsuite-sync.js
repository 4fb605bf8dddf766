#!/usr/bin/env node
// Entry point of `npx cloudsuite-sync`: runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../infra/cli/main.ts');
