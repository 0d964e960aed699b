# Scores a sorting against the ground truth with SpikeInterface's
# compare_sorter_to_ground_truth (delta_time 0.4 ms).
# argv: gt.json ours.json ; ours.json = {unit_id: [sample, ...]}; prints per-unit accuracy.
import sys, json
import numpy as np
import spikeinterface.full as si
gt = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
fs = gt['fs']
gts = si.NumpySorting.from_unit_dict([{k: np.array(v, dtype='int64') for k, v in gt['units'].items()}], fs)
if len(ours) == 0:
    ours = {'none': []}
tested = si.NumpySorting.from_unit_dict([{k: np.array(v, dtype='int64') for k, v in ours.items()}], fs)
cmp = si.compare_sorter_to_ground_truth(gts, tested, delta_time=0.4)
perf = cmp.get_performance()
print(json.dumps({str(u): float(perf.loc[u, 'accuracy']) for u in perf.index}))
