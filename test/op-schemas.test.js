'use strict';
// Every ATen operator the library names by a literal schema key (callOp('sum.dim_IntList', ...),
// op('clone'), ...; lib/ops/call.ts) resolves in the libtorch it runs with: a misspelt key or an
// overload libtorch dropped fails here, not at the first call of the method that uses it. Keys built
// at run time (`${name}.dim`) are listed with the names they take, and also resolved.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { native } = require('../dist/binding');

const lib = path.join(__dirname, '..', 'lib');
function sources(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

// The call forms that take a schema key as their first argument.
const CALL = /\b(?:callOp|callOps|callValue(?:<[^>]*>)?|callInplace|call|op|inplace|schemaOf)\(\s*'([a-z_][\w.:]*)'/g;
// Keys assembled from a name at run time, with the names they are assembled from.
const TEMPLATES = {
  '${name}.dim': ['max', 'min', 'all', 'any'], // Tensor.max/min/all/any(dim)
  '${name}.dims': ['all', 'any'], // Tensor.all/any({ dim: [..] }) and all/any({ keepdim: true })
  '${name}.Tensor': ['add', 'sub'], // Tensor.addScaled/subScaled
  '${name}.Scalar': ['add', 'sub'],
  '${name}.correction': ['std', 'var'],
  '${name}.padding': ['conv1d', 'conv2d'], // F.conv1d/2d with padding 'same' / 'valid'
  '${name}_': ['relu', 'silu', 'hardtanh', 'hardswish', 'hardsigmoid'], // F.relu(x, { inplace: true }), ...
};

test('every literal schema key in lib/ resolves to an operator of this libtorch', () => {
  const keys = new Map();
  for (const file of sources(lib)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      if (!keys.has(m[1])) keys.set(m[1], path.relative(lib, file));
    }
  }
  assert.ok(keys.size > 100, `found ${keys.size} keys: the scan must see the library's calls`);
  const bad = [];
  for (const [key, file] of keys) {
    const dot = key.indexOf('.');
    const name = dot < 0 ? key : key.slice(0, dot);
    const overload = dot < 0 ? '' : key.slice(dot + 1);
    try {
      native.findOp(name.includes('::') ? name : `aten::${name}`, overload);
    } catch (e) {
      bad.push(`${key} (${file}): ${e.message}`);
    }
  }
  assert.deepEqual(bad, [], `unresolved schema keys:\n${bad.join('\n')}`);
  console.log(`${keys.size} schema keys resolved`);
});

test('keys built at run time resolve for every name they are built from', () => {
  const used = new Set();
  for (const file of sources(lib)) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/\b(?:callOp|callOps|callInplace|op)\(\s*`([^`]*)`/g)) used.add(m[1]);
  }
  for (const t of used) assert.ok(TEMPLATES[t], `a schema key built at run time is not listed in this test: \`${t}\``);
  for (const [t, names] of Object.entries(TEMPLATES)) {
    for (const n of names) {
      const key = t.replace('${name}', n);
      const dot = key.indexOf('.');
      assert.doesNotThrow(() => native.findOp(`aten::${dot < 0 ? key : key.slice(0, dot)}`, dot < 0 ? '' : key.slice(dot + 1)), key);
    }
  }
});
