'use strict';
// Formats the binding's C++ (binding/**/*.cc, *.h, bench/floor.cc) with clang-format, the style in
// .clang-format. clang-format comes from npm (@wasm-fmt/clang-format, pinned in package.json: a
// WebAssembly build, so every machine formats alike, no system package needed).
//
//   node scripts/format.js           rewrite the files that differ
//   node scripts/format.js --check   list them and exit 1 (npm test runs this)
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function files(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(cc|h)$/.test(e.name)) out.push(p);
  }
  return out;
}

async function main() {
  const { format } = await import('@wasm-fmt/clang-format');
  const style = fs.readFileSync(path.join(root, '.clang-format'), 'utf8');
  const check = process.argv.includes('--check');
  const targets = [...files(path.join(root, 'binding')), path.join(root, 'bench', 'floor.cc')];
  const differ = [];
  for (const f of targets) {
    const text = fs.readFileSync(f, 'utf8');
    const formatted = format(text, path.basename(f), style);
    if (formatted === text) continue;
    differ.push(path.relative(root, f));
    if (!check) fs.writeFileSync(f, formatted);
  }
  if (check && differ.length) {
    console.error(`clang-format: ${differ.length} file(s) not formatted (run node scripts/format.js):\n  ${differ.join('\n  ')}`);
    process.exit(1);
  }
  if (!check) console.log(differ.length ? `formatted ${differ.join(', ')}` : 'nothing to format');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
