"""Data-parallel training (PyTorch DistributedDataParallel) and the launcher of its ranks.

`train.py` is one process unless WORLD_SIZE > 1 is in its environment (torchrun sets it, and so does `launch` below
with RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT). Then every rank joins one process group (gloo on
CPU, nccl on CUDA, one GPU per local rank) and:
- the per-model BATCH of train.py is the *global* batch: it is cut into WORLD_SIZE x accum shards of equal size; rank
  r computes shards r*accum .. r*accum+accum-1 one after the other (gradient accumulation) and DDP averages the
  gradients, so one optimizer step sees the same batch whatever the number of ranks;
- each shard draws from its own deterministic random stream (data sampling, masking and dropout), so a run with
  2 ranks sees the very samples of a 1-rank run with accum 2 (shard 0 is the stream a plain run has always used);
- rank 0 alone decides when the wall-clock budget is spent and broadcasts that, with its clock, every step (the
  learning-rate schedule and BERT's long-sequence phase follow it), so no rank waits in an allreduce for a rank
  that has stopped; rank 0 alone logs and writes the checkpoint; every rank resumes from that checkpoint.

Debian's torch 1.13 on Python 3.11: `torchrun` fails at start (`'NoneType' object has no attribute 'get'` in
elastic's redirect handling: Python 3.11 no longer iterates the alias members of an IntFlag, so the default
`--redirects 0` / `--tee 0` parse to None). Passing `--redirects 2 --tee 2` (stderr to a log file and the console)
avoids it; `launch` tries torchrun as is, then with that work-around, then starts the ranks itself.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

from common import log


class Ranks:
    """This process's place among the ranks; a single process (world 1) when WORLD_SIZE is not above 1."""

    def __init__(self, device="cpu", accum=1):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0")) if self.world > 1 else 0
        self.local = int(os.environ.get("LOCAL_RANK", self.rank)) if self.world > 1 else 0
        self.accum = max(1, int(accum))
        self.on = self.world > 1
        self.device = device
        self.comm = None
        if self.on:
            import torch
            import torch.distributed as dist
            cuda = str(device).startswith("cuda")
            if cuda:
                self.device = f"cuda:{self.local}"
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if cuda else "gloo")
            self.comm = self.device if cuda else "cpu"

    @property
    def main(self):
        return self.rank == 0

    @property
    def shards(self):
        """The global batch's shards this rank computes, in order (one per accumulation micro-step)."""
        return [self.rank * self.accum + i for i in range(self.accum)]

    @property
    def nshards(self):
        return self.world * self.accum

    def wrap(self, module, find_unused=False):
        """DDP around a module whose forward() computes the loss (no input: each rank samples its own batch)."""
        if not self.on:
            return module
        from torch.nn.parallel import DistributedDataParallel
        # buffers are constants here (GPT's causal mask, a bool tensor that gloo cannot broadcast): not synchronised
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            module, [n for n, _ in module.named_buffers()])
        # device_ids=None: the module lives on one device and forward() takes no input to move
        return DistributedDataParallel(module, device_ids=None, broadcast_buffers=False,
                                       find_unused_parameters=find_unused)

    def agree(self, elapsed, stop):
        """Rank 0's clock and stop decision, the same on every rank."""
        if not self.on:
            return elapsed, stop
        import torch
        import torch.distributed as dist
        t = torch.tensor([elapsed, float(stop)], dtype=torch.float64, device=self.comm)
        dist.broadcast(t, 0)
        return float(t[0]), bool(t[1] > 0)

    def total(self, *values):
        """Sums over the ranks (tokens, losses) of numbers each rank holds."""
        if not self.on:
            return values
        import torch
        import torch.distributed as dist
        t = torch.tensor(values, dtype=torch.float64, device=self.comm)
        dist.all_reduce(t)
        return tuple(float(v) for v in t)

    def spread(self, module):
        """Largest difference of any weight between two ranks (0.0 when the ranks agree bit for bit)."""
        if not self.on:
            return 0.0
        import torch
        import torch.distributed as dist
        with torch.no_grad():
            flat = torch.cat([p.detach().float().reshape(-1) for p in module.state_dict().values()
                              if p.is_floating_point()])
            hi, lo = flat.clone(), flat.clone()
            dist.all_reduce(hi, op=dist.ReduceOp.MAX)
            dist.all_reduce(lo, op=dist.ReduceOp.MIN)
            return float((hi - lo).max())

    def barrier(self):
        if self.on:
            import torch.distributed as dist
            dist.barrier()


def finish():
    """Leave the process group (end of train.py's main)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# ------------------------------------------------------------------------------------------------ launcher
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_TORCHRUN = {}  # ranks -> the torchrun command that works here, or None


def torchrun_prefix(ranks):
    """A single-node torchrun command line that starts here, or None. Tried once per process: a no-op launch of
    `true` as is, then with the Python 3.11 work-around (`--redirects 2 --tee 2`)."""
    if ranks in _TORCHRUN:
        return _TORCHRUN[ranks]
    exe = shutil.which("torchrun")
    found = None
    if exe:
        base = [exe, "--standalone", "--nnodes", "1", "--nproc_per_node", str(ranks)]
        for extra in ([], ["--redirects", "2", "--tee", "2"]):
            try:
                r = subprocess.run(base + extra + ["--no_python", "true"], capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if r.returncode == 0:
                found = base + extra
                break
            last = (r.stderr.strip().splitlines() or ["?"])[-1]
            log(f"launch: torchrun{' ' + ' '.join(extra) if extra else ''} does not start here ({last[:120]})")
    _TORCHRUN[ranks] = found
    return found


def launch(script, args, ranks, env=None, use_torchrun=True):
    """Run `python3 script args` as `ranks` DDP ranks on this machine; the exit status (0 when every rank ended
    well). One rank is a plain process. A failing rank stops the others."""
    env = dict(os.environ if env is None else env)
    if ranks <= 1:
        return subprocess.run([sys.executable, script, *args], env=env).returncode
    prefix = torchrun_prefix(ranks) if use_torchrun else None
    if prefix:
        log(f"launch: {ranks} ranks with {os.path.basename(prefix[0])} {' '.join(prefix[1:])}")
        return subprocess.run(prefix + [script, *args], env=env).returncode
    port = free_port()
    log(f"launch: {ranks} ranks with RANK/WORLD_SIZE/MASTER_ADDR=127.0.0.1/MASTER_PORT={port}")
    procs = []
    for r in range(ranks):
        e = {**env, "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(ranks), "LOCAL_WORLD_SIZE": str(ranks),
             "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, script, *args], env=e))
    while True:
        codes = [p.poll() for p in procs]
        bad = [c for c in codes if c not in (None, 0)]
        if bad:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            return bad[0]
        if all(c == 0 for c in codes):
            return 0
        time.sleep(0.2)
