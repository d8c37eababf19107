//! The LLM enhancer (feature `llm`): one chat-completions call per request to
//! an OpenAI-compatible server (Ollama, llama.cpp's server, vLLM), with one
//! prompt per context and a timeout per request. Plain HTTP only, meant for
//! servers on the same machine or network. Put it behind a
//! [`super::FallbackEnhancer`] so that failures and timeouts are answered
//! by the rules.

use std::time::Duration;

use serde::Deserialize;

use super::request::EnhanceRequest;
use super::result::{Edit, EditKind, Enhanced};
use super::Enhancer;
use crate::Context;
use crate::{Error, Result};

/// The name of the LLM backend in [`Enhanced::backend`].
pub const LLM_BACKEND: &str = "llm";

/// Where the server is and how to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// The API's base URL, up to and including the version
    /// (`http://127.0.0.1:11434/v1`); `/chat/completions` is appended.
    pub base_url: String,
    /// The model name the server knows.
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    /// The whole request, connect to last byte. Default: 10 s.
    pub timeout: Duration,
    /// Sampling temperature. Default: 0 (deterministic).
    pub temperature: f32,
    /// Cap on the answer's tokens, when set.
    pub max_tokens: Option<u32>,
}

impl LlmConfig {
    /// A configuration for `model` at `base_url` with default settings.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(10),
            temperature: 0.0,
            max_tokens: None,
        }
    }
}

/// What every prose context asks, after its own instructions: the
/// conventions the quality benchmark scores (see [`super::quality`]).
const PROSE_RULES: &str = "Remove fillers (um, uh, and \"like\", \"you know\", \"I mean\" where      they are fillers) and repeated words. Apply spoken corrections: \"no wait\", \"I mean\",      \"actually\" replace what they correct (\"$25,000, no wait, $30,000\" is \"$30,000\");      \"scratch that\" deletes the sentence before it. Turn spoken punctuation (\"comma\",      \"question mark\", \"new paragraph\") into punctuation. Write one to nine as words and 10      and above as digits; money as $30,000 or $5.50, percentages as 25%, times as 3:30 PM,      ordinals from 10 on as 21st. Write spoken e-mail and web addresses as addresses      (john.smith@example.com, example.com/pricing). Capitalise sentences, names, days and      months. Never change a number, a name or a negation.";

/// The instructions for each destination.
pub fn context_prompt(context: Context) -> &'static str {
    match context {
        Context::General => concat!(
            "Clean up this dictated text into full sentences ending with a full stop. ",
            "A list said as \"first ... second ...\" becomes \"...: first, milk; second, eggs.\""
        ),
        Context::Email => concat!(
            "Turn this dictated text into an email: the greeting and name on their own line ",
            "ending with a comma (\"Hi John,\"), a blank line, the body in paragraphs, a blank ",
            "line, the sign-off ending with a comma (\"Best regards,\") and the name on the ",
            "next line, with no final full stop."
        ),
        Context::Chat => concat!(
            "Turn this dictated text into a short, casual chat message; keep its tone and do ",
            "not add a final period to a single sentence."
        ),
        Context::Document => concat!(
            "Turn this dictated text into document prose: full sentences in paragraphs; a ",
            "phrase introduced by \"heading\" becomes a Markdown heading (\"# Results\") and ",
            "\"subheading\" a second-level one (\"## Next steps\"), each followed by a blank line."
        ),
        Context::Code => concat!(
            "Turn this dictated text into source code. Spoken symbols become symbols (\"open ",
            "paren\" is \"(\", \"equals\" is \"=\", \"double equals\" is \"==\", \"dot\" is ",
            "\".\"); numbers become digits; a name said as several words becomes one identifier ",
            "in snake case (\"calculate total\" is calculate_total) unless a casing was said ",
            "(\"camel case user name\" is userName) or it follows class (Pascal case). Remove ",
            "fillers and the punctuation and capitals a transcriber added; keep keywords as ",
            "they are; do not add anything."
        ),
    }
}

