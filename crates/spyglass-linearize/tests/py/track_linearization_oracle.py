"""Runs track_linearization (as Spyglass's LinearizedPositionV1 calls it) for the
oracle test and the bench of spyglass-linearize.

argv: spec.json positions.f64 out_prefix
spec: node_positions, edges, edge_order, edge_spacing (number or list), edge_map
(list of [from, to] pairs or null), runs (list of parameter dicts: use_hmm,
route_euclidean_distance_scaling, sensor_std_dev, diagonal_bias, and the
samples to use: start, n_samples).
Writes out_prefix.<k>.f64 per run (n × 4 little-endian float64: linear_position,
track_segment_id, projected_x_position, projected_y_position) and prints JSON:
seconds per run and the peak resident memory of this process.
"""

import json
import resource
import sys
import time

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
from track_linearization import get_linearized_position, make_track_graph

# With the versions Spyglass 0.6 pins (networkx 3.6.1, scipy 1.12.0) the HMM fails:
# networkx hands scipy's dijkstra a sparse array with int64 indices, which scipy
# 1.12 rejects ("Buffer dtype mismatch, expected 'const int' but got 'long'"). The
# oracle gives dijkstra the same graph with int32 indices (explicit zero-length
# edges kept, as newer scipy takes them); the algorithm is unchanged.
_dijkstra = scipy.sparse.csgraph.dijkstra


def _dijkstra_int32_indices(csgraph, *args, **kwargs):
    graph = scipy.sparse.csr_array(csgraph)
    graph.indices = graph.indices.astype(np.int32)
    graph.indptr = graph.indptr.astype(np.int32)
    return _dijkstra(graph, *args, **kwargs)


scipy.sparse.csgraph.dijkstra = _dijkstra_int32_indices

spec_path, positions_path, out_prefix = sys.argv[1:4]
with open(spec_path) as f:
    spec = json.load(f)
position = np.fromfile(positions_path, dtype="<f8").reshape(-1, 2)
# as DataJoint blobs hand them to Spyglass: arrays
node_positions = np.asarray(spec["node_positions"], dtype=float)
edges = np.asarray(spec["edges"], dtype=np.int64)
edge_order = np.asarray(spec["edge_order"], dtype=np.int64)
spacing = spec["edge_spacing"]
edge_map = None if spec["edge_map"] is None else {int(a): int(b) for a, b in spec["edge_map"]}

seconds = []
for k, run in enumerate(spec["runs"]):
    start = run.get("start") or 0
    n = run.get("n_samples") or len(position) - start
    track_graph = make_track_graph(node_positions=node_positions, edges=edges)
    t0 = time.perf_counter()
    df = get_linearized_position(
        position=position[start : start + n],
        track_graph=track_graph,
        edge_spacing=spacing,
        edge_order=edge_order,
        use_HMM=run["use_hmm"],
        route_euclidean_distance_scaling=run["route_euclidean_distance_scaling"],
        sensor_std_dev=run["sensor_std_dev"],
        diagonal_bias=run["diagonal_bias"],
        edge_map=edge_map,
    )
    seconds.append(time.perf_counter() - t0)
    out = np.column_stack(
        [
            df["linear_position"].to_numpy(dtype=float),
            df["track_segment_id"].to_numpy(dtype=float),
            df["projected_x_position"].to_numpy(dtype=float),
            df["projected_y_position"].to_numpy(dtype=float),
        ]
    )
    out.astype("<f8").tofile(f"{out_prefix}.{k}.f64")

peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak_kb}))
