"""PyTorch reference for `skilltune bench train`: the same Llama-style decoder, data shape, strategy and step.

Usage: python3 benchmarks/reference/torch_step.py [--hidden 256 --layers 4 --heads 4 --kv-heads 4
       --intermediate 688 --vocab 512 --seq 128 --batch 8 --threads 2 --strategy full|sa-proj|mlp-gate-up|lora
       --warmup 5 --steps 30] [--json]

The model is written out here (no `transformers` needed) exactly as HF's LlamaForCausalLM computes it in fp32:
RMSNorm (eps 1e-6), rotate_half RoPE (theta 10000), F.scaled_dot_product_attention (causal), SwiGLU MLP, no
biases, untied lm_head, N(0, 0.02) initialisation. One step = forward, next-token cross-entropy over every
position, backward, clip_grad_norm_(1.0) over the trainable parameters, AdamW (weight decay 0), zero_grad,
as SkillTune's StageTrainer does. Strategies: full (every parameter), sa-proj (q/k/v/o projections of every
layer), mlp-gate-up (gate and up projections), lora (PEFT-style rank 8, alpha 8, dropout 0.05 adapters on
gate/up/down, base frozen: SkillTune's `lora` defaults).

Prints milliseconds per step (median of `--steps` after `--warmup`), tokens/s and peak resident memory;
with --json one line {"ms_per_step":..,"tokens_per_s":..,"threads":..,"strategy":..,"peak_rss_mb":..,
"trainable_params":..,"best_ms_per_step":..,"cpu_ms_per_step":..} (CPU time of all threads, median per step). Python is only for this comparison; SkillTune never needs it.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class LoRALinear(nn.Module):
    """PEFT's lora.Linear: base(x) + scaling * B(A(dropout(x))), base frozen."""

    def __init__(self, base, rank=8, alpha=8.0, dropout=0.05):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.uniform_(self.lora_A.weight, -1 / base.in_features ** 0.5, 1 / base.in_features ** 0.5)
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(dropout)
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, d, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, d // heads
        self.q_proj = nn.Linear(d, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.kv_heads != self.heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.gate_proj = nn.Linear(d, hidden, bias=False)
        self.up_proj = nn.Linear(d, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, d, heads, kv_heads, hidden):
        super().__init__()
        self.input_layernorm = RMSNorm(d)
        self.self_attn = Attention(d, heads, kv_heads)
        self.post_attention_layernorm = RMSNorm(d)
        self.mlp = MLP(d, hidden)

    def forward(self, x, cos, sin):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class Decoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(Layer(a.hidden, a.heads, a.kv_heads, a.intermediate) for _ in range(a.layers))
        self.norm = RMSNorm(a.hidden)
        self.lm_head = nn.Linear(a.hidden, a.vocab, bias=False)
        head_dim = a.hidden // a.heads
        inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        freqs = torch.outer(torch.arange(a.seq).float(), inv_freq)
        emb = torch.cat((freqs, freqs), -1)
        self.register_buffer("cos", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin", emb.sin()[None, None], persistent=False)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.lm_head(self.norm(x))


def select_trainable(model, strategy):
    if strategy == "full":
        return
    if strategy == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for layer in model.layers:
            for name in ("gate_proj", "up_proj", "down_proj"):
                setattr(layer.mlp, name, LoRALinear(getattr(layer.mlp, name)))
        return
    modules = {"sa-proj": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"),
               "sa-qkv": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
               "mlp": ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"),
               "mlp-gate-up": ("mlp.gate_proj", "mlp.up_proj"),
               "mlp-down": ("mlp.down_proj",)}.get(strategy)
    if modules is None:
        raise SystemExit(f"unknown strategy {strategy!r}: full, sa-proj, sa-qkv, mlp, mlp-gate-up, mlp-down, lora")
    for name, p in model.named_parameters():
        rest = name.split(".", 2)[2] if name.startswith("layers.") else ""
        p.requires_grad_(any(rest.startswith(m + ".") for m in modules))


def main():
    parser = argparse.ArgumentParser()
    for name, default in [("hidden", 256), ("layers", 4), ("heads", 4), ("kv-heads", 4), ("intermediate", 688),
                          ("vocab", 512), ("seq", 128), ("batch", 8), ("threads", 2), ("warmup", 5), ("steps", 30)]:
        parser.add_argument("--" + name, type=int, default=default)
    parser.add_argument("--strategy", default="full")
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Decoder(a)
    select_trainable(model, a.strategy)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    targets = torch.randint(0, a.vocab, (a.batch * a.seq,))

    times, cpu_times = [], []
    for step in range(a.warmup + a.steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(model(ids).view(-1, a.vocab), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    ms = statistics.median(times) * 1e3
    result = {"ms_per_step": round(ms, 3), "tokens_per_s": round(a.batch * a.seq / (ms / 1e3), 1),
              "threads": a.threads, "strategy": a.strategy,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "trainable_params": sum(p.numel() for p in trainable),
              "best_ms_per_step": round(min(times) * 1e3, 3),
              "cpu_ms_per_step": round(statistics.median(cpu_times) * 1e3, 3)}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"torch {a.strategy}: {ms:.1f} ms/step, {result['tokens_per_s']:.0f} tokens/s, {a.threads} threads, "
              f"peak RSS {result['peak_rss_mb']:.0f} MB, {result['trainable_params']} trainable parameters")


if __name__ == "__main__":
    main()
