"""SpikeInterface 0.105's numbers behind the sorting pictures, on the traces and spike
samples the test wrote: templates (all spikes, average), the extremum (neg) channel of
each template, spike amplitudes with that main channel, and autocorrelograms.
Args: a folder with traces.f32 (samples x channels) and in.json
{fs, n_channels, locations, trains, ms_before, ms_after, window_ms, bin_ms}; prints JSON."""
import json, os, sys
import numpy as np
import spikeinterface.core as sc
from spikeinterface.core.template_tools import get_template_extremum_channel
from spikeinterface.postprocessing import compute_correlograms

d = sys.argv[1]
a = json.load(open(os.path.join(d, "in.json")))
fs, nc = a["fs"], a["n_channels"]
traces = np.fromfile(os.path.join(d, "traces.f32"), dtype="<f4").reshape(-1, nc)
rec = sc.NumpyRecording([traces], sampling_frequency=fs)
rec.set_channel_locations(np.asarray(a["locations"], dtype="float64"))
units = {u: np.asarray(t, dtype="int64") for u, t in enumerate(a["trains"])}
sorting = sc.NumpySorting.from_unit_dict([units], sampling_frequency=fs)

def analyzer(main=None):
    an = sc.create_sorting_analyzer(sorting, rec, sparse=False, peak_sign="neg",
                                    main_channel_indices=main, seed=0)
    an.compute("random_spikes", method="all")
    an.compute("waveforms", ms_before=a["ms_before"], ms_after=a["ms_after"])
    an.compute("templates", operators=["average"])
    return an

a0 = analyzer()
main = get_template_extremum_channel(a0, peak_sign="neg", mode="extremum", outputs="index")
main = [int(main[u]) for u in sorting.unit_ids]
an = analyzer(np.asarray(main))
an.compute("spike_amplitudes")
amps = an.get_extension("spike_amplitudes").get_data(outputs="by_unit")[0]
tpl = an.get_extension("templates").get_data(operator="average")
ccg, _ = compute_correlograms(sorting, window_ms=a["window_ms"], bin_ms=a["bin_ms"], method="numpy")
print(json.dumps(dict(
    main=main,
    nbefore=int(an.get_extension("waveforms").nbefore),
    templates=[tpl[u].ravel().tolist() for u in range(len(units))],
    amplitudes=[np.asarray(amps[u], dtype="float64").tolist() for u in sorting.unit_ids],
    acg=[ccg[u, u].tolist() for u in range(len(units))],
)))
