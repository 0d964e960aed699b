# Writes an NWB file with ndx-pose PoseEstimation containers (the oracle for the
# pose reader) and prints, as JSON, what pynwb reads back from it: per series the data
# in units (data * conversion + offset), confidence, timestamps, object ids, and the
# skeletons. Usage: make_pose.py OUT.nwb
import datetime
import json
import sys

import numpy as np
from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
from pynwb import NWBHDF5IO, NWBFile

rng = np.random.default_rng(7)
nwb = NWBFile("pose fixture", "pose-0001", datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
behavior = nwb.create_processing_module("behavior", "pose")
mouse = Skeleton(name="mouse", nodes=["nose", "ear_L", "tail"], edges=np.array([[0, 1], [1, 2]], dtype="uint8"))
head = Skeleton(name="head", nodes=["greenLED", "redLED_C"], edges=np.array([[0, 1]], dtype="uint8"))
behavior.add(Skeletons(skeletons=[mouse, head]))

n = 250
t = 10.0 + np.cumsum(rng.uniform(0.03, 0.035, n))
nose = PoseEstimationSeries(
    name="nose", data=rng.uniform(0, 640, (n, 2)), unit="pixels", reference_frame="(0,0) top left",
    timestamps=t, confidence=rng.uniform(0, 1, n), confidence_definition="DLC likelihood",
)
ear = PoseEstimationSeries(  # timestamps linked to nose's, data scaled by conversion
    name="ear_L", data=rng.uniform(0, 640, (n, 2)), unit="cm", conversion=0.05, reference_frame="(0,0) top left",
    timestamps=nose, confidence=rng.uniform(0, 1, n),
)
tail = PoseEstimationSeries(  # 3-D
    name="tail", data=rng.uniform(-5, 5, (n, 3)), unit="pixels", reference_frame="(0,0) top left", timestamps=nose,
    confidence=rng.uniform(0, 1, n),
)
pe1 = PoseEstimation(
    name="PoseEstimation", pose_estimation_series=[nose, ear, tail], description="mouse pose",
    original_videos=["cam1.mp4"], labeled_videos=["cam1_labeled.mp4"], dimensions=np.array([[640, 480]], dtype="uint16"),
    scorer="DLC_resnet50_mouseJan1shuffle1_100000", source_software="DeepLabCut", source_software_version="2.3.8",
    skeleton=mouse,
)
m = 120
g = PoseEstimationSeries(  # regular sampling: starting_time and rate
    name="greenLED", data=rng.uniform(0, 100, (m, 2)), unit="pixels", reference_frame="top left",
    starting_time=3.5, rate=30.0, confidence=rng.uniform(0.9, 1, m),
)
r = PoseEstimationSeries(
    name="redLED_C", data=rng.uniform(0, 100, (m, 2)), unit="pixels", reference_frame="top left",
    starting_time=3.5, rate=30.0, confidence=rng.uniform(0.9, 1, m),
)
pe2 = PoseEstimation(name="head_pose", pose_estimation_series=[g, r], description="head LEDs", skeleton=head,
                     source_software="SLEAP")
behavior.add(pe1)
behavior.add(pe2)
with NWBHDF5IO(sys.argv[1], "w") as io:
    io.write(nwb)

out = {}
with NWBHDF5IO(sys.argv[1], "r") as io:
    f = io.read()
    for pe in (f.processing["behavior"]["PoseEstimation"], f.processing["behavior"]["head_pose"]):
        series = {}
        for name, s in pe.pose_estimation_series.items():
            series[name] = dict(
                object_id=s.object_id, unit=s.unit, reference_frame=s.reference_frame,
                data=np.asarray(s.get_data_in_units()).tolist(),
                confidence=None if s.confidence is None else np.asarray(s.confidence[:]).tolist(),
                confidence_definition=s.confidence_definition if s.confidence is not None else None,
                timestamps=np.asarray(s.get_timestamps()).tolist(), rate=s.rate,
            )
        sk = pe.skeleton
        out[pe.name] = dict(
            object_id=pe.object_id, description=pe.description, scorer=pe.scorer,
            source_software=pe.source_software, source_software_version=pe.source_software_version,
            original_videos=None if pe.original_videos is None else list(pe.original_videos),
            dimensions=None if pe.dimensions is None else np.asarray(pe.dimensions).ravel().tolist(),
            skeleton=dict(name=sk.name, object_id=sk.object_id, nodes=list(sk.nodes[:]),
                          edges=np.asarray(sk.edges[:]).tolist()),
            series=series,
        )
print(json.dumps(out))
