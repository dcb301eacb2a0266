'use strict';
// What the benchmark scripts share: the median of samples and the description of this machine.
const fs = require('fs');
const os = require('os');

/** The median of numbers (the mean of the middle two for an even count). */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** This machine and the node side's versions: CPU model (from /proc/cpuinfo where there is one), cores, OS, node, torch-node, libtorch. */
function machine(torch) {
  let cpu = os.cpus()[0]?.model || 'unknown CPU';
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  return {
    cpu,
    cores: os.cpus().length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    torchNode: torch.version,
    libtorch: torch.libtorchVersion,
  };
}

module.exports = { median, machine };
