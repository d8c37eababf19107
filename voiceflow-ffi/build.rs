//! Gives the shared library the SONAME `libvoiceflow.so.0` on Linux, so that
//! programs linked against it ask for ABI version 0 at run time.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvoiceflow.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
