#!/usr/bin/python3
"""PyTorch peer of src/bench/trainStepBench.ts and featureBench.ts: the same CARP step,
written from docs/method.md §2–§5, §7, timed on this machine.

Run by the TypeScript bench as a long-lived child (Debian python3-torch 1.13 and
python3-torchvision 0.14 under /usr/bin/python3). Protocol: one JSON object per line on
stdin, one JSON reply per line on stdout.

  {"cmd": "setup", "width", "cifarStem", "inChannels", "hiddenDim", "bottleneckDim", "numPrototypes",
   "partitionSize", "batch", "accumulation", "globalSize", "localSize", "numLocal",
   "featureBatch", "featureSize", "seed", "learningRate", "weightDecay", "teacherMomentum"}
      → {"ok": true, "torch": version, "torchvision": version, "params": count,
         "settings": the thread, allocator and oneDNN settings this process runs with}
  {"cmd": "train", "threads": n, "steps": k, "layout"?: "nchw" | "channels_last"}
      → {"seconds": [k optimiser-step times], "phases": {phase: seconds summed over the k},
         "maxRssMiB": the process's peak resident memory so far}
  {"cmd": "features", "threads": n, "batches": k, "layout"?: …}
      → {"seconds": [k batch times], "maxRssMiB": …}
"layout" (default: the current one, initially "nchw") converts both networks, the views
and the feature input to that memory format first: PyTorch's CPU convolutions run on
oneDNN in either, and which is faster depends on the width (the bench tries both).
  {"cmd": "quit"}

The step (§7), per micro-step of an optimiser step with A micro-steps:
  teacher forward on the 2 global views (train-mode BN, no grad) → student forward on all
  views → random partition (one per micro-step) → L = L_cons + L_reg, divided by A →
  on the last micro-step: EMA of the teacher with the current student (before backward),
  backward, LARS step (§5.2), zero grad; otherwise backward only.
Network: torchvision resnet18 (zero-init-residual, fc Identity) with the CIFAR stem (conv1
3×3 stride 1, maxpool Identity) or the ImageNet stem, as the config says — at widths other
than 64 the same torchvision blocks at the narrower width — and the CARP head (Linear-BN-GELU ×2, Linear → bottleneck, weight-normed
prototypes with g frozen at 1, no L2 normalisation). The views are random tensors of the
crop sizes made once (augmentation is benchmarked separately; the TypeScript side also
times its step on pre-made views).
"""
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet

EPS = torch.finfo(torch.float32).eps


def resnet18(width: int, in_channels: int, cifar_stem: bool) -> nn.Module:
    """torchvision resnet18 (zero-init-residual), fc = Identity (§2.1); the CIFAR stem is
    conv1 3×3 stride 1 and maxpool Identity, the ImageNet stem torchvision's 7×7/2 + max-pool."""
    if width == 64:
        m = torchvision.models.resnet18(zero_init_residual=True)
    else:
        # torchvision's ResNet hard-codes width 64; build the same modules at `width`.
        m = ResNet.__new__(ResNet)
        nn.Module.__init__(m)
        m._norm_layer = nn.BatchNorm2d
        m.inplanes, m.dilation, m.groups, m.base_width = width, 1, 1, 64
        m.bn1 = nn.BatchNorm2d(width)
        m.relu = nn.ReLU(inplace=True)
        m.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        m.layer1 = m._make_layer(BasicBlock, width, 2)
        m.layer2 = m._make_layer(BasicBlock, 2 * width, 2, stride=2)
        m.layer3 = m._make_layer(BasicBlock, 4 * width, 2, stride=2)
        m.layer4 = m._make_layer(BasicBlock, 8 * width, 2, stride=2)
        m.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        for mod in m.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(mod, nn.BatchNorm2d):
                nn.init.constant_(mod.weight, 1)
                nn.init.constant_(mod.bias, 0)
        for mod in m.modules():
            if isinstance(mod, BasicBlock):
                nn.init.constant_(mod.bn2.weight, 0)
    if cifar_stem:
        m.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
    else:
        m.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
    nn.init.kaiming_normal_(m.conv1.weight, mode="fan_out", nonlinearity="relu")
    m.fc = nn.Identity()
    return m


class CarpHead(nn.Module):
    """§2.2: Linear-BN-GELU ×2 + Linear → z (not normalised) → weight-normed prototypes."""

    def __init__(self, in_dim: int, hidden: int, bottleneck: int, k: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Linear(hidden, bottleneck),
        )
        for mod in self.mlp:
            if isinstance(mod, nn.Linear):
                nn.init.trunc_normal_(mod.weight, std=0.02, a=-2.0, b=2.0)
                nn.init.constant_(mod.bias, 0)
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, k, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_layer(self.mlp(x))


