//! The MUA pipelines: [`v1`] (`mua_v1`: MuaEventsParameters and MuaEventsV1 —
//! high-synchrony events of a sorted-spikes group's multiunit activity during
//! immobility, by `spyglass-ripple`'s `multiunit_HSE_detector`).

crate::kit::family! {
    v1 => MuaV1,
}
