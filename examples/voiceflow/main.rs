//! The `voiceflow` command-line program (filled by the transcription issue).

fn main() {
    println!("voiceflow {}", env!("CARGO_PKG_VERSION"));
}
