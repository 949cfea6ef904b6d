"""Worker of test_gather: run with ``torchrun --nproc_per_node 2`` (gloo, CPU).

Each process takes its half of a fixed batch, computes the SHRe contrastive
loss with gathered features, averages gradients over processes as DDP does,
and compares loss and gradients with one process on the whole batch. Rank 0
writes the largest differences as JSON to the path in argv[1].
"""

import json
import sys

import torch
import torch.distributed as dist
from shre_distill.losses import SHReLoss


def make_batch(batch_size=8, width=6, classes=5):
    generator = torch.Generator().manual_seed(0)
    image = {
        name: torch.randn(batch_size, dim, generator=generator)
        for name, dim in (("hidden", 4 * width), ("proj", width), ("logits", classes))
    }
    text = {
        name: torch.randn(batch_size, dim, generator=generator)
        for name, dim in (("hidden", 4 * width), ("proj", width), ("logits", classes))
    }
    teacher = torch.randn(batch_size, classes, generator=generator)
    return image, text, teacher


def loss_and_grads(image, text, teacher):
    image = {name: value.clone().requires_grad_(True) for name, value in image.items()}
    text = {name: value.clone().requires_grad_(True) for name, value in text.items()}
    criterion = SHReLoss()
    loss = criterion(image, text, teacher)["loss"]
    loss.backward()
    grads = {f"image_{name}": value.grad for name, value in image.items()}
    grads.update({f"text_{name}": value.grad for name, value in text.items()})
    grads["logit_scale"] = criterion.logit_scale.grad
    return loss.detach(), grads


def main() -> None:
    dist.init_process_group("gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    image, text, teacher = make_batch()
    rows = slice(rank * 4, (rank + 1) * 4)

    local_loss, local_grads = loss_and_grads(
        {name: value[rows] for name, value in image.items()},
        {name: value[rows] for name, value in text.items()},
        teacher[rows],
    )
    # DDP averages parameter gradients over processes; feature gradients of
    # this rank's rows, divided by the world size, are what that average gives.
    dist.all_reduce(local_loss)
    local_loss /= world_size
    scale_grad = local_grads.pop("logit_scale").clone()
    dist.all_reduce(scale_grad)
    scale_grad /= world_size
    feature_grads = {name: grad / world_size for name, grad in local_grads.items()}

    dist.destroy_process_group()
    full_loss, full_grads = loss_and_grads(image, text, teacher)
    differences = {
        "loss": (local_loss - full_loss).abs().item(),
        "logit_scale": (scale_grad - full_grads["logit_scale"]).abs().max().item(),
    }
    for name, grad in feature_grads.items():
        differences[name] = (grad - full_grads[name][rows]).abs().max().item()
    if rank == 0:
        with open(sys.argv[1], "w", encoding="utf-8") as file:
            json.dump(differences, file)


if __name__ == "__main__":
    main()
