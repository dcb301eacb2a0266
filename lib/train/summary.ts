/**
 * summary(model, inputShape?): a table of layers with output shapes (when an input shape is given:
 * one no-grad forward of zeros, recording each submodule's output through its call()), parameter
 * counts, and trainable vs frozen totals.
 */
import { noGrad } from '../autograd';
import { zeros } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import type { Module } from '../nn/module';

/**
 * A table of `module`'s layers (torchinfo-style): each submodule's parameter count and whether it is frozen, and with
 * `inputShape` each one's output shape (from one no-grad forward of zeros); then the total, trainable and frozen parameter counts.
 */
export function summary(module: Module, inputShape?: number[]): string {
  const shapes = new Map<Module, string>();
  if (inputShape) {
    const restore: [Module, Module['call']][] = [];
    for (const m of module.modules()) {
      if (m === module) continue;
      const own = Object.hasOwn(m, 'call') ? m.call : undefined;
      restore.push([m, own as Module['call']]);
      const orig = m.call;
      m.call = (...args: any[]) => {
        const out = orig.apply(m, args);
        const first = Array.isArray(out) ? out[0] : out;
        if (first instanceof Tensor) shapes.set(m, `[${first.shape.join(', ')}]`);
        return out;
      };
    }
    try {
      tidy(() => {
        noGrad(() => module.call(zeros(inputShape)));
      });
    } finally {
      for (const [m, own] of restore) {
        if (own) m.call = own;
        else delete (m as any).call;
      }
    }
  }
  const rows: [string, string, string, string][] = [];
  for (const [name, m] of module.namedModules()) {
    if (m === module) continue;
    const own = m.parameters({ recurse: false });
    const n = own.reduce((a, p) => a + p.numel(), 0);
    const frozen = own.length > 0 && own.every((p) => !p.requiresGrad);
    rows.push([
      `${'  '.repeat(name.split('.').length - 1)}${name} (${m.constructor.name})`,
      shapes.get(m) ?? (inputShape ? '-' : ''),
      n ? String(n) : '',
      n ? (frozen ? 'frozen' : 'trainable') : '',
    ]);
  }
  const header: [string, string, string, string] = ['layer', inputShape ? 'output shape' : '', 'params', ''];
  const w = [0, 1, 2, 3].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 2 ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const total = module.parameters().reduce((a, p) => a + p.numel(), 0);
  const trainable = module
    .parameters()
    .filter((p) => p.requiresGrad)
    .reduce((a, p) => a + p.numel(), 0);
  return [
    `${module.constructor.name}${inputShape ? ` (input [${inputShape.join(', ')}])` : ''}`,
    line(header),
    ...rows.map(line),
    `total parameters: ${total}; trainable: ${trainable}; frozen: ${total - trainable}`,
  ].join('\n');
}
