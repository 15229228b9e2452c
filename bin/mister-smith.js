#!/usr/bin/env node
// The `mister-smith` command. In a checkout (TypeScript sources present) it runs the sources through
// tsx; in an installed package it runs the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../kernel/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/kernel/cli/main.js', import.meta.url);
process.env.MISTER_SMITH_CLI = '1';
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(compiled.href);
}
