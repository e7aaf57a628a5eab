"""PyTorch float32 matmul on CUDA, the GPU reference for bench/wgsl.js.

Times C = A @ B at n = 1024, 2048, 4096 with TF32 off (tensor cores would
round the inputs to 10-bit mantissas: not float32), by CUDA events around
each product, median of 20 after warm-up; prints ms and GFLOP/s (2 n^3 per
product). Run on a machine with an NVIDIA GPU: python3 bench/wgsl-torch.py
"""
import statistics
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("no CUDA device: this script times PyTorch on an NVIDIA GPU")

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")
print(f"{torch.cuda.get_device_name(dev)}, torch {torch.__version__}, CUDA {torch.version.cuda}, TF32 off")
print(f"{'n':>5} {'ms':>9} {'GFLOP/s':>9}")

for n in (1024, 2048, 4096):
    gen = torch.Generator(device=dev).manual_seed(n)
    a = torch.randn(n, n, device=dev, dtype=torch.float32, generator=gen)
    b = torch.randn(n, n, device=dev, dtype=torch.float32, generator=gen)
    c = torch.empty(n, n, device=dev, dtype=torch.float32)
    for _ in range(5):  # cuBLAS picks its kernel, the clocks come up
        torch.mm(a, b, out=c)
    torch.cuda.synchronize()
    times = []
    for _ in range(20):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mm(a, b, out=c)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    # Float32, not TF32: against float64, one row's error stays near n * 2^-24 (TF32's is ~sqrt(n) * 2^-11).
    error = (c[:1].double() - a[:1].double() @ b.double()).abs().max().item()
    assert error <= 1e-5 * n, f"n={n}: error {error:.2e} against float64 is not float32's (TF32 on?)"
    ms = statistics.median(times)
    print(f"{n:>5} {ms:>9.3f} {2 * n**3 / (ms * 1e6):>9.0f}")
