'use strict';
// The torch-node command (bin/torch-node.js -> lib/cli/main.ts): inspect and convert on files
// written by Python PyTorch 2.15 (test/reference/safetensors_ref.py), with the results read back
// by Python — bits compared exactly (SHA-256) — and the errors a user can make, each a clear
// message with a non-zero exit code and no stack trace.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const torch = require('../dist');
const { main } = require('../dist/cli/main');
const { safetensorsFixtures } = require('./helpers/safetensors-fixtures');

const baseline = torch.memory().liveTensors;
const BIN = path.join(__dirname, '..', 'bin', 'torch-node.js');
const HAS_PT = fs.existsSync(path.join(__dirname, '..', 'dist', 'serialization', 'torch-file.js'));
const NO_PT = HAS_PT ? false : 'lib/serialization/torch-file.ts is not built';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-cli-'));
const { py, fixture, pyFile } = safetensorsFixtures(tmp);
const out = (name) => path.join(tmp, name);

function cli(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** A user error: the exit code, one message on stderr, no stack trace. */
function assertUserError(r, code, message) {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
}

const SIZE = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8, BOOL: 1 };
const numel = (shape) => shape.reduce((a, b) => a * b, 1);
const totalsOf = (infos) => ({
  tensors: Object.keys(infos).length,
  parameters: Object.values(infos).reduce((a, t) => a + numel(t.shape), 0),
  bytes: Object.values(infos).reduce((a, t) => a + numel(t.shape) * SIZE[t.dtype], 0),
});
const DTYPE = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I8: 'int8',
  U8: 'uint8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  BOOL: 'bool',
};

test('--help, help and no command', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['inspect', '--help']]) {
    const r = cli(...args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: torch-node <command> \[options\]/);
    assert.match(r.stdout, /inspect FILE \[--json\]/);
    assert.match(r.stdout, /convert IN OUT \[options\]/);
  }
  const r = cli();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Usage: torch-node/);
});

test('command-line mistakes: exit 2 with one message', () => {
  assertUserError(
    cli('frobnicate', 'x'),
    2,
    /^torch-node: unknown command 'frobnicate' \(commands: inspect, convert, run, help\)\nRun 'torch-node --help' for usage\.\n$/,
  );
  assertUserError(cli('inspect'), 2, /inspect: expected one FILE, got 0 \(usage: torch-node inspect FILE \[--json\]\)/);
  assertUserError(cli('inspect', 'a', 'b'), 2, /inspect: expected one FILE, got 2/);
  assertUserError(cli('inspect', 'a.safetensors', '--yaml'), 2, /inspect: unknown option '--yaml' \(options: --json\)/);
  assertUserError(cli('convert', 'a.pt'), 2, /convert: expected IN and OUT, got 1 argument\(s\)/);
  assertUserError(cli('convert', 'a.pt', 'b.pt', '--key'), 2, /convert: option '--key' needs a value/);
});

test('file errors: missing, not a file, unsupported type, corrupt — exit 1, no stack', () => {
  fixture();
  assertUserError(cli('inspect', 'missing.safetensors'), 1, /^torch-node: inspect: missing\.safetensors: no such file\n$/);
  assertUserError(cli('inspect', tmp), 1, /inspect: .* not a file/);
  fs.writeFileSync(out('notes.txt'), 'hello, world\n');
  assertUserError(
    cli('inspect', 'notes.txt'),
    1,
    /^torch-node: inspect: notes\.txt: unsupported file type '\.txt': expected \.safetensors, a torch\.save file \(\.pt, \.pth, \.bin, \.ckpt\) or a TorchScript archive\n$/,
  );
  fs.writeFileSync(
    out('bad.safetensors'),
    Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}').subarray(0, 16)]),
  );
  assertUserError(cli('inspect', 'bad.safetensors'), 1, /^torch-node: bad\.safetensors: the header is not valid JSON: /);
  fs.writeFileSync(out('trunc.safetensors'), Buffer.from([1, 2, 3]));
  assertUserError(cli('inspect', 'trunc.safetensors'), 1, /^torch-node: trunc\.safetensors: the file is 3 bytes, too short for the 8-byte header length/);
  assertUserError(cli('convert', 'trunc.safetensors', 'x.pt'), 1, /trunc\.safetensors: the file is 3 bytes, too short/);
  assert.ok(!fs.existsSync(out('x.pt')), 'a failed conversion writes nothing');
  // A file with an unknown extension is recognised by its content.
  fs.copyFileSync(pyFile('dtypes.safetensors'), out('model.weights'));
  const r = cli('inspect', 'model.weights');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model\.weights: safetensors/);
});

