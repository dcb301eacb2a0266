'use strict';
// A training process for test/crash-resume.test.js: resumes from <dir>/last.pt if it is there, trains
// to EPOCHS with fit() and ModelCheckpoint('last.pt'), then writes <dir>/final.pt. KILL_AT=epoch:batch
// (0-based) makes it SIGKILL itself in the middle of that epoch, as a crash would. The model carries a
// 64 MB buffer so that each checkpoint takes long enough to be killed in the middle of (the parent does that).
const fs = require('fs');
const path = require('path');
const torch = require('../../dist');

const { nn, optim, utils } = torch;
const dir = process.argv[2];
const EPOCHS = 6;
torch.setNumThreads(1);

torch.manualSeed(0);
const x = torch.randn(64, 8);
const y = torch.randint(0, 3, [64]);
const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(16, 3));
model.registerBuffer('ballast', torch.zeros(16 * 1024 * 1024));
const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
torch.manualSeed(42); // the training RNG: dropout masks and the shuffle

const last = path.join(dir, 'last.pt');
let initialEpoch = 0;
let history;
if (fs.existsSync(last)) {
  const info = utils.loadCheckpoint(last, { model, optimizer, scheduler });
  initialEpoch = info.epoch;
  history = info.extra.get('history');
  process.stdout.write(`resumed at epoch ${initialEpoch}\n`);
}

const [killEpoch, killBatch] = (process.env.KILL_AT || '-1:-1').split(':').map(Number);
let epochNow = -1;
const killer = {
  onEpochBegin(epoch) {
    epochNow = epoch;
  },
  onBatchEnd(batch) {
    if (epochNow === killEpoch && batch === killBatch) process.kill(process.pid, 'SIGKILL');
  },
};

utils.fit(model, {
  trainLoader: new utils.DataLoader(new utils.TensorDataset(x, y), { batchSize: 8, shuffle: true }),
  epochs: EPOCHS,
  initialEpoch,
  history,
  optimizer,
  scheduler,
  lossFn: new nn.CrossEntropyLoss(),
  callbacks: [killer, new utils.ModelCheckpoint(last)],
  verbose: 'epoch',
});
torch.tidy(() => {
  const sd = model.stateDict();
  sd.delete('ballast');
  torch.save(sd, path.join(dir, 'final.pt'));
});
