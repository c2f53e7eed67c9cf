from . import klodr_bench_floor