class MultiCropWrapper(nn.Module):
    """§2.3 (DINO's wrapper): backbone once per resolution group, head once on all rows."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, views: list) -> torch.Tensor:
        counts = torch.unique_consecutive(
            torch.tensor([v.shape[-1] for v in views]), return_counts=True
        )[1]
        start, feats = 0, []
        for end in torch.cumsum(counts, 0).tolist():
            feats.append(self.backbone(torch.cat(views[start:end])))
            start = end
        return self.head(torch.cat(feats))


def partition_probs(logits: torch.Tensor, perm: torch.Tensor, p: int) -> torch.Tensor:
    """§3: [B, K] logits → [N_p, B, P], softmax within each block of the partition."""
    n_p = perm.numel() // p
    return logits[:, perm].view(logits.shape[0], n_p, p).softmax(-1).transpose(0, 1)


def carp_loss(student: list, teacher: list, p: int) -> torch.Tensor:
    """§4: L_cons over pairs v != u + KL(batch-mean ‖ uniform) per block, averaged."""
    cons, pairs = 0.0, 0
    for u, q in enumerate(teacher):
        for v, s in enumerate(student):
            if v == u:
                continue
            dot = (s * q).sum(-1).clamp(EPS, 1 - EPS)
            cons = cons + (-torch.log(dot)).mean()
            pairs += 1
    rows = torch.cat(list(student) + [q.detach() for q in teacher], dim=1)  # [N_p, R, P]
    m = rows.mean(1)
    reg = (math.log(p) + (m * torch.log(m.clamp(EPS, 1 - EPS))).sum(-1)).mean()
    return cons / pairs + reg


class LARS(torch.optim.Optimizer):
    """§5.2: decay + trust ratio for >1-D parameters only; heavy-ball momentum."""

    def __init__(self, params, lr=0.0, weight_decay=0.0, momentum=0.9, eta=0.001) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, eta=eta))

    @torch.no_grad()
    def step(self) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                dp = p.grad
                if dp is None:
                    continue
                if p.ndim != 1:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    param_norm, update_norm = torch.norm(p), torch.norm(dp)
                    one = torch.ones_like(param_norm)
                    q = torch.where(
                        param_norm > 0.0,
                        torch.where(update_norm > 0, g["eta"] * param_norm / update_norm, one),
                        one,
                    )
                    dp = dp.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


class Peer:
    def __init__(self, c: dict) -> None:
        torch.manual_seed(int(c["seed"]))
        self.c = c
        self.student = self.network()
        # An exact copy, parameters and buffers (§2.4); weight_norm defeats deepcopy.
        self.teacher = self.network()
        self.teacher.load_state_dict(self.student.state_dict())
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.student.train()
        self.teacher.train()  # never eval mode during pre-training (§2.4)
        params = [p for p in self.student.parameters() if p.requires_grad]
        regularised = [p for n, p in self.student.named_parameters() if p.requires_grad and not n.endswith(".bias") and p.ndim > 1]
        unregularised = [p for n, p in self.student.named_parameters() if p.requires_grad and (n.endswith(".bias") or p.ndim == 1)]
        assert len(regularised) + len(unregularised) == len(params)
        self.opt = LARS([{"params": regularised}, {"params": unregularised, "weight_decay": 0.0}])
        b, ch = int(c["batch"]), int(c["inChannels"])
        sizes = [c["globalSize"]] * 2 + [c["localSize"]] * int(c["numLocal"])
        self.views = [torch.randn(b, ch, s, s) for s in sizes]
        fs = int(c["featureSize"])
        self.feature_input = torch.randn(int(c["featureBatch"]), ch, fs, fs)
        self.gen = torch.Generator().manual_seed(int(c["seed"]) + 1)
        self.count = sum(p.numel() for p in params)
        self.last_loss = None
        self.layout = "nchw"

    def set_layout(self, layout: str) -> None:
        """Both networks, the views and the feature input in `layout`'s memory format."""
        formats = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
        if layout not in formats:
            raise RuntimeError(f"unknown layout {layout!r} (nchw or channels_last)")
        if layout == self.layout:
            return
        f = formats[layout]
        # Module.to keeps Parameter identity (the optimiser's momentum state stays attached).
        self.student.to(memory_format=f)
        self.teacher.to(memory_format=f)
        self.views = [v.contiguous(memory_format=f) for v in self.views]
        self.feature_input = self.feature_input.contiguous(memory_format=f)
        self.layout = layout

    def network(self) -> MultiCropWrapper:
        c = self.c
        backbone = resnet18(int(c["width"]), int(c["inChannels"]), bool(c["cifarStem"]))
        head = CarpHead(
            8 * int(c["width"]), int(c["hiddenDim"]), int(c["bottleneckDim"]), int(c["numPrototypes"])
        )
        return MultiCropWrapper(backbone, head)

    def micro_step(self, last: bool, phases: dict) -> None:
        c = self.c
        k, p_size, a = int(c["numPrototypes"]), int(c["partitionSize"]), int(c["accumulation"])
        t0 = time.perf_counter()
        with torch.no_grad():
            t_logits = self.teacher(self.views[:2])
        t1 = time.perf_counter()
        s_logits = self.student(self.views)
        t2 = time.perf_counter()
        n_p = k // p_size
        perm = torch.randperm(k, generator=self.gen)[: n_p * p_size]
        s_probs = [partition_probs(x, perm, p_size) for x in s_logits.chunk(len(self.views))]
        t_probs = [partition_probs(x, perm, p_size) for x in t_logits.chunk(2)]
        loss = carp_loss(s_probs, t_probs, p_size) / a
        if not math.isfinite(loss.item()):  # abort (§5.4)
            raise RuntimeError("non-finite loss")
        self.last_loss = loss.item() * a
        t3 = time.perf_counter()
        if last:  # EMA with the student before backward and step (§7.6)
            m = float(c["teacherMomentum"])
            with torch.no_grad():
                for ps, pt in zip(self.student.parameters(), self.teacher.parameters()):
                    pt.data.mul_(m).add_((1 - m) * ps.detach().data)
        t4 = time.perf_counter()
        loss.backward()
        t5 = time.perf_counter()
        if last:
            for g in self.opt.param_groups:
                g["lr"] = float(c["learningRate"])
            self.opt.param_groups[0]["weight_decay"] = float(c["weightDecay"])
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
        t6 = time.perf_counter()
        for name, dt in (
            ("teacherForward", t1 - t0),
            ("studentForward", t2 - t1),
            ("loss", t3 - t2),
            ("ema", t4 - t3),
            ("backward", t5 - t4),
            ("lars", t6 - t5),
        ):
            phases[name] = phases.get(name, 0.0) + dt

    def train(self, steps: int) -> dict:
        a = int(self.c["accumulation"])
        seconds, phases = [], {}
        for _ in range(steps):
            t0 = time.perf_counter()
            for i in range(a):
                self.micro_step(i == a - 1, phases)
            seconds.append(time.perf_counter() - t0)
        return {"seconds": seconds, "phases": phases, "loss": self.last_loss}

    def features(self, batches: int) -> dict:
        net = self.teacher.backbone
        net.eval()
        seconds = []
        with torch.no_grad():
            for _ in range(batches):
                t0 = time.perf_counter()
                net(self.feature_input)
                seconds.append(time.perf_counter() - t0)
        net.train()
        return {"seconds": seconds}


