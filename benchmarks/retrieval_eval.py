"""Time and peak memory of image-text retrieval evaluation with random features.

Scores N images against 5N captions (5k x 25k by default, the COCO Karpathy
test size) through ``RetrievalMetric``: R@1/5/10 both ways plus the SHRe
median rank, on the CPU or a GPU.

    python benchmarks/retrieval_eval.py --images 5000 --dim 768 --chunk-size 1024
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from shre_distill.metrics import RetrievalMetric


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="number of images N")
    parser.add_argument("--captions", type=int, default=5, help="captions per image")
    parser.add_argument("--dim", type=int, default=768, help="feature width")
    parser.add_argument("--chunk-size", type=int, default=1024, help="rows scored at once")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    device = torch.device(args.device)
    generator = torch.Generator(device=device).manual_seed(0)
    num_texts = args.images * args.captions
    images = torch.randn(args.images, args.dim, device=device, generator=generator)
    texts = torch.randn(num_texts, args.dim, device=device, generator=generator)
    image_ids = torch.arange(args.images, device=device)
    text_image_ids = image_ids.repeat_interleave(args.captions)
    caption_index = torch.arange(args.captions, device=device).repeat(args.images)

    metric = RetrievalMetric(layers=("proj",), chunk_size=args.chunk_size).to(device)
    metric.update({"proj": images}, {"proj": texts}, image_ids, text_image_ids, caption_index)

    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    start = time.perf_counter()
    results = metric.compute()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start

    features_mib = (images.numel() + texts.numel()) * 4 / 2**20
    print(
        f"device {device}, {args.images} images x {num_texts} captions, dim {args.dim}, "
        f"chunk {args.chunk_size}"
    )
    print(f"features: {features_mib:.0f} MiB")
    print(f"compute time: {seconds:.2f} s")
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        print(f"peak GPU memory above the stored features: {peak:.0f} MiB")
    else:
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        print(f"peak RSS growth during compute: {grown:.0f} MiB")
    print(
        f"proj_mean_recall {results['proj_mean_recall']:.3f} "
        f"(random {results['random_mean_recall']:.3f}), "
        f"median rank i2t {results['proj_median_rank_i2t']:.1f}"
    )


if __name__ == "__main__":
    main()
