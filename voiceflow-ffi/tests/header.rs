//! The committed C header must be what cbindgen generates from the sources
//! now. `VOICEFLOW_BLESS_HEADER=1` (or `make header`) rewrites it instead.

use std::path::Path;

#[test]
fn the_committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen cannot generate the header")
        .write(&mut generated);
    let header = crate_dir.join("../include/voiceflow.h");
    if std::env::var_os("VOICEFLOW_BLESS_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&header, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `make header` and commit it",
        header.display()
    );
}
