"""PyTorch (CPU) peer of the bench: the same workloads as the TF.js peers, driven by
bench/torch-peer.ts over stdin/stdout, one JSON object a line.

First line: {"workload": NAME, ...sizes}; answers {"ready": true} once the model is built.
Then {"run": N}: runs N iterations and answers {"done": N} when they have finished.
Torch runs with 2 threads (the bench machine's cores), as the issue's comparison does.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
TEMPERATURE = 4.0
HARD_WEIGHT = 0.5
CLASSES = 10


def student():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 13 * 13, 64), nn.ReLU(), nn.Linear(64, CLASSES))


def teacher():
    return nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128 * 5 * 5, 256), nn.ReLU(), nn.Linear(256, CLASSES))


def distillation_loss(s, t, y):
    """Same conventions as kdgpu's temperatureKl: KL summed over classes, mean over rows, x T^2."""
    hard = F.cross_entropy(s, y)
    log_s = F.log_softmax(s / TEMPERATURE, dim=1)
    log_t = F.log_softmax(t / TEMPERATURE, dim=1)
    kl = (log_t.exp() * (log_t - log_s)).sum(1).mean()
    return HARD_WEIGHT * hard + (1 - HARD_WEIGHT) * TEMPERATURE * TEMPERATURE * kl


def batch(size):
    # A fresh tensor per step from host memory, as the other contenders upload theirs.
    images = torch.randn(size, 1, 28, 28).numpy()
    labels = torch.randint(0, CLASSES, (size,)).numpy()
    return lambda: (torch.from_numpy(images.copy()), torch.from_numpy(labels.copy()))


def make_step(spec):
    name = spec["workload"]
    if name == "train_step":
        model, fresh = student(), batch(spec["batch"])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            x, y = fresh()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    if name == "kd_step":
        frozen, model, fresh = teacher().eval(), student(), batch(spec["batch"])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            x, y = fresh()
            with torch.no_grad():
                t = frozen(x)
            opt.zero_grad(set_to_none=True)
            distillation_loss(model(x), t, y).backward()
            opt.step()
        return step
    if name == "inference":
        frozen, fresh = teacher().eval(), batch(spec["batch"])

        def step():
            with torch.inference_mode():
                frozen(fresh()[0])
        return step
    if name == "gemm":
        a, b = torch.randn(spec["m"], spec["k"]), torch.randn(spec["k"], spec["n"])
        return lambda: torch.mm(a, b)
    if name == "kl":
        rows, classes = spec["rows"], spec["classes"]
        s0, t = 3 * torch.randn(rows, classes), 3 * torch.randn(rows, classes)
        y = torch.randint(0, classes, (rows,))

        def step():
            s = s0.clone().requires_grad_(True)
            torch.autograd.grad(distillation_loss(s, t, y), s)
        return step
    raise ValueError(f"unknown workload {name!r}: expected train_step, kd_step, inference, gemm or kl")


def main():
    step = make_step(json.loads(sys.stdin.readline()))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        n = json.loads(line)["run"]
        for _ in range(n):
            step()
        print(json.dumps({"done": n}), flush=True)


if __name__ == "__main__":
    main()