test('inspect a .safetensors file (ResNet-18 written by Python): tree, totals, metadata, --json', () => {
  const ref = fixture();
  const totals = totalsOf(ref.resnet18);
  const r = cli('inspect', pyFile('resnet18.safetensors'));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /resnet18\.safetensors: safetensors, header [\d,]+ bytes$/);
  assert.match(lines[1], /^conv1\.weight +float32 +\[64, 3, 7, 7\] +36\.8 KiB$/);
  assert.match(lines[2], /^bn1 +\(5 tensors, 257 parameters, 1\.01 KiB\)$/);
  assert.match(lines[3], /^ {2}weight +float32 +\[64\] +256 B$/);
  assert.match(
    r.stdout,
    /\nlayer1 +\(24 tensors, 148,484 parameters, 580\.0 KiB\)\n {2}0 +\(12 tensors, 74,242 parameters, 290\.0 KiB\)\n {4}conv1\.weight +float32 +\[64, 64, 3, 3\] +144\.0 KiB\n/,
  );
  assert.match(r.stdout, /\n {6}num_batches_tracked +int64 +\[\] +8 B\n/);
  assert.match(
    r.stdout,
    /\nfc +\(2 tensors, 513,000 parameters, 1\.96 MiB\)\n {2}weight +float32 +\[1000, 512\] +1\.95 MiB\n {2}bias +float32 +\[1000\] +3\.91 KiB\n/,
  );
  assert.ok(
    r.stdout.endsWith(
      `total: 122 tensors, ${totals.parameters.toLocaleString('en-US')} parameters, ${totals.bytes.toLocaleString('en-US')} bytes (44.6 MiB)\nmetadata:\n  format: pt\n`,
    ),
    r.stdout.slice(-200),
  );

  const j = cli('inspect', pyFile('resnet18.safetensors'), '--json');
  assert.equal(j.code, 0, j.stderr);
  const o = JSON.parse(j.stdout);
  assert.equal(o.format, 'safetensors');
  assert.deepEqual(o.metadata, { format: 'pt' });
  assert.deepEqual(o.totals, totals);
  assert.deepEqual(
    o.tensors.map((t) => t.name),
    ref.order.resnet18,
  );
  for (const t of o.tensors) {
    const want = ref.resnet18[t.name];
    assert.deepEqual(
      [t.dtype, t.safetensorsDtype, t.shape, t.numel, t.bytes],
      [DTYPE[want.dtype], want.dtype, want.shape, numel(want.shape), numel(want.shape) * SIZE[want.dtype]],
    );
    assert.equal(t.dataOffsets[1] - t.dataOffsets[0], t.bytes);
  }
  assert.match(j.stdout, /"shape": \[64, 3, 7, 7\],/, 'shapes on one line');
});

