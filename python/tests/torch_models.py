"""Small nn.Modules for test_torch.py: in-place ops, aliasing, several inputs, untraceable control flow."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InPlaceBranches(nn.Module):
    """Every in-place spelling, a mutated tensor read before and after the mutation, two branches."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.left = nn.Conv2d(4, 4, 1)
        self.right = nn.Conv2d(4, 4, 3, padding=1)
        self.act = nn.ReLU(inplace=True)
        self.fc = nn.Linear(4 * 8 * 8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.relu_()  # mutates the caller's tensor in the original model
        y = self.conv(x)
        z = y * 2  # reads y before the mutation below
        y.add_(1)  # later readers of y see y + 1
        a = self.act(self.left(y))
        b = F.relu(self.right(y), inplace=True)
        w = torch.relu_(a + b + z)
        w += y  # operator.iadd on a fresh tensor
        return self.fc(torch.flatten(w, 1))


class TwoInputs(nn.Module):
    """forward(a, b): two graph inputs, the second used only late (it crosses many cuts)."""

    def __init__(self) -> None:
        super().__init__()
        self.a1 = nn.Linear(6, 8)
        self.a2 = nn.Linear(8, 8)
        self.b1 = nn.Linear(3, 8)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.a2(torch.relu(self.a1(a))))
        return h + self.b1(b), b * 2


class DataDependent(nn.Module):
    """Python control flow on a tensor value: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.fc(x)
        return x


class MutatesBuffer(nn.Module):
    """An in-place update of model state: cannot be made out of place."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros(4))
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.count.add_(1)
        return self.fc(x) + self.count


class AssignsItem(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2
        y[:, 0] = 0
        return y


class InPlaceOnView(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2
        y.view(-1).relu_()
        return y


class UsesParameters(nn.Module):
    """Parameters read directly (get_attr) on both sides of any cut, and a node computed from them alone."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(6, 6))
        self.scale = nn.Parameter(torch.tensor(0.5))
        self.fc = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(x @ self.w)
        h = h * self.scale + x
        wt = self.w.t() * 2  # depends on no input: folded into its users, never a layer
        return self.fc(torch.tanh(h @ wt) * self.scale)
