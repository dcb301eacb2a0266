'use strict';
// What the torch.export tests (export.test.js, export-old-versions.test.js) and the export fuzz
// target share: deterministic inputs, flat value lists, a tolerance check, and a hostile graph.
const assert = require('node:assert/strict');

/** A tensor of `shape` holding evenly spaced values from -1 to 1 (the same numbers on the Python side). */
const lin = (torch, shape) =>
  torch
    .linspace(
      -1,
      1,
      shape.reduce((a, b) => a * b, 1),
    )
    .reshape(shape);

/** A tensor's values as a flat array. */
const flat = (torch, t) => torch.tidy(() => t.reshape(-1).tolist());

/** Two flat arrays equal within atol + rtol * |Python's|; `what` names the comparison in the failure. */
const close = (a, b, what, rtol = 1e-5, atol = 1e-5) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
};

/**
 * A serialized graph of `depth` nested `cond`s: each true branch holds the next cond, each false
 * branch passes its first operand through; every graph takes `operands` (tensor names) and returns
 * the first.
 */
function nestedConds(depth, operands = ['a']) {
  const ins = () => operands.map((name) => ({ as_tensor: { name } }));
  const leaf = () => ({ inputs: ins(), outputs: [{ as_tensor: { name: operands[0] } }], nodes: [] });
  let g = leaf();
  for (let i = 0; i < depth; i++) {
    g = {
      inputs: ins(),
      outputs: [{ as_tensor: { name: `c${i}` } }],
      nodes: [
        {
          target: 'torch.ops.higher_order.cond',
          name: `c${i}`,
          outputs: [{ as_tensor: { name: `c${i}` } }],
          inputs: [
            { name: '', arg: { as_bool: true }, kind: 1 },
            { name: '', arg: { as_graph: { name: `t${i}`, graph: g } }, kind: 1 },
            { name: '', arg: { as_graph: { name: `f${i}`, graph: leaf() } }, kind: 1 },
            { name: '', arg: { as_tensors: operands.map((name) => ({ name })) }, kind: 1 },
          ],
        },
      ],
    };
  }
  return g;
}

module.exports = { lin, flat, close, nestedConds };
