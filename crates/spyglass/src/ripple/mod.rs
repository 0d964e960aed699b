//! The ripple pipelines: [`v1`] (`ripple_v1`: RippleLFPSelection with its
//! RippleLFPElectrode part, RippleParameters and RippleTimesV1 — sharp-wave ripple
//! times from a ripple-band LFP and the animal's speed, by the `spyglass-ripple`
//! detectors); [`plot`] draws its events over the ripple-band LFP.

crate::kit::family! {
    v1 => RippleV1,
}

pub mod plot;
