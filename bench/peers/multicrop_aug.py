#!/usr/bin/python3
"""Peer timings for the augmentation rows of src/bench/main.ts: the multi-crop pipeline of
§6 with torchvision transforms on PIL images (DINO's DataAugmentationDINO layout),
one process, one thread — what a torchvision Dataset's __getitem__ runs per image.

Usage: /usr/bin/python3 multicrop_aug.py '<json spec>'
  {"size", "imageChannels", "batch", "warmup", "batches", "seed", "globalSize", "localSize",
   "numLocal", "globalScale", "localScale", "ratio", "flipProb", "jitterProb", "brightness",
   "contrast", "saturation", "hue", "grayscaleProb", "blurSigma", "blurProb",
   "solarizeProb", "mean", "std", "filter"}  (the crops section of a carp-kit config)
Per timed batch: uint8 arrays → PIL (as torchvision's CIFAR10 does) → 2 global + L local
views per image → tensors, collated per view into [B, C, S, S].
Prints one JSON object: {"seconds": [one per timed batch]}.
"""
import json
import random
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image, ImageFilter


class Blur:
    """PIL Gaussian blur with radius σ ~ U(lo, hi), applied with probability p (§6)."""

    def __init__(self, p: float, sigma) -> None:
        self.p, self.lo, self.hi = p, sigma[0], sigma[1]

    def __call__(self, img):
        if self.p <= 0 or random.random() >= self.p:
            return img
        return img.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.lo, self.hi)))


def pipelines(c: dict):
    flip_color = T.Compose(
        [
            T.RandomHorizontalFlip(p=c["flipProb"]),
            T.RandomApply(
                [T.ColorJitter(c["brightness"], c["contrast"], c["saturation"], c["hue"])],
                p=c["jitterProb"],
            ),
            T.RandomGrayscale(p=c["grayscaleProb"]),
        ]
    )
    norm = T.Compose([T.ToTensor(), T.Normalize(c["mean"], c["std"])])
    filt = T.InterpolationMode[c.get("filter", "bicubic").upper()]
    ratio = tuple(c["ratio"])

    def crop(size, scale):
        return T.RandomResizedCrop(size, scale=tuple(scale), ratio=ratio, interpolation=filt)

    g, l = c["globalSize"], c["localSize"]
    return [
        T.Compose([crop(g, c["globalScale"]), flip_color, Blur(c["blurProb"][0], c["blurSigma"]), norm]),
        T.Compose(
            [
                crop(g, c["globalScale"]),
                flip_color,
                Blur(c["blurProb"][1], c["blurSigma"]),
                T.RandomSolarize(128, p=c["solarizeProb"][1]),
                norm,
            ]
        ),
    ] + [
        T.Compose([crop(l, c["localScale"]), flip_color, Blur(c["blurProb"][2], c["blurSigma"]), norm])
    ] * int(c["numLocal"])


def main() -> None:
    c = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    random.seed(c["seed"])
    torch.manual_seed(c["seed"])
    rs = np.random.RandomState(c["seed"])
    shape = (c["batch"], c["size"], c["size"]) + ((c["imageChannels"],) if c["imageChannels"] > 1 else ())
    images = rs.randint(0, 256, size=shape, dtype=np.uint8)
    views = pipelines(c)

    def batch() -> list:
        per_image = [[v(Image.fromarray(a)) for v in views] for a in images]
        return [torch.stack([crops[k] for crops in per_image]) for k in range(len(views))]

    for _ in range(int(c["warmup"])):
        batch()
    seconds = []
    for _ in range(int(c["batches"])):
        t0 = time.perf_counter()
        batch()
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
