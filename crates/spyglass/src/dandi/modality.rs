//! DANDI's modalities: the pynwb module defining each neurodata type, and the
//! modalities a file's name lists (`dandi.pynwb_utils`, `dandi/organize.py`).

use std::collections::BTreeSet;

/// Neurodata types pynwb defines and the module (DANDI "modality") defining them,
/// as `dandi.pynwb_utils.get_neurodata_types_to_modalities_map()` returns them for
/// pynwb 4.2. Extension types and hdmf tables have none.
const MODALITIES: &[(&str, &str)] = &[
    ("AbstractFeatureSeries", "misc"),
    ("AnnotationSeries", "misc"),
    ("BaseImage", "base"),
    ("BehavioralEpochs", "behavior"),
    ("BehavioralEvents", "behavior"),
    ("BehavioralTimeSeries", "behavior"),
    ("ClusterWaveforms", "ecephys"),
    ("Clustering", "ecephys"),
    ("CompassDirection", "behavior"),
    ("CorrectedImageStack", "ophys"),
    ("CurrentClampSeries", "icephys"),
    ("CurrentClampStimulusSeries", "icephys"),
    ("DecompositionSeries", "misc"),
    ("Device", "device"),
    ("DeviceModel", "device"),
    ("DfOverF", "ophys"),
    ("ElectricalSeries", "ecephys"),
    ("ElectrodeGroup", "ecephys"),
    ("EventDetection", "ecephys"),
    ("EventWaveform", "ecephys"),
    ("ExternalImage", "base"),
    ("EyeTracking", "behavior"),
    ("FeatureExtraction", "ecephys"),
    ("FilteredEphys", "ecephys"),
    ("Fluorescence", "ophys"),
    ("GrayscaleImage", "image"),
    ("IZeroClampSeries", "icephys"),
    ("Image", "base"),
    ("ImageMaskSeries", "image"),
    ("ImageReferences", "base"),
    ("ImageSegmentation", "ophys"),
    ("ImageSeries", "image"),
    ("Images", "base"),
    ("ImagingPlane", "ophys"),
    ("IndexSeries", "image"),
    ("IntervalSeries", "misc"),
    ("IntracellularElectrode", "icephys"),
    ("LFP", "ecephys"),
    ("LabMetaData", "file"),
    ("MotionCorrection", "ophys"),
    ("MultiContainerInterface", "core"),
    ("NWBContainer", "core"),
    ("NWBData", "core"),
    ("NWBDataInterface", "core"),
    ("NWBFile", "file"),
    ("NWBMixin", "core"),
    ("OnePhotonSeries", "ophys"),
    ("OpticalChannel", "ophys"),
    ("OpticalSeries", "image"),
    ("OptogeneticSeries", "ogen"),
    ("OptogeneticStimulusSite", "ogen"),
    ("PatchClampSeries", "icephys"),
    ("Position", "behavior"),
    ("ProcessingModule", "base"),
    ("PupilTracking", "behavior"),
    ("RGBAImage", "image"),
    ("RGBImage", "image"),
    ("RoiResponseSeries", "ophys"),
    ("ScratchData", "core"),
    ("SpatialSeries", "behavior"),
    ("SpikeEventSeries", "ecephys"),
    ("Subject", "file"),
    ("TimeSeries", "base"),
    ("TwoPhotonSeries", "ophys"),
    ("VoltageClampSeries", "icephys"),
    ("VoltageClampStimulusSeries", "icephys"),
];

/// Modalities DANDI leaves out of file names as trivial.
const TRIVIAL_MODALITIES: [&str; 4] = ["base", "device", "file", "misc"];

/// The pynwb module (DANDI modality) defining a neurodata type, if pynwb defines it.
pub fn modality_of(neurodata_type: &str) -> Option<&'static str> {
    MODALITIES
        .binary_search_by(|(t, _)| (*t).cmp(neurodata_type))
        .ok()
        .map(|i| MODALITIES[i].1)
}

/// The sorted modalities of a file holding groups of these types, trivial ones left out
/// (`ElectricalSeries`, `Position`, `Subject` → `behavior`, `ecephys`).
pub fn modalities<'a>(types: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = types
        .into_iter()
        .filter_map(modality_of)
        .filter(|m| !TRIVIAL_MODALITIES.contains(m))
        .collect();
    set.into_iter().map(str::to_string).collect()
}
