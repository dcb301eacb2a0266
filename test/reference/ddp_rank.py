# One rank of the DDP golden run (test/distributed.test.js): a small BatchNorm model trained with
# torch.nn.parallel.DistributedDataParallel on Gloo. argv: rank world port steps. The same model,
# init (manual_seed(0)) and data formula as test/helpers/dist-worker.js's ddpBn scenario, so a Node
# rank can stand in for a Python rank. Prints {"losses": [...], "weights": {name: [...]}} as JSON.
import json, sys
import torch, torch.nn as nn, torch.distributed as dist

rank, world, port, steps = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(1)
dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))
ddp = nn.parallel.DistributedDataParallel(model)
opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
losses = []
for step in range(steps):
    x = torch.arange(16 * 8, dtype=torch.float32).reshape(16, 8).mul(0.013 * (step + 1)).add(0.7 * rank).sin()
    y = x.sum(1, keepdim=True).cos()
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(ddp(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(json.dumps({'losses': losses, 'weights': {k: v.double().reshape(-1).tolist() for k, v in ddp.state_dict().items()}}))
dist.destroy_process_group()
