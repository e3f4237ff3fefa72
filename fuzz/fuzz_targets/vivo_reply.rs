#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| offpush_fuzz::vivo_reply(data));
