"""PyTorch timings of the ops `skilltune bench nn-ops` times, at the same shapes, for comparison.

Usage: python3 examples/reference/nn_ops_bench_torch.py [threads]   (default 2)
HF-style RMSNorm and rotate_half RoPE as written in transformers' Llama/Qwen2; attention is
F.scaled_dot_product_attention on [B, H, T, Dh] views of [B, T, H, Dh] tensors.
"""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
B, T, H, DH, V = 8, 128, 4, 64, 512
D = H * DH
REPS = 30


def timed(name, body):
    body()
    times = []
    for _ in range(REPS):
        start = time.perf_counter()
        body()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(f"{name:40s} {times[len(times) // 2]:8.3f} / {times[0]:8.3f}")


def fwd_bwd(inputs, f):
    for x in inputs:
        x.grad = None
    y = f()
    y.backward(torch.ones_like(y))


x = torch.randn(B, T, D, requires_grad=True)
w = torch.randn(D, requires_grad=True)
b = torch.randn(D, requires_grad=True)
q, k, v = (torch.randn(B, T, H, DH, requires_grad=True) for _ in range(3))
logits = (torch.randn(B * T, V) * 3).requires_grad_()
teacher = torch.randn(B * T, V) * 3
targets = torch.arange(B * T) % V
inv_freq = 1.0 / (10000 ** (torch.arange(0, DH, 2, dtype=torch.int64).float() / DH))
freqs = torch.outer(torch.arange(T).float(), inv_freq)
emb = torch.cat((freqs, freqs), -1)
cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]


def rms_norm():
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


def rotate_half(t):
    return torch.cat((-t[..., DH // 2:], t[..., :DH // 2]), -1)


def sdpa():
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
    return out.transpose(1, 2)


def kl():
    return F.kl_div(F.log_softmax(logits / 2, -1), F.log_softmax(teacher / 2, -1),
                    reduction="batchmean", log_target=True)


print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, milliseconds (median / best of {REPS})")
timed("rmsNorm fwd+bwd [1024, 256]", lambda: fwd_bwd([x, w], rms_norm))
timed("layerNorm fwd+bwd [1024, 256]", lambda: fwd_bwd([x, w, b], lambda: F.layer_norm(x, (D,), w, b, 1e-5)))
timed("applyRotary fwd+bwd [8, 128, 4, 64]", lambda: fwd_bwd([q], lambda: q * cos + rotate_half(q) * sin))
with torch.no_grad():
    timed("attention causal fwd (no grad)", sdpa)
timed("attention causal fwd+bwd", lambda: fwd_bwd([q, k, v], sdpa))
timed("softmax fwd+bwd [1024, 512]", lambda: fwd_bwd([logits], lambda: torch.softmax(logits, -1)))
timed("crossEntropy fwd+bwd [1024, 512]", lambda: fwd_bwd([logits], lambda: F.cross_entropy(logits, targets)))
timed("klDivergence T=2 fwd+bwd [1024, 512]", lambda: fwd_bwd([logits], kl))
