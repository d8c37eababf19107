//! `voiceflow enhance`: the rule enhancer alone, on text from the arguments
//! or from stdin.

use std::io::Read;
use std::process::ExitCode;

use voiceflow_core::enhance::{EnhanceRequest, Enhancer, RuleEnhancer};
use voiceflow_core::{Context, Error, Result};

use crate::settings::ConfigArgs;

#[derive(clap::Args)]
pub struct EnhanceArgs {
    /// Where the text is going (default: ai_enhancement.default_context of
    /// the configuration, else general).
    #[arg(long)]
    context: Option<Context>,
    /// Language code of the text (default: English).
    #[arg(long)]
    language: Option<String>,
    /// Also print each edit (kind: before -> after) on stderr.
    #[arg(long)]
    edits: bool,
    #[command(flatten)]
    config: ConfigArgs,
    /// The text (default: read from stdin).
    text: Vec<String>,
}

/// Prints the finished text; exit 2 on an error.
pub fn run(args: &EnhanceArgs) -> ExitCode {
    match enhance(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            ExitCode::from(2)
        }
    }
}

fn enhance(args: &EnhanceArgs) -> Result<()> {
    let config = args.config.load()?;
    let context = args
        .context
        .or(config.ai_enhancement.default_context)
        .unwrap_or_default();
    let text = if args.text.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                path: "<stdin>".into(),
                source,
            })?;
        text
    } else {
        args.text.join(" ")
    };
    let mut request = EnhanceRequest::new(context);
    if let Some(language) = &args.language {
        request = request.language(language.clone());
    }
    let enhanced = RuleEnhancer.enhance(text.trim(), &request)?;
    println!("{}", enhanced.text);
    if args.edits {
        for edit in &enhanced.edits {
            eprintln!("{}: {:?} -> {:?}", edit.kind, edit.before, edit.after);
        }
    }
    Ok(())
}
