'use strict';
// torch.export.load of the archives older torch versions wrote with torch.export.save: each layout
// (the legacy zip of torch 2.5 and 2.6, the pickled-weights PT2 archive of 2.8, the raw-payload PT2
// archive of 2.9) made by that torch itself (scripts/old-export-fixtures.js installs it once into
// torch-node's cache; test/reference/old_export.py exports and records its outputs). What PyTorch
// 2.15's own torch.export.load accepts loads here and runs with that torch's outputs (eval and train
// mode, BatchNorm statistics, gradients, an SGD step, a dynamic batch); what it refuses is a
// TorchError naming the schema version and the fix. Hostile variants of the old layouts are
// TorchErrors; a bounded fuzz run over them too. When the old torch cannot be installed (no
// network), its tests skip with the reason printed.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const torch = require('../dist');
const tex = require('../dist/export');
const { VERSIONS, ensureVersion } = require('../scripts/old-export-fixtures');
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // the references ran on one thread: the same summation order
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-export-old-'));
const shared = require('./helpers/export');
const { close } = shared;
const flat = (t) => shared.flat(torch, t);
const lin = (shape) => shared.lin(torch, shape);
const closeAll = (a, b, what, rtol = 1e-5) => a.forEach((x, i) => close(x, b[i], `${what} leaf ${i}`, rtol, 1e-5));
const err = (re, code) => (e) => e instanceof torch.TorchError && re.test(e.message) && (!code || e.code === code);
const tin = () => [{ img: lin([2, 3, 8, 8]), aux: lin([2, 4]) }, [torch.tensor(1.5), torch.tensor([0.5, 2.0])]];
const leaves = (r) => [flat(r[0]), flat(r[1].feat), flat(r[1].aux2[0]), flat(r[1].aux2[1])];
const ARCHIVES = ['tree_eval', 'tree_train', 'dyn'];
/** What each version's archives do (checked against PyTorch 2.15 live below as well). */
const EXPECTED = { '2.5.1': 'refused', '2.6.0': 'legacy', '2.8.0': 'pt2-pickled', '2.9.1': 'pt2' };

/** version -> { dir, outputs } or { skip } */
const fixtures = new Map();
let py = null;

