"""Mesh mappers and composers: how a torch tensor is split over, and gathered from, the devices of a mesh."""

from __future__ import annotations

import torch

from .device import MeshDevice


class MeshMapper:
    def __init__(self, mesh_device: MeshDevice, dim: int | None) -> None:
        self.num_devices = mesh_device.get_num_devices()
        self.dim = dim

    def map(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        if self.dim is None:
            return [tensor] * self.num_devices
        size = tensor.shape[self.dim]
        if size % self.num_devices:
            raise RuntimeError(
                f"ShardTensorToMesh: dimension {self.dim} of size {size} does not split evenly over "
                f"{self.num_devices} devices"
            )
        return list(torch.chunk(tensor, self.num_devices, dim=self.dim))


class MeshComposer:
    def __init__(self, mesh_device: MeshDevice, dim: int) -> None:
        self.num_devices = mesh_device.get_num_devices()
        self.dim = dim

    def compose(self, shards: list[torch.Tensor]) -> torch.Tensor:
        if len(shards) != self.num_devices:
            raise RuntimeError(f"ConcatMeshToTensor: expected {self.num_devices} shards, got {len(shards)}")
        return torch.cat(shards, dim=self.dim)


def shard_tensor_to_mesh_mapper(mesh_device: MeshDevice, dim: int) -> MeshMapper:
    return MeshMapper(mesh_device, dim)


def replicate_tensor_to_mesh_mapper(mesh_device: MeshDevice) -> MeshMapper:
    return MeshMapper(mesh_device, None)


def concat_mesh_to_tensor_composer(mesh_device: MeshDevice, dim: int) -> MeshComposer:
    return MeshComposer(mesh_device, dim)


def ShardTensorToMesh(mesh_device: MeshDevice, dim: int) -> MeshMapper:
    return shard_tensor_to_mesh_mapper(mesh_device, dim)


def ReplicateTensorToMesh(mesh_device: MeshDevice) -> MeshMapper:
    return replicate_tensor_to_mesh_mapper(mesh_device)


def ConcatMeshToTensor(mesh_device: MeshDevice, dim: int) -> MeshComposer:
    return concat_mesh_to_tensor_composer(mesh_device, dim)
