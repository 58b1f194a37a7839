"""PyTorch's side of the peers harness (PeersHarness.cs): the training workloads of WORKLOADS.md, epoch by epoch.

Reads commands from stdin, one per line, "WORKLOAD THREADS EPOCHS" (WORKLOAD: T1 or T2), and answers each with one line:
the seconds of each epoch, space-separated. The harness alternates these runs with FastNet's in its own process, so
both meet the same machine. "info" answers with the versions and the BLAS PyTorch runs on.

The workloads as TrainingBenchmarks.cs defines them: T1 784-128(ReLU)-10, SGD lr 0.1, batch 64, 200 batches per epoch;
T2 784-1024(ReLU)-1024(ReLU)-10, SGD lr 0.05, batch 256, 20 batches. Random pixels in [0, 1) and random labels held in
memory (speed does not depend on them); each epoch a seeded permutation, batches gathered from it, the last partial
batch dropped, softmax cross-entropy (mean), forward, backward, SGD step: the usual PyTorch loop.

Threads: THREADS is what the OpenBLAS that Debian's python3-torch multiplies with gets (openblas_set_num_threads; its
BLAS is the system libblas.so.3, OpenBLAS when libopenblas0-pthread is installed, and torch 1.13 built against a
generic BLAS does not set that count itself); torch's own intra-op pool (OpenMP) stays at 1 thread. That is PyTorch's
best of the four combinations on a 2-core Zen 5 (T2 samples/s, OPENBLAS_CORETYPE=SkylakeX): OpenBLAS 2 + torch 1 35-40k,
OpenBLAS 2 + torch 2 8.5k (the two pools spin against each other; 39k with OMP_WAIT_POLICY=PASSIVE), OpenBLAS 1 +
torch 2 19k, both 1 19-20k; on T1 likewise (320k, 50k / 272k passive, 148-269k, 212k). The GEMMs are the work.
Run: /usr/bin/python3 train_peer.py (python3-torch, python3-numpy).
"""
import ctypes
import sys
import time

import torch

WORKLOADS = {
    "T1": ([784, 128, 10], 0.1, 64, 200),
    "T2": ([784, 1024, 1024, 10], 0.05, 256, 20),
}


def openblas():
    """The OpenBLAS library this process mapped for torch's BLAS calls, or None."""
    torch.ones(2, 2) @ torch.ones(2, 2)  # makes torch load its BLAS
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line}
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
            library.openblas_get_corename.restype = ctypes.c_char_p
            library.openblas_set_num_threads  # noqa: B018 -- present on OpenBLAS only
            return library
        except (OSError, AttributeError):
            continue
    return None


BLAS = openblas()
# Start-up as a long-running process would be past it: in a process that had not yet run one large product, T1's small
# products on 2 OpenBLAS threads ran ~1.9x slower for good (0.078-0.095 s per epoch against 0.042; Zen 5, OpenBLAS
# 0.3.21; not the malloc mmap threshold, which changed nothing; cause not pinned down). One 1024^3 product first.
torch.rand(1024, 1024) @ torch.rand(1024, 1024)


def build(name):
    widths, learning_rate, batch, batches = WORKLOADS[name]
    torch.manual_seed(1)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    samples = batch * batches
    pixels = torch.rand(samples, widths[0])
    labels = torch.randint(0, widths[-1], (samples,))
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    return model, optimizer, pixels, labels, batch, batches


STATE = {}


def epoch(name, generator):
    model, optimizer, pixels, labels, batch, batches = STATE[name]
    loss_function = torch.nn.CrossEntropyLoss()
    order = torch.randperm(pixels.shape[0], generator=generator)
    for b in range(batches):
        rows = order[b * batch:(b + 1) * batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(pixels[rows]), labels[rows])
        loss.backward()
        optimizer.step()


def main():
    generator = torch.Generator().manual_seed(1)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "info":
            core = BLAS.openblas_get_corename().decode() if BLAS else "not OpenBLAS"
            print(f"PyTorch {torch.__version__}, BLAS: OpenBLAS {core} kernels" if BLAS else f"PyTorch {torch.__version__}, BLAS: {core}", flush=True)
            continue
        name, threads, epochs = words[0], int(words[1]), int(words[2])
        torch.set_num_threads(1 if BLAS else threads)
        if BLAS:
            BLAS.openblas_set_num_threads(threads)
        if name not in STATE:
            STATE[name] = build(name)
        seconds = []
        for _ in range(epochs):
            start = time.perf_counter()
            epoch(name, generator)
            seconds.append(time.perf_counter() - start)
        print(" ".join(f"{s:.6f}" for s in seconds), flush=True)


if __name__ == "__main__":
    main()