test.before(() => {
  // Made once per machine (minutes: one pip install per version); then read from the cache.
  let failed = null; // once an install fails (no network), the other versions are not tried
  for (const v of VERSIONS) {
    const t0 = Date.now();
    const f = ensureVersion(v, { log: (m) => console.log(`# ${m}`), install: !failed, reason: failed && `not tried after: ${failed}` });
    if (f.skip) {
      console.log(`# torch ${v}: its archives are not tested: ${f.skip}`);
      failed ??= f.skip;
    } else if (Date.now() - t0 > 1000) console.log(`# torch ${v}: fixtures made in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    fixtures.set(v, f);
  }
  const ready = [...fixtures.values()].filter((f) => !f.skip);
  if (ready.length === 0) return;
  // PyTorch 2.15 on the same archives: does its torch.export.load take them, and what do they give?
  // Also the hostile variants of the old layouts.
  py = runPython(
    `
import json, sys, os, zipfile, io, warnings, logging
warnings.filterwarnings('ignore')
logging.disable(logging.WARNING)
import torch
d = json.load(sys.stdin)
torch.set_num_threads(1)
def lin(shape):
    n = 1
    for s in shape: n *= s
    return torch.linspace(-1, 1, n).reshape(shape)
flat = lambda t: t.detach().reshape(-1).tolist()
tin = lambda: ({'img': lin([2, 3, 8, 8]), 'aux': lin([2, 4])}, (torch.tensor(1.5), torch.tensor([0.5, 2.0])))
def tree_flat(r):
    return [flat(r[0]), flat(r[1]['feat']), flat(r[1]['aux2'][0]), flat(r[1]['aux2'][1])]
out = {}
for v, fdir in d['fixtures'].items():
    res = out[v] = {}
    for name in ('tree_eval', 'tree_train', 'dyn'):
        try:
            ep = torch.export.load(os.path.join(fdir, name + '.pt2'))
        except Exception as e:
            res[name] = {'error': type(e).__name__ + ': ' + str(e).split('\\n')[0]}
            continue
        r = res[name] = {'ok': True}
        mod = ep.module()
        if name == 'tree_eval':
            with torch.no_grad():
                r['y'] = tree_flat(mod(*tin()))
        elif name == 'tree_train':
            torch.manual_seed(123)
            y = mod(*tin())
            r['y'] = tree_flat(y)
            r['stats'] = [flat(mod.bn.running_mean), flat(mod.bn.running_var), int(mod.bn.num_batches_tracked)]
            (y[0].pow(2).mean() + y[1]['feat'].sum()).backward()
            r['grads'] = {k: flat(q.grad) for k, q in mod.named_parameters()}
            torch.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9).step()
            r['step'] = {k: flat(q) for k, q in mod.named_parameters()}
            torch.manual_seed(321)
            with torch.no_grad():
                r['after'] = tree_flat(mod(*tin()))
        else:
            with torch.no_grad():
                r['y'] = {str(b): flat(mod(lin([b, 4]))) for b in (1, 4, 7)}

# hostile variants of a legacy zip (torch 2.6) and of a pickled-weights PT2 archive (torch 2.8)
def variant(src, name, edit=None, drop=(), add=None):
    dst = os.path.join(d['dir'], name)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            if any(info.filename.endswith(x) for x in drop):
                continue
            data = zin.read(info.filename)
            if edit:
                data = edit(info.filename, data)
            zout.writestr(info, data)
        for k, v in (add or {}).items():
            zout.writestr(k, v)
def saved(obj):
    b = io.BytesIO(); torch.save(obj, b); return b.getvalue()
class Call:
    def __reduce__(self):
        return (print, ('code from a pickle ran',))
def record(suffix, data):
    return lambda n, b: data if n.endswith(suffix) else b
def edit_json(fn):
    def e(n, b):
        if n.endswith('serialized_exported_program.json') or n.endswith('models/model.json'):
            j = json.loads(b); fn(j); return json.dumps(j).encode()
        return b
    return e
def major(m):
    def fn(j): j['schema_version']['major'] = m
    return fn
leg = d.get('legacy')
if leg:
    src = os.path.join(leg, 'tree_eval.pt2')
    variant(src, 'v73.pt2', record('version', b'7.3'))
    variant(src, 'v1.pt2', record('version', b'1'))
    variant(src, 'v9.pt2', record('version', b'9.0'))
    variant(src, 'vjunk.pt2', record('version', b'eight'))
    variant(src, 'noversion.pt2', drop=('version',))
    variant(src, 'json7.pt2', edit_json(major(7)))
    variant(src, 'nostate.pt2', drop=('serialized_state_dict.pt',))
    state = None
    with zipfile.ZipFile(src) as z:
        state = z.read('serialized_state_dict.pt')
    variant(src, 'halfstate.pt2', record('serialized_state_dict.pt', state[: len(state) // 2]))
    variant(src, 'codestate.pt2', record('serialized_state_dict.pt', saved({'conv.weight': Call()})))
    variant(src, 'strstate.pt2', record('serialized_state_dict.pt', saved({'conv.weight': 'not a tensor'})))
    variant(src, 'liststate.pt2', record('serialized_state_dict.pt', saved([torch.ones(2)])))
    variant(src, 'misnamed.pt2', record('serialized_state_dict.pt', saved({'conv.other': torch.ones(2)})))
    variant(src, 'nested.pt2', drop=tuple(n for n in zipfile.ZipFile(src).namelist()), add={'x/' + n: zipfile.ZipFile(src).read(n) for n in zipfile.ZipFile(src).namelist()})
    # what PyTorch 2.15 says of three of them
    out['hostile_py'] = {}
    for n in ('v73.pt2', 'v1.pt2', 'json7.pt2'):
        try:
            torch.export.load(os.path.join(d['dir'], n)); out['hostile_py'][n] = None
        except Exception as e:
            out['hostile_py'][n] = type(e).__name__ + ': ' + str(e).split('\\n')[0]
pk = d.get('pickled')
if pk:
    src = os.path.join(pk, 'tree_eval.pt2')
    w = [n for n in zipfile.ZipFile(src).namelist() if n.endswith('data/weights/model.pt')][0]
    data = zipfile.ZipFile(src).read(w)
    variant(src, 'pt2_halfweights.pt2', record('data/weights/model.pt', data[: len(data) // 2]))
    variant(src, 'pt2_codeweights.pt2', record('data/weights/model.pt', saved({'conv.weight': Call()})))
print(json.dumps(out))
`,
    {
      dir,
      fixtures: Object.fromEntries(ready.map((f) => [f.version, f.dir])),
      legacy: fixtures.get('2.6.0')?.dir ?? null,
      pickled: fixtures.get('2.8.0')?.dir ?? null,
    },
    { timeout: 300000 },
  );
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The fixtures of v, or null after skipping the test with the reason (printed in before()). */
function fixtureOf(t, v) {
  const f = fixtures.get(v);
  if (f.skip) {
    t.skip(`torch ${v} could not be installed: ${f.skip}`);
    return null;
  }
  return f;
}

for (const v of VERSIONS) {
  test(`torch ${v}'s archives: loaded exactly when PyTorch 2.15 loads them (${EXPECTED[v]})`, (t) => {
    const f = fixtureOf(t, v);
    if (!f) return;
    const o = f.outputs;
    assert.ok(o.torch.startsWith(v), `the fixtures were made by torch ${o.torch}`);
    const layout = o.tree_eval_archive.entries;
    if (EXPECTED[v] === 'refused' || EXPECTED[v] === 'legacy')
      assert.ok(layout.includes('serialized_exported_program.json') && layout.includes('version'), layout.join(', '));
    if (EXPECTED[v] === 'pt2-pickled')
      assert.ok(
        layout.some((n) => n.endsWith('/data/weights/model.pt')),
        layout.join(', '),
      );
    if (EXPECTED[v] === 'pt2')
      assert.ok(
        layout.some((n) => n.endsWith('/data/weights/model_weights_config.json')),
        layout.join(', '),
      );
    for (const name of ARCHIVES) {
      const p = py[v][name];
      const file = path.join(f.dir, `${name}.pt2`);
      if (EXPECTED[v] === 'refused') {
        assert.ok(p.error, `PyTorch 2.15 refuses torch ${v}'s ${name}: ${JSON.stringify(p)}`);
        const sv = o[`${name}_archive`].schema_version;
        const re = new RegExp(
          `legacy torch\\.export\\.save zip \\(torch <= 2\\.7\\) saved with torch\\.export schema version ${sv.major}\\.${sv.minor} \\(written by torch 2\\.5\\); torch-node reads schema 8\\.x.*PyTorch 2\\.15's torch\\.export\\.load refuses it too\\. Re-export the model with torch 2\\.6 or later`,
        );
        assert.throws(() => tex.load(file), err(re, 'ERR_TORCH_VERSION'), `${name}: ${p.error}`);
      } else {
        assert.ok(p.ok, `PyTorch 2.15 loads torch ${v}'s ${name}: ${JSON.stringify(p)}`);
        const ep = tex.load(file);
        assert.equal(ep.torchVersion?.split('+')[0], v);
        assert.deepEqual(ep.schemaVersion, o[`${name}_archive`].schema_version);
        ep.dispose();
      }
    }
  });

  if (EXPECTED[v] === 'refused') continue;

  test(`torch ${v}, eval export: forward equals torch ${v}'s and PyTorch 2.15's outputs (rtol 1e-5, atol 1e-5); forwardAsync equal`, async (t) => {
    const f = fixtureOf(t, v);
    if (!f) return;
    const ep = tex.load(path.join(f.dir, 'tree_eval.pt2'));
    assert.deepEqual([...ep.stateDict.keys()].sort(), f.outputs.tree_eval_state);
    const m = ep.module();
    torch.tidy(() => {
      const got = leaves(torch.noGrad(() => m.forward(...tin())));
      closeAll(got, f.outputs.tree_eval, `torch ${v} eval`);
      closeAll(got, py[v].tree_eval.y, `PyTorch 2.15 on torch ${v}'s archive, eval`);
    });
    const xs = torch.tidy(() => tin());
    const sync = torch.noGrad(() => m.forward(...xs));
    const got = await m.forwardAsync(...xs);
    const all = (r) => [r[0], r[1].feat, r[1].aux2[0], r[1].aux2[1]];
    all(got).forEach((g, i) =>
      assert.equal(
        torch.tidy(() => g.sub(all(sync)[i]).abs().max().item()),
        0,
        `forwardAsync leaf ${i}`,
      ),
    );
    torch.dispose([xs, all(sync), all(got)]);
    m.dispose();
    ep.dispose();
  });

  test(`torch ${v}, train export: output (dropout on), BatchNorm statistics, gradients and an SGD step equal PyTorch 2.15's on the archive, and torch ${v}'s where its dropout draws match (rtol 1e-4, atol 1e-5)`, (t) => {
    const f = fixtureOf(t, v);
    if (!f) return;
    const o = f.outputs;
    const p = py[v].tree_train;
    // The old torch as a reference too, unless its generator draws other dropout masks for the seed
    // (torch 2.6's bernoulli differs from 2.8 on; the BatchNorm statistics come before the dropout).
    torch.manualSeed(123);
    const sameDraws = torch.tidy(() => JSON.stringify(torch.empty([64]).bernoulli_(0.5).tolist()) === JSON.stringify(o.bernoulli_probe));
    if (!sameDraws)
      console.log(
        `# torch ${v} draws other dropout masks than libtorch ${torch.libtorchVersion} for the same seed: its train-mode outputs are not compared (PyTorch 2.15's on its archive are)`,
      );
    const refs = [['PyTorch 2.15', { y: p.y, grads: p.grads, step: p.step, after: p.after }]];
    if (sameDraws) refs.push([`torch ${v}`, { y: o.tree_train, grads: o.tree_grads, step: o.tree_step, after: o.tree_after }]);
    const ep = tex.load(path.join(f.dir, 'tree_train.pt2'));
    const m = ep.module();
    torch.manualSeed(123);
    torch.tidy(() => {
      const r = m.forward(...tin());
      const got = leaves(r);
      for (const [who, ref] of refs) closeAll(got, ref.y, `train output vs ${who}`, 1e-4);
      assert.ok(
        got[1].some((x) => x === 0),
        'dropout was active (some features zeroed)',
      );
      for (const [who, stats] of [
        ['PyTorch 2.15', p.stats],
        [`torch ${v}`, o.tree_stats],
      ]) {
        close(flat(m.bn.running_mean), stats[0], `running_mean vs ${who}`);
        close(flat(m.bn.running_var), stats[1], `running_var vs ${who}`);
        assert.equal(m.bn.num_batches_tracked.item(), stats[2]);
      }
      r[0].pow(2).mean().add(r[1].feat.sum()).backward();
    });
    const params = new Map(m.namedParameters());
    assert.deepEqual([...params.keys()], Object.keys(p.grads));
    torch.tidy(() => {
      for (const [who, ref] of refs) for (const [k, g] of Object.entries(ref.grads)) close(flat(params.get(k).grad), g, `grad ${k} vs ${who}`, 1e-4, 1e-5);
    });
    const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    opt.step();
    for (const [who, ref] of refs) for (const [k, x] of Object.entries(ref.step)) close(flat(params.get(k)), x, `after SGD ${k} vs ${who}`, 1e-4, 1e-5);
    torch.manualSeed(321);
    torch.tidy(() => {
      const got = leaves(torch.noGrad(() => m.forward(...tin())));
      for (const [who, ref] of refs) closeAll(got, ref.after, `train output after the step vs ${who}`, 1e-4);
    });
    torch.tidy(() => m.zeroGrad());
    opt.dispose();
    m.dispose();
    ep.dispose();
  });

  test(`torch ${v}, dynamic batch: 1, 4 and 7 equal torch ${v}'s outputs; the declared range is checked; constants and non-persistent buffers load`, (t) => {
    const f = fixtureOf(t, v);
    if (!f) return;
    const o = f.outputs;
    const ep = tex.load(path.join(f.dir, 'dyn.pt2'));
    assert.deepEqual(Object.fromEntries([...ep.rangeConstraints].map(([k, r]) => [k, [r.min, r.max]])), o.dyn_ranges);
    const m = ep.module();
    assert.deepEqual(
      [...m.namedBuffers()].map(([k]) => k),
      ['scale'],
    );
    for (const b of [1, 4, 7]) {
      torch.tidy(() => {
        const y = m.forward(lin([b, 4]));
        assert.deepEqual(y.shape, [b, 3]);
        close(flat(y), o.dyn[String(b)], `torch ${v}, batch ${b}`);
        close(flat(y), py[v].dyn.y[String(b)], `PyTorch 2.15, batch ${b}`);
      });
    }
    torch.tidy(() => assert.throws(() => m.forward(lin([65, 4])), err(/input 'x' dimension 0 is 65, outside the range \[1, 64\]/)));
    m.dispose();
    ep.dispose();
  });
}

test('hostile variants of the legacy zip and of the pickled-weights archive are TorchErrors saying what is wrong', (t) => {
  const missing = ['2.6.0', '2.8.0'].filter((v) => fixtures.get(v).skip);
  if (missing.length) {
    console.log(`# skipped: hostile variants need torch ${missing.join(', ')}'s archives`);
    return t.skip(`torch ${missing.join(', ')} could not be installed`);
  }
  const at = (n) => path.join(dir, n);
  // What PyTorch 2.15 refuses, torch-node refuses.
  assert.match(py.hostile_py['v73.pt2'], /Serialized version \['7', '3'\] does not match our current schema version \(8, \d+\)/);
  assert.match(py.hostile_py['v1.pt2'], /incorrect length/);
  assert.match(py.hostile_py['json7.pt2'], /schema version .*major=7.* does not match/);
  assert.throws(
    () => tex.load(at('v73.pt2')),
    err(/schema version 7\.3 \(written by torch 2\.5\); torch-node reads schema 8\.x.*Re-export the model with torch 2\.6 or later/, 'ERR_TORCH_VERSION'),
  );
  assert.throws(() => tex.load(at('v1.pt2')), err(/schema version 1 \(written by torch 2\.1\)/, 'ERR_TORCH_VERSION'));
  assert.throws(() => tex.load(at('v9.pt2')), err(/schema version 9\.0; torch-node reads schema 8\.x .*or update torch-node/, 'ERR_TORCH_VERSION'));
  assert.throws(() => tex.load(at('json7.pt2')), err(/schema version 7\.2 \(written by torch 2\.5\)/, 'ERR_TORCH_VERSION'));
  assert.throws(() => tex.load(at('vjunk.pt2')), err(/'version' record is "eight", not a schema version such as "8\.2"/));
  assert.throws(() => tex.load(at('noversion.pt2')), err(/the legacy torch\.export\.save zip \(torch <= 2\.7\) has no 'version' record/));
  assert.throws(() => tex.load(at('nostate.pt2')), err(/the archive has no 'serialized_state_dict\.pt' \(its weights\)/));
  assert.throws(() => tex.load(at('halfstate.pt2')), err(/^torch\.export\.load: .*'serialized_state_dict\.pt': /));
  assert.throws(() => tex.load(at('codestate.pt2')), err(/'serialized_state_dict\.pt': .*builtins\.print/));
  assert.throws(() => tex.load(at('strstate.pt2')), err(/weight 'conv\.weight' in 'serialized_state_dict\.pt' is "not a tensor", not a tensor/));
  assert.throws(() => tex.load(at('liststate.pt2')), err(/'serialized_state_dict\.pt' holds .*, not a dict of weights/));
  assert.throws(() => tex.load(at('misnamed.pt2')), err(/the graph takes parameter 'conv\.weight', which the archive's weights do not hold/));
  assert.throws(
    () => tex.load(at('nested.pt2')),
    err(
      /not a torch\.export\.save archive: it has no '<archive>\/models\/model\.json' \(torch >= 2\.8\) nor 'serialized_exported_program\.json' \(torch <= 2\.7\)/,
    ),
  );
  assert.throws(() => tex.load(at('pt2_halfweights.pt2')), err(/'[^']+\/data\/weights\/model\.pt': /));
  assert.throws(() => tex.load(at('pt2_codeweights.pt2')), err(/data\/weights\/model\.pt': .*builtins\.print/));
  // truncations of a legacy zip
  const bytes = fs.readFileSync(path.join(fixtures.get('2.6.0').dir, 'tree_eval.pt2'));
  for (const cut of [10, 100, bytes.length >> 1, bytes.length - 30])
    assert.throws(() => tex.load(bytes.subarray(0, cut)), err(/^torch\.export\.load: /), `truncated at ${cut}`);
});

test('bounded fuzz over the old layouts: 600 mutations each load (and run) or throw a TorchError; no crash, hang or leak', (t) => {
  const seeds = [
    ['2.6.0', 'tree_train.pt2'],
    ['2.6.0', 'dyn.pt2'],
    ['2.8.0', 'tree_eval.pt2'],
    ['2.9.1', 'dyn.pt2'],
  ].filter(([v]) => !fixtures.get(v).skip);
  if (seeds.length === 0) return t.skip('no old torch could be installed');
  const args = seeds.flatMap(([v, f]) => ['--file', path.join(fixtures.get(v).dir, f)]);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fuzz', 'export-fuzz.js'), '--iterations', '600', '--seed', '20260216', ...args], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(r.signal, null, `the fuzz process died of ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 0, `the fuzz run failed:\n${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(summary.iterations, 600);
  assert.ok(summary.loaded > 40 && summary.ran > 40, `too few mutations loaded or ran: ${JSON.stringify(summary)}`);
  assert.ok(summary.kinds.pickle > 20, `few mutations reached the pickled payloads: ${JSON.stringify(summary.kinds)}`);
});

test('no tensors leaked', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
