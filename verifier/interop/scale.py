"""Scale-out beyond one machine: the same work units (traversal roots, simplicial cones) on a Ray cluster.

`--ray local` starts a Ray instance on this machine; `--ray ADDRESS` (e.g. `auto`, `10.0.0.5:6379`,
`ray://head:10001`) joins a running cluster.  A `RayMapper` is passed where a worker count goes
(`workers=`): the code that spreads work asks it for an *ordered* map, so results are summed in the same
order as on one process and the certificate, or the kernel's verdict, is byte-identical (the kernel only
receives the mapper; it never imports Ray, and the work each remote task does is the kernel's own function).

Ray is an optional extra: `pip install -e '.[ray]'`.
"""

from __future__ import annotations

from ..errors import InputError


def _apply(fn, chunk):
    return [fn(x) for x in chunk]


class RayMapper:
    """An ordered map over Ray tasks, `chunksize` items per task."""

    def __init__(self, address: str = "local", chunksize: int = 8):
        try:
            import ray
        except ImportError:
            raise InputError("--ray needs Ray, which is not installed: pip install -e '.[ray]'") from None
        kwargs = dict(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                      logging_level="ERROR", configure_logging=False)
        if address not in ("local", "auto") and not address.startswith("ray://"):
            _reachable(address)  # Ray itself retries an unreachable head for a long time, then exits the process
        try:
            ray.init(**kwargs) if address == "local" else ray.init(address=address, **kwargs)
        except (ConnectionError, ValueError, RuntimeError, SystemExit) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"--ray {address}: cannot start or join a Ray cluster ({text})") from None
        self.ray, self.address, self.chunksize = ray, address, max(1, chunksize)
        self._remote = ray.remote(_apply)

    @property
    def size(self) -> int:
        """CPUs the cluster offers (for progress and sizing only)."""
        return int(self.ray.cluster_resources().get("CPU", 1))

    def map(self, fn, items, chunksize: int | None = None):
        """fn over items on the cluster; results in the items' order (this mapper's own chunk size is used: the
        argument is the local pools' and is ignored here)."""
        items = list(items)
        refs = [self._remote.remote(fn, items[i:i + self.chunksize]) for i in range(0, len(items), self.chunksize)]
        for ref in refs:
            yield from self.ray.get(ref)

    def __repr__(self) -> str:
        return f"RayMapper({self.address!r})"


def _reachable(address: str, seconds: float = 5.0) -> None:
    """A host:port head address must accept a TCP connection within `seconds`."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address}: expected 'local', 'auto', HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise InputError(f"--ray {address}: no Ray head answers there ({exc.strerror or exc})") from None
