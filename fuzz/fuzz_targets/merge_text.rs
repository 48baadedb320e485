#![no_main]
use libfuzzer_sys::fuzz_target;
use packwright_hook::merge::ConfigSyntax;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::run(ConfigSyntax::Text, data));
