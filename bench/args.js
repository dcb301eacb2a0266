'use strict';
// Command-line helpers shared by the bench scripts: a usage printer that exits (2 with an error, 0
// for --help) and a positive-integer parser that reports through it.
function makeUsage(script, text) {
  return (err) => {
    if (err) {
      process.stderr.write(`${script}: ${err}\n${text}\n`);
      process.exit(2);
    }
    process.stdout.write(text + '\n');
    process.exit(0);
  };
}

function makePosInt(usage) {
  return (name, s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v <= 0) usage(`${name} needs a positive integer, got '${s}'`);
    return v;
  };
}

module.exports = { makeUsage, makePosInt };
