#!/usr/bin/python3
"""Fixtures for carp-kit's PyTorch interop tests (src/interop/, §8).

Run with Debian's python3-torch / python3-torchvision (/usr/bin/python3), once:

    /usr/bin/python3 data-scripts/make-parity-fixture.py --out test/fixtures/interop

Writes (with the defaults; tiny-r50 comes from the second command below)
  tiny-carp.pth          a CARP training dictionary {student, teacher, optimizer, epoch,
                         args, fp16_scaler} (keys `module.backbone.*`, `module.head.*`, as
                         the reference writes them) for a torchvision ResNet-18 at base width
                         4 with the CIFAR stem and a tiny CARP head;
  tiny-carp.expected.json  the network spec, an input (NCHW) and the teacher's outputs in
                         eval mode: pooled features and prototype logits;
  dtypes.pth + dtypes.expected.json   one tensor per storage type, strided/offset views,
                         shared storages, containers and an argparse.Namespace;
  dtypes-legacy.pth      the same object in the pre-1.6 (non-zip) format.

The second committed network, a bottleneck ResNet-50 at base width 2 with the ImageNet
stem (7×7 conv + max-pool), teacher only:

    /usr/bin/python3 data-scripts/make-parity-fixture.py --out test/fixtures/interop \
        --name tiny-r50 --arch resnet50 --width 2 --no-cifar-stem --size 32 \
        --teacher-only --no-dtypes

`--arch resnet50 --width 64 --no-cifar-stem --size 64` makes the full-size variant that
the parity test generates on the fly (into a temp folder) when torch is present.

The backbone is torchvision's own ResNet (its BasicBlock/Bottleneck, _make_layer and
forward); only the stem and the base width are set here, because torchvision hard-codes
64 and a full ResNet-18 (45 MB) is too big to commit.
"""
import argparse
import json
import os
import re

import torch
import torch.nn as nn
import torchvision.models.resnet as tvr


class ResNetW(tvr.ResNet):
    """torchvision ResNet with a configurable base width and optional CIFAR stem."""

    def __init__(self, block, layers, width=64, cifar_stem=False, in_ch=3):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        if cifar_stem:
            self.conv1 = nn.Conv2d(in_ch, width, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Identity()  # §2.1: the classifier is replaced by the identity


class CarpHead(nn.Module):
    """§2.2: Linear-BN-GELU ×2, Linear → bottleneck, weight-normed prototypes (g = 1)."""

    def __init__(self, in_dim, hidden, bottleneck, k):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
            nn.Linear(hidden, bottleneck),
        )
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, k, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):
        return self.last_layer(self.mlp(x))


class Wrapper(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head


ARCHS = {
    "resnet18": (tvr.BasicBlock, [2, 2, 2, 2], 1),
    "resnet34": (tvr.BasicBlock, [3, 4, 6, 3], 1),
    "resnet50": (tvr.Bottleneck, [3, 4, 6, 3], 4),
}


def randomise(model, gen, last_bn, gain_one=True):
    """Non-trivial values everywhere, so parity exercises every parameter and BN stat."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) * 1.5 + 0.25)
            elif name.endswith("running_mean") or name.endswith(".bias"):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.2)
            elif name.endswith("weight_g"):
                t.copy_(torch.ones(t.shape) if gain_one else torch.rand(t.shape, generator=gen) + 0.5)
            elif t.dim() == 1 and re.search(rf"layer\d\.\d+\.{last_bn}\.weight$", name):
                # Residual-branch output γ small, as zero-init-residual training leaves it
                # (§2.1): keeps the residual stream O(1) through 16 blocks.
                t.copy_(torch.rand(t.shape, generator=gen) * 0.4 + 0.1)
            elif t.dim() == 1:  # other BN gammas
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            else:  # conv / linear weights: variance-preserving scale
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_in) ** 0.5)


def calibrate(net, gen, o):
    """Running stats = averages of batch stats over random inputs (as training would leave
    them), so eval-mode activations stay O(1) through 16 blocks and an absolute tolerance
    of 1e-4 is meaningful; then the stats are perturbed so that they are not exact."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        for _ in range(4):
            net.head(net.backbone(torch.randn(8, 3, o.size, o.size, generator=gen)))
        for name, t in net.state_dict().items():
            if name.endswith("running_mean"):
                t.add_(torch.randn(t.shape, generator=gen) * 0.05)
            elif name.endswith("running_var"):
                t.mul_(torch.rand(t.shape, generator=gen) * 0.2 + 0.9)
            elif name.endswith("num_batches_tracked"):
                t.fill_(7)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.1
    net.eval()


def make_network(o, gen):
    block, layers, exp = ARCHS[o.arch]
    backbone = ResNetW(block, layers, o.width, o.cifar_stem)
    dim = o.width * 8 * exp
    net = Wrapper(backbone, CarpHead(dim, o.hidden, o.bottleneck, o.prototypes))
    randomise(net, gen, "bn3" if exp == 4 else "bn2", gain_one=not o.random_gain)
    calibrate(net, gen, o)
    return net, dim


def training_dict(teacher, student, o):
    ts = {"module." + k: v for k, v in teacher.state_dict().items()}
    ss = {"module." + k: v for k, v in student.state_dict().items()}
    params = [p for p in student.parameters() if p.requires_grad]
    opt = {  # the shape of the reference's LARS state, for a few parameters only
        "state": {i: {"mu": torch.zeros_like(p)} for i, p in enumerate(params[:3])},
        "param_groups": [
            {"lr": 0.3, "weight_decay": 1e-6, "momentum": 0.9, "eta": 0.001, "params": [0, 1]},
            {"lr": 0.3, "weight_decay": 0.0, "momentum": 0.9, "eta": 0.001, "params": [2]},
        ],
    }
    args = argparse.Namespace(
        arch=o.arch, out_dim=o.prototypes, bottleneck_dim=o.bottleneck, lr=0.3,
        use_bn_in_head=True, norm_last_layer=True, global_crops_scale=(0.14, 1.0),
        data_path="/path/to/imagenet/train", seed=0, momentum_teacher=0.99, epochs=400,
    )
    scaler = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
              "growth_interval": 2000, "_growth_tracker": 0}
    return {"student": ss, "teacher": ts, "optimizer": opt, "epoch": 400, "args": args,
            "fp16_scaler": scaler}