def blas_threads_setter():
    """OpenBLAS's own thread setter, or None. Debian's torch runs its matrix products
    (nn.Linear, mm) on libblas.so.3 = OpenBLAS (pthreads), whose pool ignores
    torch.set_num_threads and OMP_NUM_THREADS and takes every core: a "1-thread" row would
    run the head's products on 2 threads. Each row sets it to the row's thread count."""
    import ctypes

    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            fn = ctypes.CDLL(name).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        return fn
    return None


SET_BLAS_THREADS = blas_threads_setter()


def blas_threads() -> object:
    import ctypes

    try:
        return ctypes.CDLL("libblas.so.3").openblas_get_num_threads()
    except (OSError, AttributeError):
        return "n/a (not OpenBLAS)"


def settings() -> dict:
    """What this process runs with: threads, allocator, oneDNN (stated beside each row)."""
    preload = os.environ.get("LD_PRELOAD", "")
    info = torch.__config__.parallel_info().splitlines() + torch.__config__.show().splitlines()
    pick = lambda word: next((x.strip(" -") for x in info if word in x), None)
    return {
        "ompNumThreads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "blas": "OpenBLAS, threads set per row" if SET_BLAS_THREADS else "not OpenBLAS",
        "interopThreads": torch.get_num_interop_threads(),
        "allocator": f"LD_PRELOAD={preload}" if preload else "glibc malloc (no LD_PRELOAD)",
        "mkldnn": torch.backends.mkldnn.is_available(),
        "oneDNN": pick("MKL-DNN v"),
        "parallel": pick("ATen parallel backend"),
        "cpuCapability": pick("CPU capability usage"),
    }


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    peer = None
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "setup":
                peer = Peer(cmd)
                out = {"ok": True, "torch": torch.__version__, "torchvision": torchvision.__version__, "params": peer.count, "settings": settings()}
            elif cmd["cmd"] == "quit":
                return
            else:
                if peer is None:
                    raise RuntimeError("setup first")
                torch.set_num_threads(int(cmd["threads"]))
                if SET_BLAS_THREADS is not None:
                    SET_BLAS_THREADS(int(cmd["threads"]))
                if "layout" in cmd:
                    peer.set_layout(str(cmd["layout"]))
                if cmd["cmd"] == "train":
                    out = peer.train(int(cmd["steps"]))
                elif cmd["cmd"] == "features":
                    out = peer.features(int(cmd["batches"]))
                else:
                    raise RuntimeError(f"unknown cmd {cmd['cmd']!r}")
                out["threads"] = torch.get_num_threads()
                out["blasThreads"] = blas_threads()
                out["layout"] = peer.layout
                out["maxRssMiB"] = max_rss_mib()
        except Exception as e:  # reported to the caller, which fails the scenario
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