test('inspect a TorchScript archive lists its records', () => {
  fixture();
  const r = cli('inspect', pyFile('script.pt'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^.*script\.pt: TorchScript archive \(torch\.jit\.save\), \d+ records\n/);
  assert.match(r.stdout, /\nscript\/constants\.pkl +\d+ B\n/);
  assert.match(r.stdout, /\nscript\/code\/__torch__\.py +\d+ B/);
  assert.match(r.stdout, /\nscript\/data\/0 +32 B\n/, 'the 2x4 float32 weight');
  assert.match(r.stdout, /\ntotal: \d+ records, [\d,]+ bytes/);
  const o = JSON.parse(cli('inspect', pyFile('script.pt'), '--json').stdout);
  assert.equal(o.format, 'torchscript');
  assert.ok(o.records.some((x) => x.name === 'script/data.pkl' && x.bytes > 0));
  assert.equal(o.totals.records, o.records.length);
  assert.equal(
    o.totals.bytes,
    o.records.reduce((a, x) => a + x.bytes, 0),
  );
  assertUserError(
    cli('convert', pyFile('script.pt'), 'script.safetensors'),
    1,
    /is a TorchScript archive \(torch\.jit\.save\); convert reads torch\.save files such as state dicts/,
  );
});

test('inspect .pt files: state dict, nested dicts and lists, a checkpoint with plain values', { skip: NO_PT }, () => {
  const ref = fixture();
  const o = JSON.parse(cli('inspect', pyFile('resnet18.pt'), '--json').stdout);
  assert.equal(o.format, 'pytorch');
  assert.deepEqual(
    o.tensors.map((t) => t.name),
    ref.order.resnet18,
  );
  assert.deepEqual(o.totals, totalsOf(ref.resnet18));
  assert.deepEqual(o.values, []);

  const n = cli('inspect', pyFile('nested.pt'));
  assert.equal(n.code, 0, n.stderr);
  assert.equal(
    n.stdout.split('\n').slice(1).join('\n'),
    [
      'model.fc  (2 tensors, 8 parameters, 32 B)',
      '  weight  float32  [2, 3]                   24 B',
      '  bias    float32  [2]                       8 B',
      'extra     (2 tensors, 8 parameters, 50 B)',
      '  emb     int64    [2, 3]                   48 B',
      '  mask    bool     [2]                       2 B',
      'list      (2 tensors, 3 parameters, 8 B)',
      '  0       float16  [2]                       4 B',
      '  1       int32    []                        4 B',
      'total: 6 tensors, 19 parameters, 90 bytes (90 B)',
      '',
    ].join('\n'),
  );

  const c = cli('inspect', pyFile('checkpoint.pt'));
  assert.equal(c.code, 0, c.stderr);
  assert.match(
    c.stdout,
    /\nepoch +int +3\nlr +float +0\.1\nname +str +"run-1"\nstate_dict\.w +float32 +\[2, 2\] +16 B\ntotal: 1 tensor, 4 parameters, 16 bytes \(16 B\)\n$/,
  );
  const cj = JSON.parse(cli('inspect', pyFile('checkpoint.pt'), '--json').stdout);
  assert.deepEqual(cj.values, [
    { name: 'epoch', type: 'int', value: 3 },
    { name: 'lr', type: 'float', value: 0.1 },
    { name: 'name', type: 'str', value: 'run-1' },
  ]);
});

test("convert .pt -> .safetensors: Python reads torchvision's bits back; nested names flattened", { skip: NO_PT }, () => {
  const ref = fixture();
  const r = cli('convert', pyFile('resnet18.pt'), 'r18.safetensors');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'wrote r18.safetensors: 122 tensors\n');
  const n = cli('convert', pyFile('nested.pt'), 'nested.safetensors');
  assert.equal(n.code, 0, n.stderr);
  const got = py({ cmd: 'read', files: [out('r18.safetensors'), out('nested.safetensors')] });
  const a = got[out('r18.safetensors')];
  assert.deepEqual(a.tensors, ref.resnet18);
  assert.deepEqual(a.order, ref.order.resnet18);
  assert.deepEqual(a.metadata, { format: 'pt' }, 'the metadata transformers expects of converted files');
  assert.equal(a.layout.aligned, true);
  const b = got[out('nested.safetensors')];
  assert.deepEqual(b.tensors, ref.nested);
  assert.deepEqual(b.order, ref.order.nested);
});

