#!/usr/bin/env node
'use strict';
// The torch-node command: inspect and convert model files (lib/cli/main.ts; `torch-node --help`).
let cli;
try {
  cli = require('../dist/cli/main');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]cli[\\/]main/.test(e.message)) {
    process.stderr.write("torch-node: the compiled CLI (dist/cli/main.js) is missing; run 'npm run build:ts' in the package\n");
    process.exit(1);
  }
  throw e;
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`torch-node: internal error (please report it): ${e?.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  },
);
