#!/usr/bin/env node
// `npm run build`: compiles to dist/ with .d.ts files (tsconfig.build.json), then copies the
// non-TypeScript files plugins ship (READMEs, dashboards) next to their compiled code.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) copyAssets(full);
    // Files under a plugin's public/ folder are web assets served as they are (the dashboard's page).
    else if (/\.(md|json)$/.test(name) || full.split(path.sep).includes('public')) cpSync(full, path.join(dist, path.relative(root, full)));
  }
}
copyAssets(path.join(root, 'plugins'));