test('convert .safetensors -> .pt: Python torch.load(weights_only=True) gets identical bits', { skip: NO_PT }, () => {
  const ref = fixture();
  const r = cli('convert', pyFile('resnet18.safetensors'), 'r18.pt');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "wrote r18.pt: 122 tensors as a flat dict; the file's metadata (1 entry) has no place in a .pt file and was left out\n");
  const got = py({ cmd: 'load_pt', files: [out('r18.pt')] })[out('r18.pt')];
  assert.deepEqual(got.tensors, ref.resnet18);
  // And back again: the same bytes as converting Python's own .pt.
  assert.equal(cli('convert', 'r18.pt', 'r18-again.safetensors').code, 0);
  assert.equal(cli('convert', pyFile('resnet18.pt'), 'r18-direct.safetensors').code, 0);
  assert.equal(Buffer.compare(fs.readFileSync(out('r18-again.safetensors')), fs.readFileSync(out('r18-direct.safetensors'))), 0);
});

test('convert: checkpoints with plain values, --key, --skip-non-tensors, --force, wrong formats', { skip: NO_PT }, () => {
  fixture();
  const ck = pyFile('checkpoint.pt');
  assertUserError(
    cli('convert', ck, 'ck.safetensors'),
    1,
    /checkpoint\.pt holds 3 value\(s\) that are not tensors \(epoch, lr, name\); safetensors stores only tensors: pass --skip-non-tensors to leave them out, or --key to pick the dict of tensors \(e\.g\. --key state_dict\)/,
  );
  assert.ok(!fs.existsSync(out('ck.safetensors')));
  let r = cli('convert', ck, 'ck.safetensors', '--key', 'state_dict');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(cli('inspect', 'ck.safetensors', '--json').stdout).tensors.map((t) => t.name),
    ['w'],
  );
  assertUserError(
    cli('convert', ck, 'ck.safetensors', '--skip-non-tensors'),
    1,
    /^torch-node: convert: ck\.safetensors exists; pass --force to overwrite it\n$/,
  );
  r = cli('convert', ck, 'ck.safetensors', '--skip-non-tensors', '--force');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'wrote ck.safetensors: 1 tensor; left out 3 non-tensor value(s): epoch, lr, name\n');
  assert.deepEqual(
    JSON.parse(cli('inspect', 'ck.safetensors', '--json').stdout).tensors.map((t) => t.name),
    ['state_dict.w'],
  );
  assertUserError(
    cli('convert', ck, 'x.safetensors', '--key', 'optimizer'),
    1,
    /has no key 'optimizer' \(at 'optimizer'; keys there: epoch, lr, name, state_dict\)/,
  );
  assertUserError(
    cli('convert', ck, 'model.onnx'),
    2,
    /convert: cannot tell the format to write from OUT's extension '\.onnx': use \.safetensors or \.pt \/ \.pth \/ \.bin \/ \.ckpt/,
  );
  assertUserError(cli('convert', ck, 'copy.pth'), 2, /are both torch\.save files; convert goes between \.pt\/\.pth and \.safetensors/);
  assertUserError(cli('convert', 'ck.safetensors', 'ck.safetensors'), 2, /are both safetensors files/);
  assertUserError(cli('convert', 'missing.pt', 'x.safetensors'), 1, /convert: missing\.pt: no such file/);
});

test('main() in-process: the same results, and every tensor it loads is freed', { skip: NO_PT }, async () => {
  fixture();
  const live = torch.memory().liveTensors;
  const io = {
    out: '',
    err: '',
    stdout(t) {
      this.out += t;
    },
    stderr(t) {
      this.err += t;
    },
  };
  assert.equal(await main(['inspect', pyFile('resnet18.pt'), '--json'], io), 0, io.err);
  assert.equal(JSON.parse(io.out).totals.tensors, 122);
  assert.equal(await main(['convert', pyFile('resnet18.safetensors'), out('inproc.pt')], io), 0, io.err);
  assert.equal(await main(['convert', out('inproc.pt'), out('inproc.safetensors')], io), 0, io.err);
  assert.equal(await main(['inspect', out('inproc.safetensors')], io), 0, io.err);
  assert.equal(await main(['inspect', out('nope.safetensors')], io), 1);
  assert.equal(torch.memory().liveTensors, live);
});

test('no tensors leak', () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
