"""Prints the torch.optim.AdamW reference numbers used by OptimizerTests.testAdamWMatchesTorchFixture.

Run: python3 Tests/KernelTests/Fixtures/adamw_torch_reference.py   (torch 2.13 CPU was used)
Two parameters in two groups (lr scale 1 and 0.4), weight decay 0.1 (none for the bias), 3 steps with
the learning rates and gradients below; prints the parameters and moments after each step as float32 hex
bit patterns so the Swift test can compare exactly.
"""
import struct
import torch

torch.set_default_dtype(torch.float32)
w = torch.tensor([0.5, -1.25, 2.0, 0.0, 3.0e-3, -0.75], requires_grad=True)
b = torch.tensor([0.1, -0.2], requires_grad=True)
grads_w = [[0.3, -0.2, 1.5, 0.0, -4.0e-4, 0.9], [-0.1, 0.25, 1.0, 0.5, 2.0e-4, -0.6], [0.05, -0.3, -2.0, 0.5, 1.0e-3, 0.4]]
grads_b = [[1.0, -0.5], [0.75, 0.0], [-0.25, 2.0]]
lrs = [1e-2, 3e-2, 5e-3]
opt = torch.optim.AdamW([
    {"params": [w], "lr": 1.0, "weight_decay": 0.1},
    {"params": [b], "lr": 0.4, "weight_decay": 0.0},
], betas=(0.9, 0.999), eps=1e-8)
base = [1.0, 0.4]


def bits(t):
    return "[" + ", ".join("0x%08x" % struct.unpack("<I", struct.pack("<f", x))[0] for x in t.detach().tolist()) + "]"


for step, lr in enumerate(lrs):
    for group, scale in zip(opt.param_groups, base):
        group["lr"] = lr * scale
    w.grad = torch.tensor(grads_w[step])
    b.grad = torch.tensor(grads_b[step])
    opt.step()
    print(f"// step {step + 1}")
    print(f"w: {bits(w)}")
    print(f"b: {bits(b)}")
    print(f"w.exp_avg: {bits(opt.state[w]['exp_avg'])}")
    print(f"w.exp_avg_sq: {bits(opt.state[w]['exp_avg_sq'])}")
