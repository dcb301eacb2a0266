'use strict';
// The API reference (issue 16, item 6): TypeDoc (typedoc.json, `npm run docs`) documents every export
// from its doc comment. Run as `npm run docs` would, writing nothing, with every warning an error: an
// export without a doc comment ("... does not have any documentation") or a broken {@link} fails here,
// listed by name. (--disableSources: a checkout without a git remote would otherwise warn that source
// links cannot be made, which says nothing about the comments.) About 30 s.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

test('TypeDoc: every exported declaration has a doc comment, and every {@link} resolves', () => {
  const typedoc = path.join(path.dirname(require.resolve('typedoc/package.json', { paths: [root] })), 'bin', 'typedoc');
  const r = spawnSync(process.execPath, [typedoc, '--emit', 'none', '--treatWarningsAsErrors', '--disableSources'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const problems = output.split('\n').filter((l) => /^\[(warning|error)\]/.test(l) && !/^\[\w+\] Found \d+ errors and \d+ warnings/.test(l));
  assert.deepEqual(
    problems,
    [],
    `TypeDoc reports ${problems.length} problem(s); document each declaration named (or mark it @internal if it is not public API):\n${problems.join('\n')}`,
  );
  assert.equal(r.status, 0, output);
});