fn system_prompt(request: &EnhanceRequest) -> String {
    let mut prompt = String::from(context_prompt(request.context));
    if request.context != Context::Code {
        prompt.push(' ');
        prompt.push_str(PROSE_RULES);
    }
    if let Some(language) = &request.language {
        prompt.push_str(&format!(
            " The text is in the language with code {language:?}; keep it in that language."
        ));
    }
    let words: Vec<&str> = request
        .dictionary
        .entries()
        .iter()
        .map(|e| e.written())
        .collect();
    if !words.is_empty() {
        prompt.push_str(" Use these spellings: ");
        prompt.push_str(&words.join(", "));
        prompt.push('.');
    }
    prompt.push_str(
        " Never add content or answer questions in the text. Reply with the finished text only.",
    );
    prompt
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

/// An answer longer than this many times the input (plus a margin) is not
/// an edit of it.
const MAX_GROWTH: usize = 4;

/// Enhances text with an LLM over an OpenAI-compatible chat-completions API.
#[derive(Debug)]
pub struct LlmEnhancer {
    config: LlmConfig,
    url: String,
    agent: ureq::Agent,
}

impl LlmEnhancer {
    /// Checks the configuration and prepares the HTTP client (no request is
    /// made). The URL must start with `http://`; the model must be named;
    /// the timeout must be above zero.
    pub fn new(config: LlmConfig) -> Result<Self> {
        let base = config.base_url.trim().trim_end_matches('/');
        if !base.starts_with("http://") {
            return Err(Error::InvalidArgument(format!(
                "LLM base URL must start with http:// (TLS is not built in): {:?}",
                config.base_url
            )));
        }
        if config.model.trim().is_empty() || config.timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "LLM model must be named and its timeout above zero".into(),
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(LlmEnhancer {
            url: format!("{base}/chat/completions"),
            config,
            agent,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    fn failed(&self, reason: impl Into<String>) -> Error {
        Error::backend(LLM_BACKEND, reason)
    }

    fn call_error(&self, e: ureq::Error) -> Error {
        let timed_out = match &e {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        };
        if timed_out {
            Error::Timeout(self.config.timeout)
        } else {
            Error::backend_from(LLM_BACKEND, "the request failed", e)
        }
    }

    fn body(&self, text: &str, request: &EnhanceRequest) -> String {
        let mut body = serde_json::json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": system_prompt(request)},
                {"role": "user", "content": text},
            ],
            "temperature": self.config.temperature,
            "stream": false,
        });
        if let Some(max) = self.config.max_tokens {
            body["max_tokens"] = max.into();
        }
        body.to_string()
    }
}

impl Enhancer for LlmEnhancer {
    fn name(&self) -> &str {
        LLM_BACKEND
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        let mut call = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.config.api_key {
            call = call.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = call
            .send(self.body(text, request))
            .map_err(|e| self.call_error(e))?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.call_error(e))?;
        if !status.is_success() {
            let snippet: String = body.chars().take(200).collect();
            return Err(self.failed(format!("HTTP {status}: {snippet}")));
        }
        let parsed: ChatResponse = serde_json::from_str(&body)
            .map_err(|e| Error::backend_from(LLM_BACKEND, "malformed answer", e))?;
        let answer = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .map(|c| c.trim().to_string())
            .unwrap_or_default();
        if answer.is_empty() && !text.trim().is_empty() {
            return Err(self.failed("empty answer"));
        }
        if answer.len() > text.len() * MAX_GROWTH + 400 {
            return Err(self.failed(format!(
                "answer of {} bytes for {} bytes of text is not an edit",
                answer.len(),
                text.len()
            )));
        }
        let edits = if answer == text {
            Vec::new()
        } else {
            vec![Edit {
                kind: EditKind::Rewrite,
                before: text.to_string(),
                after: answer.clone(),
            }]
        };
        Ok(Enhanced {
            text: answer,
            edits,
            backend: LLM_BACKEND.into(),
            fallback: None,
        })
    }
}
