# The .pt2 archives an older torch 2.x writes with torch.export.save, and that torch's own outputs
# for them: run by scripts/old-export-fixtures.js in a venv holding torch==X (2.5 - 2.9), never in
# the reference venv. Written for every torch from 2.5 on (no API newer than 2.5 is used).
#
#   python old_export.py OUT_DIR
#
# OUT_DIR gets tree_eval.pt2, tree_train.pt2, dyn.pt2 and outputs.json. The models are the ones
# test/export.test.js exports with torch 2.15: a small custom model with BatchNorm, a residual,
# dropout, a dict input and a tuple output holding a dict (exported in eval and in train mode), and
# a Linear with a non-persistent buffer, a tensor constant and a dynamic batch dimension.
import json
import os
import sys
import warnings
import zipfile

warnings.filterwarnings('ignore')
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(1)
out_dir = sys.argv[1]
out = {'torch': torch.__version__}


def lin(shape):
    n = 1
    for s in shape:
        n *= s
    return torch.linspace(-1, 1, n).reshape(shape)


def flat(t):
    return t.detach().reshape(-1).tolist()


def archive_info(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        info = {'entries': names}
        for n in names:
            if n == 'version' or n.endswith('/.data/version'):
                info['version'] = z.read(n).decode()
            if n.endswith('serialized_exported_program.json') or n.endswith('models/model.json'):
                j = json.loads(z.read(n))
                info['schema_version'] = j.get('schema_version')
        return info


class Tree(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 1, bias=False)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4, 5)

    def forward(self, inputs, scale):
        y = torch.relu(self.bn(self.conv(inputs['img'])))
        y = y + self.conv2(y)  # residual
        f = self.drop(y.mean((2, 3)))
        return self.fc(f + inputs['aux']) * scale[0], {'feat': f, 'aux2': [inputs['aux'] * 2, scale[1]]}


def tin():
    return ({'img': lin([2, 3, 8, 8]), 'aux': lin([2, 4])}, (torch.tensor(1.5), torch.tensor([0.5, 2.0])))


def tree_flat(r):
    logits, dd = r
    return [flat(logits), flat(dd['feat']), flat(dd['aux2'][0]), flat(dd['aux2'][1])]


# The dropout masks depend on the CPU generator's bernoulli draws, which changed between torch 2.6
# and 2.8 for the same seed: the test compares train-mode outputs with this torch only when its
# draws equal libtorch's.
torch.manual_seed(123)
out['bernoulli_probe'] = torch.empty(64).bernoulli_(0.5).tolist()

torch.manual_seed(8)
tm = Tree()
tm.eval()
ep = torch.export.export(tm, tin())
p = os.path.join(out_dir, 'tree_eval.pt2')
torch.export.save(ep, p)
out['tree_eval_archive'] = archive_info(p)
with torch.no_grad():
    out['tree_eval'] = tree_flat(ep.module()(*tin()))
out['tree_eval_state'] = sorted(ep.state_dict.keys())

tm.train()
ep = torch.export.export(tm, tin())
p = os.path.join(out_dir, 'tree_train.pt2')
torch.export.save(ep, p)
out['tree_train_archive'] = archive_info(p)
out['tree_train_outputs'] = [s.kind.name for s in ep.graph_signature.output_specs]
mod = ep.module()
torch.manual_seed(123)
r = mod(*tin())
out['tree_train'] = tree_flat(r)
bn = dict(mod.named_buffers())
out['tree_stats'] = [flat(bn['bn.running_mean']), flat(bn['bn.running_var']), int(bn['bn.num_batches_tracked'])]
try:
    (r[0].pow(2).mean() + r[1]['feat'].sum()).backward()
    out['tree_grads'] = {k: flat(q.grad) for k, q in mod.named_parameters()}
    torch.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9).step()
    out['tree_step'] = {k: flat(q) for k, q in mod.named_parameters()}
    torch.manual_seed(321)
    with torch.no_grad():
        out['tree_after'] = tree_flat(mod(*tin()))
except RuntimeError as e:
    # torch 2.5's ep.module() writes the BatchNorm statistics back in place before backward
    # ("modified by an inplace operation"): no gradient reference from that version.
    out['tree_backward_error'] = str(e).split('\n')[0]


class Dyn(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer('scale', torch.tensor([1.0, 2.0, 3.0]), persistent=False)
        self.k = torch.tensor([0.5, -0.5, 0.25])  # a tensor constant

    def forward(self, x):
        y = self.fc(x) * self.scale + self.k
        return y.reshape(x.shape[0], 3).relu() + x.shape[0]


torch.manual_seed(2)
batch = torch.export.Dim('batch', min=1, max=64)
ep = torch.export.export(Dyn(), (lin([4, 4]),), dynamic_shapes={'x': {0: batch}})
p = os.path.join(out_dir, 'dyn.pt2')
torch.export.save(ep, p)
out['dyn_archive'] = archive_info(p)
out['dyn_ranges'] = {str(k): [int(v.lower), int(v.upper)] for k, v in ep.range_constraints.items()}
out['dyn'] = {}
with torch.no_grad():
    for b in (1, 4, 7):
        out['dyn'][str(b)] = flat(ep.module()(lin([b, 4])))

with open(os.path.join(out_dir, 'outputs.json'), 'w') as f:
    json.dump(out, f)
print(json.dumps({'ok': True, 'torch': torch.__version__}))