def write_network_fixture(o):
    gen = torch.Generator().manual_seed(o.seed)
    teacher, dim = make_network(o, gen)
    student, _ = make_network(o, gen)  # different values: the loader must pick the teacher
    x = torch.randn(o.batch, 3, o.size, o.size, generator=gen)
    with torch.no_grad():
        feats = teacher.backbone(x)
        logits = teacher.head(feats)
    ckpt = training_dict(teacher, student, o)
    if o.teacher_only:  # smaller file: what evaluation needs
        ckpt = {k: ckpt[k] for k in ("teacher", "epoch", "args")}
    torch.save(ckpt, os.path.join(o.out, o.name + ".pth"))
    expected = {
        "spec": {"arch": o.arch, "width": o.width, "cifarStem": o.cifar_stem, "inDim": dim,
                 "hiddenDim": o.hidden, "bottleneckDim": o.bottleneck,
                 "numPrototypes": o.prototypes},
        "inputShapeNCHW": list(x.shape),
        "input": x.flatten().tolist(),
        "features": feats.flatten().tolist(),
        "logits": logits.flatten().tolist(),
        "torch": torch.__version__,
    }
    with open(os.path.join(o.out, o.name + ".expected.json"), "w") as f:
        json.dump(expected, f)


def write_dtype_fixture(out):
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 8 - 1
    shared = torch.arange(10, dtype=torch.float32)
    tensors = {
        "f32": base,
        "f32_transposed": base.permute(2, 0, 1),  # general strides
        "f32_slice": base[1, 1:, ::2],  # storage offset + strides
        "f64": torch.tensor([1.0 / 3, -2.5e-300, 1e300], dtype=torch.float64),
        "f16": torch.tensor([1.5, -0.0001, 65504.0, float("inf")], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -3.140625, 1e30], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**40), 0, 2**53 + 1], dtype=torch.int64),
        "i32": torch.tensor([[-7, 2**31 - 1]], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 5),
        "shared_a": shared[2:5],
        "shared_b": shared[5:],
        "param": nn.Parameter(torch.tensor([[1.0, 2.0]])),
    }
    obj = {
        "tensors": tensors,
        "nested": {"list": [1, 2.5, "x", None, True], "tuple": (1, (2, 3)), 7: "int key",
                   "big": 2**70, "neg": -5, "bytes": b"\x00\xff"},
        "args": argparse.Namespace(lr=0.3, arch="resnet50", crops=[2, 6], flag=False, none=None),
    }
    torch.save(obj, os.path.join(out, "dtypes.pth"))
    # The same object in the pre-1.6 format (pickles back to back, no zip).
    torch.save(obj, os.path.join(out, "dtypes-legacy.pth"), _use_new_zipfile_serialization=False)

    def dump(t):
        t = t.detach()
        vals = t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
        vals = [str(v) for v in vals.flatten().tolist()] if t.dtype == torch.int64 else \
            [v if v == v and abs(v) != float("inf") else str(v) for v in vals.flatten().tolist()]
        return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": vals}

    with open(os.path.join(out, "dtypes.expected.json"), "w") as f:
        json.dump({k: dump(v) for k, v in tensors.items()}, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="test/fixtures/interop")
    p.add_argument("--name", default="tiny-carp")
    p.add_argument("--arch", default="resnet18", choices=sorted(ARCHS))
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--cifar-stem", dest="cifar_stem", action="store_true", default=True)
    p.add_argument("--no-cifar-stem", dest="cifar_stem", action="store_false")
    p.add_argument("--hidden", type=int, default=24)
    p.add_argument("--bottleneck", type=int, default=8)
    p.add_argument("--prototypes", type=int, default=16)
    p.add_argument("--random-gain", action="store_true", help="weight_g ≠ 1 (tests its use)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--teacher-only", action="store_true", help="omit student/optimizer")
    p.add_argument("--no-dtypes", dest="dtypes", action="store_false")
    o = p.parse_args()
    os.makedirs(o.out, exist_ok=True)
    torch.manual_seed(o.seed)
    write_network_fixture(o)
    if o.dtypes:
        write_dtype_fixture(o.out)


if __name__ == "__main__":
    main()
